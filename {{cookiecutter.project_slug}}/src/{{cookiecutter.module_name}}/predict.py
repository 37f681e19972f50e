"""Predict on the CPU with a saved model, after checking it against its manifest.

Usage: python -m <module>.predict [--model PATH] [--input CSV] [--output CSV]
(or ``make predict ARGS="..."``, or the ``<project>-predict`` command).

Without --model it takes the newest model in models/; without --input, the
held-out test rows of the data the model was trained on.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from collections.abc import Sequence
from pathlib import Path

from . import artifacts, backends, cli, config, data, paths, preprocess, seed
from .errors import ProjectError, run_command

COMMAND = "predict"


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=cli.prog(COMMAND), description=cli.summary(COMMAND))
    parser.add_argument("--model", type=Path, help="a model's manifest (.json) or weights file")
    parser.add_argument(
        "--models-dir", type=Path, default=paths.in_project("models"), help="where models are"
    )
    parser.add_argument(
        "--input", type=Path, help="CSV with the model's feature columns (and its id column)"
    )
    parser.add_argument("--output", type=output_file, help="predictions CSV to write")
    return parser.parse_args(argv)


def output_file(text: str) -> Path:
    # A trailing slash names a folder, though pathlib would drop it.
    if text.endswith(("/", "\\")) or Path(text).name in ("", ".", ".."):
        raise argparse.ArgumentTypeError(f"{text} is a folder; name a .csv file in it")
    return Path(text)


def held_out(manifest: dict, manifest_path: Path, contract: data.Contract):
    """The rows the model was tested on: its own data, checked, split by its own seed."""
    path = paths.in_project(manifest["data"]["file"])
    raw = data.read_verified(path)
    if artifacts.sha256_bytes(raw) != manifest["data"]["sha256"]:
        raise ProjectError(
            f"data file {path} is not the data that trained {manifest_path} (its sha256 "
            "differs from the manifest's); pass the rows to predict with --input CSV"
        )
    features = manifest["preprocessing"]["features"]
    table = data.read_table(raw, contract.path, contract, need_label=True, features=features)
    examples = preprocess.examples(table, contract)
    _, test_rows = data.split(examples.targets, manifest["config"]["seed"], contract.test_fraction)
    return preprocess.rows_of(examples.table, test_rows), examples.targets[test_rows]


def new_rows(args: argparse.Namespace, prep: preprocess.Preprocessing, contract: data.Contract):
    """The rows of --input, with the missing-value policy the model was trained under."""
    import numpy as np

    try:
        raw = args.input.read_bytes()
    except OSError as error:
        raise ProjectError(f"input file {args.input} cannot be read: {error.strerror}") from None
    table = data.read_table(
        raw, str(args.input), contract, need_label=False, features=prep.features
    )
    empty = np.isnan(table.x).any(axis=1)
    if empty.any() and contract.missing == "refuse":
        raise ProjectError(
            f"{data.first_missing(table)}: the cell is empty, and the model was trained with "
            'data.missing = "refuse"; fill it'
        )
    if empty.any() and contract.missing == "drop":
        print(
            f"warning: {int(empty.sum())} row(s) with an empty cell get no prediction "
            '(the model was trained with data.missing = "drop")',
            file=sys.stderr,
        )
        table = preprocess.rows_of(table, ~empty)
    if not len(table.x):
        raise ProjectError(f"{args.input}: no row is left to predict on")
    return table


def render(ids: Sequence[str], names: Sequence[str], probabilities, classes) -> bytes:
    """The predictions CSV: the row's id, the prediction, and each class's probability."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    extra = [f"probability_{name}" for name in classes] if probabilities is not None else []
    writer.writerow(["id", "prediction", *extra])
    for number, (row_id, name) in enumerate(zip(ids, names, strict=True)):
        shares = [] if probabilities is None else [repr(float(p)) for p in probabilities[number]]
        writer.writerow([row_id, name, *shares])
    return buffer.getvalue().encode("utf-8")


def output_path(args: argparse.Namespace, manifest_path: Path, content: bytes) -> Path:
    """Where to write, never silently over other predictions."""
    if args.output is not None:
        if args.output.is_dir():
            raise ProjectError(f"--output {args.output} is a folder; name a .csv file in it")
        if args.input is not None and args.output.resolve() == args.input.resolve():
            raise ProjectError(
                f"--output {args.output} is the input file; name another file for the predictions"
            )
        if args.output.is_file() and args.output.read_bytes() != content:
            print(f"note: replacing {args.output}, which held other predictions")
        return args.output
    stem = manifest_path.stem if args.input is None else f"{manifest_path.stem}-{args.input.stem}"
    folder = paths.in_project("predictions")
    for number in range(1, 10_000):
        candidate = folder / (f"{stem}.csv" if number == 1 else f"{stem}-{number}.csv")
        if not candidate.exists() or candidate.read_bytes() == content:
            if number > 1:
                print(f"note: {folder / (stem + '.csv')} holds other predictions; kept it")
            return candidate
    raise ProjectError(f"{folder} holds 9999 prediction files named {stem}-N; move some away")


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


def keep_plotting_out() -> None:
    """Never load the plotting library of reports while predicting.

    Keras imports matplotlib.pyplot whenever matplotlib is installed, and does
    without it when the import fails: an entry of None makes it fail, and
    saves predict that import's time and memory.
    """
    if "matplotlib" not in sys.modules:
        sys.modules["matplotlib"] = None  # type: ignore[assignment]


def predict(argv: Sequence[str]) -> int:
    keep_plotting_out()
    args = parse_args(argv)
    paths.check_running_here()
    backend = backends.load()
    manifest_path = artifacts.find_manifest(args.model, args.models_dir, backend.WEIGHTS_SUFFIX)
    manifest = artifacts.read_manifest(manifest_path)
    if manifest["framework"] != backend.FRAMEWORK:
        raise ProjectError(
            f"manifest {manifest_path} is for a {manifest['framework']} model, "
            f"but this project uses {backend.FRAMEWORK}"
        )
    settings = config.schema(backend.HYPERPARAMETERS)
    cfg = config.check(manifest["config"], settings, f"manifest {manifest_path}: config")
    contract = data.Contract.from_config(cfg)
    prep = preprocess.Preprocessing.from_record(
        manifest.get("preprocessing") or {}, f"manifest {manifest_path}"
    )
    # Refused before any heavy work: the folder the predictions will go to.
    artifacts.check_writable(
        args.output.parent if args.output is not None else paths.in_project("predictions")
    )
    seed.prepare_process(cfg["threads"], backend, cfg["portable"])
    weights = artifacts.read_weights(manifest_path, manifest, backend.WEIGHTS_SUFFIX)
    weights_file = artifacts.weights_path(manifest_path, manifest, backend.WEIGHTS_SUFFIX)
    artifacts.check_format(weights, backend.WEIGHTS_FORMAT, weights_file)
    warn_about_packages(manifest, manifest_path)
    if args.input is None:
        rows, targets = held_out(manifest, manifest_path, contract)
    else:
        rows, targets = new_rows(args, prep, contract), None
        for line in data.out_of_range(rows.x, prep.features, manifest["data"]["features"]):
            print(f"warning: {line}", file=sys.stderr)

    seed.seed_everything(cfg["seed"], cfg["threads"], backend)
    try:
        model = backend.from_bytes(weights, cfg, len(prep.features), prep.n_outputs)
    except ValueError as error:
        raise ProjectError(
            f"model file {weights_file} cannot be loaded as {backend.WEIGHTS_FORMAT}: {error}; "
            "retrain: make train"
        ) from None
    scores = backend.scores(model, prep.inputs(rows.x))
    names, probabilities = prep.outputs(scores)
    content = render(rows.ids.tolist(), names, probabilities, prep.classes)
    output = output_path(args, manifest_path, content)
    artifacts.write_files_atomically({output: content})
    print(f"model {weights_file} (sha256 {manifest['weights']['sha256']})")
    print(f"wrote {output}: {len(names)} predictions, sha256 {artifacts.sha256_bytes(content)}")
    if targets is not None:
        measured = preprocess.metrics(prep, scores, targets)
        headline = preprocess.headline(measured).items()
        shown = ", ".join(f"{name} {value:.4f}" for name, value in headline)
        print(f"{shown} on the {len(names)} held-out rows")
    return 0


def run(argv: Sequence[str]) -> int:
    """Predict in this process (PYTHONHASHSEED must already be fixed)."""
    return run_command(COMMAND, predict, argv)


def main() -> int:
    seed.ensure_hash_seed(f"{__package__}.predict", sys.argv[1:])
    return run(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
