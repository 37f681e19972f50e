"""Prove that training and prediction reproduce bit for bit.

Usage: python -m <module>.repro_check [train options, e.g. --set epochs=5]
(or ``make repro-check ARGS="..."``, or the ``<project>-repro-check`` command).

Trains twice and predicts twice, each in a fresh process, into a temporary
folder (models/ is not touched).  The second run starts from a shell with
other OMP_NUM_THREADS and PYTHONHASHSEED values, to show that the commands
fix them themselves.  Fails unless the weights and the predictions are
bitwise identical.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from .artifacts import sha256_file
from .errors import ProjectError, run_command
from .seed import ensure_hash_seed

COMMAND = "repro-check"
SHELL_VARIABLES = ("OMP_NUM_THREADS", "PYTHONHASHSEED")


def _other(value: str | None, choices: Sequence[str]) -> str:
    return next(choice for choice in choices if choice != value)


def shells() -> list[dict[str, str]]:
    """The caller's environment, and one with other thread and hash-seed values."""
    caller = dict(os.environ)
    changed = dict(caller)
    changed["OMP_NUM_THREADS"] = _other(caller.get("OMP_NUM_THREADS"), ("3", "2"))
    changed["PYTHONHASHSEED"] = _other(caller.get("PYTHONHASHSEED"), ("random", "123"))
    return [caller, changed]


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
        "shell": {name: env.get(name, "(unset)") for name in SHELL_VARIABLES},
        "used": {
            "OMP_NUM_THREADS": manifest["threads"].get("OMP_NUM_THREADS"),
            "PYTHONHASHSEED": manifest["python"]["hash_seed"],
        },
        "hash_probe": manifest["python"]["hash_probe"],
        "weights": sha256_file(manifest_path.with_name(manifest["weights"]["file"])),
        "predictions": sha256_file(predictions),
    }


def check(argv: Sequence[str]) -> int:
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    runs = []
    with tempfile.TemporaryDirectory(prefix="repro-check-") as temporary:
        for number, env in enumerate(shells(), 1):
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
    return 0


def main() -> int:
    ensure_hash_seed(f"{__package__}.repro_check", sys.argv[1:])
    return run_command(COMMAND, check, sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
