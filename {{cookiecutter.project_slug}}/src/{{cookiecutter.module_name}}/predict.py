"""Predict on the CPU with a saved model, after checking it against its manifest.

Usage: python -m <module>.predict [--model PATH] [--input CSV] [--output CSV]
(or ``make predict ARGS="..."``, or the ``<project>-predict`` command).

Without --model it takes the newest model in models/; without --input, the
held-out test rows of the data the model was trained on.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from . import artifacts, backends, config, data, paths, seed
from .errors import ProjectError, run_command

COMMAND = "predict"


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=f"{__package__}.predict", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--model", type=Path, help="a model's manifest (.json) or weights file")
    parser.add_argument(
        "--models-dir", type=Path, default=paths.in_project("models"), help="where models are"
    )
    parser.add_argument("--input", type=Path, help="CSV of pixel_0..pixel_63 [, label]")
    parser.add_argument("--output", type=Path, help="predictions CSV to write")
    return parser.parse_args(argv)


def find_manifest(args: argparse.Namespace, backend_suffix: str) -> Path:
    if args.model is None:
        return artifacts.latest_manifest(args.models_dir)
    # Model names hold dots (lr0.01), so only a known suffix is replaced.
    if args.model.suffix in (".json", backend_suffix):
        return args.model.with_suffix(".json")
    return args.model.with_name(args.model.name + ".json")


def read_input(args: argparse.Namespace, manifest: dict, manifest_path: Path):
    """Features and labels (or None) to predict on, as numpy arrays."""
    if args.input is not None:
        try:
            raw = args.input.read_bytes()
        except OSError as error:
            raise ProjectError(
                f"input file {args.input} cannot be read: {error.strerror}"
            ) from None
        return data.arrays(data.parse_csv(raw, str(args.input)))
    path = paths.in_project(manifest["data"]["file"])
    raw = data.read_verified(path)
    if artifacts.sha256_bytes(raw) != manifest["data"]["sha256"]:
        raise ProjectError(
            f"data file {path} is not the data that trained {manifest_path} (its sha256 "
            "differs from the manifest's); pass the rows to predict with --input CSV"
        )
    x, y = data.arrays(data.parse_csv(raw, str(path), need_labels=True))
    _, test_rows = data.split(len(y), manifest["config"]["seed"])
    return x[test_rows], y[test_rows]


def warn_about_packages(manifest: dict, manifest_path: Path) -> None:
    from .envcheck import differences, installed_versions

    lines = differences(manifest["packages"], installed_versions(), f"the manifest {manifest_path}")
    if lines:
        print(
            f"warning: installed packages differ from those that trained {manifest_path}; "
            "predictions may differ:",
            file=sys.stderr,
        )
        for line in lines:
            print(f"warning:   {line}", file=sys.stderr)


def render(predictions) -> bytes:
    """The predictions CSV: one row per input row, numbered from 1."""
    lines = ["row,prediction"] + [f"{row},{int(p)}" for row, p in enumerate(predictions, 1)]
    return ("\n".join(lines) + "\n").encode("utf-8")


def predict(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    paths.check_running_here()
    backend = backends.load()
    manifest_path = find_manifest(args, backend.WEIGHTS_SUFFIX)
    manifest = artifacts.read_manifest(manifest_path)
    if manifest["framework"] != backend.FRAMEWORK:
        raise ProjectError(
            f"manifest {manifest_path} is for a {manifest['framework']} model, "
            f"but this project uses {backend.FRAMEWORK}"
        )
    settings = config.schema(backend.HYPERPARAMETERS)
    cfg = config.check(manifest["config"], settings, f"manifest {manifest_path}: config")
    output = args.output or paths.in_project("predictions", f"{manifest_path.stem}.csv")
    artifacts.check_writable(output.parent)
    seed.prepare_process(cfg["threads"], backend, cfg["portable"])
    weights = artifacts.read_weights(manifest_path, manifest, backend.WEIGHTS_SUFFIX)
    weights_file = artifacts.weights_path(manifest_path, manifest, backend.WEIGHTS_SUFFIX)
    artifacts.check_format(weights, backend.WEIGHTS_FORMAT, weights_file)
    warn_about_packages(manifest, manifest_path)
    x, y = read_input(args, manifest, manifest_path)

    seed.seed_everything(cfg["seed"], cfg["threads"], backend)
    try:
        model = backend.from_bytes(weights, cfg, x.shape[1], data.CLASSES)
    except ValueError as error:
        raise ProjectError(
            f"model file {weights_file} cannot be loaded as {backend.WEIGHTS_FORMAT}: {error}; "
            "retrain: make train"
        ) from None
    predictions = backend.predict(model, x)

    content = render(predictions)
    artifacts.write_files_atomically({output: content})
    print(f"model {weights_file} (sha256 {manifest['weights']['sha256']})")
    print(
        f"wrote {output}: {len(predictions)} predictions, sha256 {artifacts.sha256_bytes(content)}"
    )
    if y is not None:
        correct = int((predictions == y).sum())
        print(f"accuracy {correct / len(y):.4f} ({correct}/{len(y)} rows)")
    return 0


def run(argv: Sequence[str]) -> int:
    """Predict in this process (PYTHONHASHSEED must already be fixed)."""
    return run_command(COMMAND, predict, argv)


def main() -> int:
    seed.ensure_hash_seed(f"{__package__}.predict", sys.argv[1:])
    return run(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
