"""Train a model from configs/train.toml and save it with its manifest.

Usage: python -m <module>.train [--set KEY=VALUE ...] [--allow-dirty]
(or ``make train ARGS="..."``, or the ``<project>-train`` command).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from . import (
    artifacts,
    backends,
    cli,
    config,
    data,
    paths,
    portable,
    predict,
    preprocess,
    progress,
    provenance,
    seed,
)
from .envcheck import LOCKS
from .errors import ProjectError, check_interrupted, run_command

COMMAND = "train"


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=cli.prog(COMMAND), description=cli.summary(COMMAND))
    parser.add_argument(
        "--config", type=Path, default=paths.in_project(*config.DEFAULT_CONFIG), help="config file"
    )
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
        help="train even with uncommitted changes (the manifest records them as a patch)",
    )
    parser.add_argument("--data", type=Path, help="another data file for this run (sets data.path)")
    parser.add_argument(
        "--models-dir", type=Path, default=paths.in_project("models"), help="output folder"
    )
    return parser.parse_args(argv)


def check_git(allow_dirty: bool) -> provenance.GitState:
    state = provenance.git_state(paths.ROOT)
    if state.commit is None:
        print(f"note: {state.note}, so the manifest records no commit", file=sys.stderr)
    if state.dirty and not allow_dirty:
        shown = ", ".join(line[3:] for line in state.changes[:5])
        more = f" and {len(state.changes) - 5} more" if len(state.changes) > 5 else ""
        raise ProjectError(
            f"the working tree has uncommitted changes ({shown}{more}); commit them so the "
            "model can be traced to its code, or pass --allow-dirty (make train "
            'ARGS="--allow-dirty"), which saves the change beside the model'
        )
    return state


def lock_digests() -> dict[str, str | None]:
    """The sha256 of each lock file: the packages that made the model."""
    digests = {}
    for name in LOCKS:
        path = paths.in_project(name)
        digests[name] = artifacts.sha256_file(path) if path.is_file() else None
    return digests


def recorded_command(config_file: str, overrides: Sequence[str], dirty: bool):
    """The command that trains this model again, with paths relative to the project."""
    options = ["--config", config_file]
    for override in overrides:
        options += ["--set", override]
    return ["python", "-m", f"{__package__}.train", *options, *(["--allow-dirty"] * dirty)]


# Enough points to see the fit; the manifest stays small for any data size.
HELD_OUT_POINTS = 1000


def held_out_values(prep: preprocess.Preprocessing, scores, truth) -> dict:
    """For regression: true and predicted values of the first held-out rows, for the report."""
    if prep.classes is not None:
        return {}
    predicted = prep.values(scores)
    return {
        "held_out_values": {
            "rows": min(len(truth), HELD_OUT_POINTS),
            "true": [float(v) for v in truth[:HELD_OUT_POINTS]],
            "predicted": [float(v) for v in predicted[:HELD_OUT_POINTS]],
        }
    }


def train(argv: Sequence[str]) -> int:
    started = provenance.now()
    args = parse_args(argv)
    paths.check_running_here()
    backend = backends.load()
    settings = config.schema(backend.HYPERPARAMETERS)
    overrides_given = list(args.overrides)
    if args.data is not None:
        overrides_given.append(f"data.path={json.dumps(paths.relative(args.data, 'data file'))}")
    cfg, overrides = config.load(args.config, overrides_given, settings)
    config_file = paths.relative(args.config, "config file")
    artifacts.check_writable(args.models_dir)
    environment, pinned = seed.prepare_process(cfg["threads"], backend, cfg["portable"])
    state = check_git(args.allow_dirty)
    patch = None
    if state.dirty and state.commit:
        try:
            patch = provenance.uncommitted_patch(paths.ROOT)
        except OSError as error:
            raise ProjectError(f"cannot record the uncommitted change: {error}") from None
    contract = data.Contract.from_config(cfg)
    data_path = paths.in_project(contract.path)
    paths.relative(data_path, "data file (data.path)")
    raw = data.read_verified(data_path)
    table = data.read_table(raw, contract.path, contract, need_label=True)
    prepared = preprocess.examples(table, contract)
    if prepared.dropped:
        # impute fills empty cells, but a row without its label has nothing to learn.
        what = "an empty label" if contract.missing == "impute" else "an empty cell or label"
        print(
            f"note: {prepared.dropped} row(s) with {what} left out "
            f"(data.missing = {contract.missing})"
        )
    rows = prepared.table
    train_rows, test_rows = data.split(prepared.targets, cfg["seed"], contract.test_fraction)
    prep = preprocess.Preprocessing.fit(
        rows.x[train_rows], rows.features, prepared.classes, prepared.targets[train_rows]
    )
    x = prep.inputs(rows.x)
    targets = prep.model_targets(prepared.targets)

    rng, framework_settings = seed.seed_everything(cfg["seed"], cfg["threads"], backend)
    model = backend.build(cfg, x.shape[1], prep.n_outputs, rng)

    board = progress.EpochProgress(cfg["epochs"])
    curve: dict[str, list] = {"epoch": [], "train_loss": [], "held_out_loss": []}

    def report(epoch: int, loss: float, current: object) -> None:
        check_interrupted()
        held_out_loss = preprocess.held_out_loss(
            prep, backend.scores(current, x[test_rows]), targets[test_rows]
        )
        for key, value in zip(curve, (epoch, loss, held_out_loss), strict=True):
            curve[key].append(value)
        board.update(epoch, loss, held_out_loss)

    try:
        model = backend.fit(model, x[train_rows], targets[train_rows], cfg, rng, report)
    finally:
        board.finish()
    weights = backend.to_bytes(model)
    # Measure the model as predict will see it: loaded back from the saved bytes.
    loaded = backend.from_bytes(weights, cfg, x.shape[1], prep.n_outputs)
    held_out = backend.scores(loaded, x[test_rows])
    metrics = preprocess.metrics(prep, held_out, prepared.targets[test_rows])
    names, probabilities = prep.outputs(held_out)
    predictions = predict.render(rows.ids[test_rows].tolist(), names, probabilities, prep.classes)
    weights_sha256 = artifacts.sha256_bytes(weights)

    # The data's name, its missing-value policy unless the default, then each
    # setting by its label: mlp-digits-h64-lr0.01-..., mlp-flowers-impute-h64-...
    parts = [re.sub(r"[^A-Za-z0-9_.]+", "_", Path(contract.path).stem)]
    parts += [contract.missing if contract.missing != "refuse" else ""]
    parts += [setting.name_part(cfg[key]) for key, setting in settings.items()]
    stem = artifacts.model_stem(backend.MODEL_KIND, parts, state.commit, state.dirty)
    stem = artifacts.free_stem(args.models_dir, stem, backend.WEIGHTS_SUFFIX, weights_sha256)
    weights_path = args.models_dir / f"{stem}{backend.WEIGHTS_SUFFIX}"
    manifest_path = args.models_dir / f"{stem}.json"
    patch_path = args.models_dir / f"{stem}.patch"
    from .envcheck import installed_versions

    dirty_allowed = bool(args.allow_dirty and state.dirty)
    manifest = {
        "format": artifacts.MANIFEST_FORMAT,
        "framework": backend.FRAMEWORK,
        "model_kind": backend.MODEL_KIND,
        "weights": {
            "file": weights_path.name,
            "format": backend.WEIGHTS_FORMAT,
            "sha256": weights_sha256,
            "bytes": len(weights),
        },
        "predictions": {
            "of": "the held-out rows, as predict writes them",
            "rows": len(test_rows),
            "sha256": artifacts.sha256_bytes(predictions),
        },
        "config_file": config_file,
        "config": cfg,
        "overrides": overrides,
        "seed": cfg["seed"],
        "data": {
            "file": contract.path,
            "sha256": artifacts.sha256_bytes(raw),
            "rows": len(table.x),
            "rows_left_out": prepared.dropped,
            "train_rows": len(train_rows),
            "test_rows": len(test_rows),
            "task": contract.task,
            "classes": prep.classes,
            "features": data.feature_statistics(rows.x[train_rows], rows.features),
        },
        "preprocessing": prep.record(),
        "metrics": metrics,
        # Each epoch's mean training loss, and the same loss on the held-out rows after it.
        "learning_curve": curve,
        **held_out_values(prep, held_out, prepared.targets[test_rows]),
        "git": {
            "commit": state.commit,
            "tree": state.tree,
            "dirty": state.dirty,
            "allow_dirty": args.allow_dirty,
            "changes": state.changes,
            "patch": None
            if patch is None
            else {"file": patch_path.name, "sha256": artifacts.sha256_bytes(patch)},
            "project_folder": state.prefix,
            "note": state.note,
        },
        "locks": lock_digests(),
        **provenance.python_and_platform(),
        "code_paths": {
            **pinned.record(),
            "observed": portable.observe(backend.cpu_capability()),
        },
        "packages": installed_versions(),
        "threads": {**environment, **framework_settings},
        "command": recorded_command(config_file, overrides_given, dirty_allowed),
        "started_at": started,
        "finished_at": provenance.now(),
    }
    files = {} if patch is None else {patch_path: patch}
    # The manifest goes last: whoever finds it finds the files it names.
    files.update({weights_path: weights, manifest_path: artifacts.manifest_bytes(manifest)})
    artifacts.write_files_atomically(files)
    shown = ", ".join(f"{name} {value:.4f}" for name, value in preprocess.headline(metrics).items())
    print(f"{shown} on {len(test_rows)} held-out rows")
    print(f"saved {weights_path} (sha256 {weights_sha256})")
    if patch is not None:
        print(f"saved {patch_path}: the uncommitted change this model was trained with")
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
