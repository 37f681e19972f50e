"""Prove that training and prediction reproduce bit for bit.

Takes train's options (``make repro-check ARGS="--set epochs=5"``).

Trains twice and predicts twice, each in a fresh process, into a temporary
folder (models/ is not touched).  The second run starts from a shell with
other OMP_NUM_THREADS and PYTHONHASHSEED values, and, where the CPU code
paths are pinned (``portable = true``), with switches that ask NumPy, the
BLAS and the framework for other kernels, as another CPU would: the
commands must override them all.  Fails unless the weights and the
predictions are bitwise identical.

When models/ holds a manifest of the same commit, config and data, the
results must also equal the ones it records.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from . import backends, cli, config, paths, portable, provenance, train
from .artifacts import read_manifest, sha256_file
from .errors import ProjectError, run_command
from .seed import ensure_hash_seed

COMMAND = "repro-check"
SHELL_VARIABLES = ("OMP_NUM_THREADS", "PYTHONHASHSEED")
# What another CPU's libraries would choose, asked for through their own
# switches; the portable pin must override each of them.
OTHER_CPU = {
    "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR",
    "ATEN_CPU_CAPABILITY": "default",
    "ONEDNN_MAX_CPU_ISA": "SSE41",
    "MKL_ENABLE_INSTRUCTIONS": "SSE4_2",
}


def _other(value: str | None, choices: Sequence[str]) -> str:
    return next(choice for choice in choices if choice != value)


def shells(pinned: bool) -> list[dict[str, str]]:
    """The caller's environment, and one with other threads, hash seed and (pinned) kernels."""
    caller = dict(os.environ)
    changed = dict(caller)
    changed["OMP_NUM_THREADS"] = _other(caller.get("OMP_NUM_THREADS"), ("3", "2"))
    changed["PYTHONHASHSEED"] = _other(caller.get("PYTHONHASHSEED"), ("random", "123"))
    if pinned:
        changed.pop("NPY_ENABLE_CPU_FEATURES", None)  # NumPy refuses both at once
        changed.update(OTHER_CPU)
    return [caller, changed]


def portable_applies(train_args: Sequence[str]) -> bool:
    """Whether training with these options pins the CPU code paths on this machine."""
    args = train.parse_args(train_args)
    try:
        settings = config.schema(backends.load().HYPERPARAMETERS)
        cfg, _ = config.load(args.config, args.overrides, settings)
    except ProjectError:
        return False  # the first training run reports the problem
    return portable.pin(cfg["portable"], apply=False).applied


def _step(args: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stdout.write(done.stdout)
        sys.stderr.write(done.stderr)
        raise ProjectError(f"{what} failed with exit code {done.returncode} (its output is above)")


def one_run(number: int, env: dict[str, str], folder: Path, train_args: Sequence[str]) -> dict:
    models = folder / "models"
    predictions = folder / "predictions.csv"
    python = [sys.executable, "-m"]
    _step(
        [*python, f"{__package__}.train", "--models-dir", str(models), *train_args],
        env,
        f"run {number}: training",
    )
    (manifest_path,) = models.glob("*.json")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    _step(
        [
            *python,
            f"{__package__}.predict",
            "--model",
            str(manifest_path),
            "--output",
            str(predictions),
        ],
        env,
        f"run {number}: prediction",
    )
    return {
        "manifest": manifest,
        "shell": {
            name: env.get(name, "(unset)")
            for name in (*SHELL_VARIABLES, *OTHER_CPU)
            if name in SHELL_VARIABLES or name in env
        },
        "used": {
            "OMP_NUM_THREADS": manifest["threads"].get("OMP_NUM_THREADS"),
            "PYTHONHASHSEED": manifest["python"]["hash_seed"],
        },
        "hash_probe": manifest["python"]["hash_probe"],
        "weights": sha256_file(manifest_path.with_name(manifest["weights"]["file"])),
        "predictions": sha256_file(predictions),
    }


def check(argv: Sequence[str]) -> int:
    if any(arg in ("-h", "--help") for arg in argv):
        usage = f"usage: {cli.prog(COMMAND)} [train's options, e.g. --set epochs=5]"
        print(f"{usage}\n\n{cli.summary(COMMAND)}\n\n{cli.prog('train')} --help lists them.")
        return 0
    paths.check_running_here()
    runs = []
    with tempfile.TemporaryDirectory(prefix="repro-check-") as temporary:
        for number, env in enumerate(shells(portable_applies(argv)), 1):
            print(f"run {number}: training and predicting in fresh processes...", flush=True)
            runs.append(one_run(number, env, Path(temporary) / f"run{number}", argv))
    for number, result in enumerate(runs, 1):
        shell = ", ".join(f"{k}={v}" for k, v in result["shell"].items())
        used = ", ".join(f"{k}={v}" for k, v in result["used"].items())
        print(f"run {number}: shell had {shell}; the commands used {used}")
        print(f"  weights     sha256 {result['weights']}")
        print(f"  predictions sha256 {result['predictions']}")
    differing = [
        what
        for what in ("weights", "predictions", "hash_probe")
        if len({result[what] for result in runs}) != 1
    ]
    if differing:
        raise ProjectError(
            f"NOT reproducible: the {' and '.join(differing)} differ between the two runs"
        )
    print("reproducible: weights and predictions are bit-identical in both runs")
    return compare_with_record(runs[0])


def matching_records(manifest: dict) -> list[Path]:
    """Manifests in models/ of the same code (a clean commit), config and data."""
    commit = manifest["git"]["commit"]
    if commit is None or manifest["git"]["dirty"]:
        return []
    found = []
    for path in sorted(paths.in_project("models").glob("*.json")):
        try:
            record = read_manifest(path)
        except ProjectError:
            continue
        same = (
            all(record[key] == manifest[key] for key in ("config", "framework"))
            and record["data"]["sha256"] == manifest["data"]["sha256"]
            and record["git"]["dirty"] is False
            and isinstance(record["git"]["commit"], str)
        )
        if same and provenance.same_code(paths.ROOT, record["git"]["commit"], commit):
            found.append(path)
    return found


def compare_with_record(run: dict) -> int:
    """Compare the runs' results with each recorded manifest of the same recipe."""
    records = matching_records(run["manifest"])
    if not records:
        print("no manifest in models/ records this commit and config: nothing more to compare")
        return 0
    problems = []
    for path in records:
        record = read_manifest(path)
        differing = [
            what
            for what, recorded in (
                ("weights", record["weights"]["sha256"]),
                ("predictions", record.get("predictions", {}).get("sha256")),
            )
            if recorded != run[what]
        ]
        name = paths.relative(path, "manifest")
        if differing:
            problems.append(f"{name} records other {' and '.join(differing)}")
            print(f"the record {name}: the {' and '.join(differing)} differ")
        else:
            print(f"the record {name}: weights and predictions are bit-identical")
    if problems:
        raise ProjectError(
            f"NOT the recorded results: {'; '.join(problems)}; "
            "make reproduce MODEL=<manifest> says why"
        )
    return 0


def main() -> int:
    ensure_hash_seed(f"{__package__}.repro_check", sys.argv[1:])
    return run_command(COMMAND, check, sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
