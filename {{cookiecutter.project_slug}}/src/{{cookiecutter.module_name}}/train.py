"""Train a model from configs/train.toml and save it with its manifest.

Usage: python -m <module>.train [--set KEY=VALUE ...] [--allow-dirty]
(or ``make train ARGS="..."``, or the ``<project>-train`` command).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from . import artifacts, backends, config, data, provenance, seed
from .errors import ProjectError, check_interrupted, run_command

COMMAND = "train"


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=f"{__package__}.train", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--config", type=Path, default=config.DEFAULT_CONFIG, help="config file")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="change one config value for this run (recorded in the manifest); repeatable",
    )
    parser.add_argument(
        "--allow-dirty",
        action="store_true",
        help="train even with uncommitted changes (the manifest records it)",
    )
    parser.add_argument("--data", type=Path, default=data.DEFAULT_DATA, help="data CSV")
    parser.add_argument("--models-dir", type=Path, default=Path("models"), help="output folder")
    return parser.parse_args(argv)


def check_git(allow_dirty: bool) -> provenance.GitState:
    state = provenance.git_state(Path.cwd())
    if state.commit is None:
        print(f"note: {state.note}, so the manifest records no commit", file=sys.stderr)
    if state.dirty and not allow_dirty:
        shown = ", ".join(line[3:] for line in state.changes[:5])
        more = f" and {len(state.changes) - 5} more" if len(state.changes) > 5 else ""
        raise ProjectError(
            f"the working tree has uncommitted changes ({shown}{more}); commit them so the "
            "model can be traced to its code, or pass --allow-dirty (recorded in the manifest)"
        )
    return state


def train(argv: Sequence[str]) -> int:
    started = provenance.now()
    args = parse_args(argv)
    backend = backends.load()
    settings = config.schema(backend.HYPERPARAMETERS)
    cfg, overrides = config.load(args.config, args.overrides, settings)
    artifacts.check_writable(args.models_dir)
    threads = seed.prepare_process(cfg["threads"], backend)
    state = check_git(args.allow_dirty)
    raw = data.read_verified(args.data)
    x, y = data.arrays(data.parse_csv(raw, str(args.data), need_labels=True))

    rng, framework_settings = seed.seed_everything(cfg["seed"], cfg["threads"], backend)
    train_rows, test_rows = data.split(len(y), cfg["seed"])
    model = backend.build(cfg, x.shape[1], data.CLASSES, rng)

    def report(epoch: int, loss: float) -> None:
        check_interrupted()
        print(f"epoch {epoch:>4}/{cfg['epochs']}  loss {loss:.4f}", flush=True)

    model = backend.fit(model, x[train_rows], y[train_rows], cfg, rng, report)
    weights = backend.to_bytes(model)
    # Measure the model as predict will see it: loaded back from the saved bytes.
    loaded = backend.from_bytes(weights, cfg, x.shape[1], data.CLASSES)
    accuracy = float((backend.predict(loaded, x[test_rows]) == y[test_rows]).mean())

    labels = {key: setting.label for key, setting in settings.items() if setting.label}
    stem = artifacts.model_stem(backend.MODEL_KIND, cfg, labels, state.commit, state.dirty)
    weights_path = args.models_dir / f"{stem}{backend.WEIGHTS_SUFFIX}"
    manifest_path = args.models_dir / f"{stem}.json"
    from .envcheck import installed_versions

    manifest = {
        "format": artifacts.MANIFEST_FORMAT,
        "framework": backend.FRAMEWORK,
        "model_kind": backend.MODEL_KIND,
        "weights": {
            "file": weights_path.name,
            "format": backend.WEIGHTS_FORMAT,
            "sha256": artifacts.sha256_bytes(weights),
            "bytes": len(weights),
        },
        "config_file": args.config.as_posix(),
        "config": cfg,
        "overrides": overrides,
        "seed": cfg["seed"],
        "data": {
            "file": args.data.as_posix(),
            "sha256": artifacts.sha256_bytes(raw),
            "rows": len(y),
            "train_rows": len(train_rows),
            "test_rows": len(test_rows),
            "test_fraction": data.TEST_FRACTION,
        },
        "metrics": {"test_accuracy": accuracy},
        "git": {
            "commit": state.commit,
            "dirty": state.dirty,
            "allow_dirty": args.allow_dirty,
            "changes": state.changes,
            "note": state.note,
        },
        **provenance.python_and_platform(),
        "packages": installed_versions(),
        "threads": {**threads, **framework_settings},
        "command": ["python", "-m", f"{__package__}.train", *argv],
        "started_at": started,
        "finished_at": provenance.now(),
    }
    artifacts.write_files_atomically(
        {weights_path: weights, manifest_path: artifacts.manifest_bytes(manifest)}
    )
    print(f"test accuracy {accuracy:.4f} on {len(test_rows)} held-out rows")
    print(f"saved {weights_path} (sha256 {manifest['weights']['sha256']})")
    print(f"saved {manifest_path}")
    return 0


def run(argv: Sequence[str]) -> int:
    """Train in this process (PYTHONHASHSEED must already be fixed)."""
    return run_command(COMMAND, train, argv)


def main() -> int:
    seed.ensure_hash_seed(f"{__package__}.train", sys.argv[1:])
    return run(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
