"""Time the generated projects' commands against the speed targets.

Usage: python benchmarks/pipeline.py [framework ...]   (or: make bench)

For each framework (all four by default) this bakes a project into a
temporary folder and runs its `make setup` (not timed), then times
`make train`, `make predict`, `make repro-check` and `make test`.  It prints
wall-clock seconds and the CPU seconds the commands used, beside the
targets.  It measures only: a slow machine is not a failure, so it exits 0
unless a command itself fails.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[1]
FRAMEWORKS = json.loads((TEMPLATE / "cookiecutter.json").read_text(encoding="utf-8"))["framework"]
STEPS = ("train", "predict", "repro-check", "test")
# Seconds; a target named for one framework holds only for it.
TARGETS = {
    "train": {"scikit-learn": 10.0},
    "train+predict": {framework: 60.0 for framework in FRAMEWORKS},
    "repro-check": {"scikit-learn": 60.0},
    "test": {framework: 15.0 for framework in FRAMEWORKS},
}


def timed(args: list[str], cwd: Path) -> tuple[float, float]:
    """Run a command; return its wall-clock and CPU seconds (children included)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"{' '.join(args)} failed in {cwd}:\n{done.stdout}\n{done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def measure(framework: str, folder: Path) -> dict[str, tuple[float, float]]:
    cookiecutter = Path(sys.executable).with_name("cookiecutter")
    timed(
        [
            str(cookiecutter),
            "--no-input",
            "--output-dir",
            str(folder),
            str(TEMPLATE),
            f"framework={framework}",
        ],
        folder,
    )
    project = folder / "digits-classifier"
    timed(["make", "setup"], project)
    results = {step: timed(["make", step], project) for step in STEPS}
    train, predict = results["train"], results["predict"]
    results["train+predict"] = (train[0] + predict[0], train[1] + predict[1])
    return results


def main(frameworks: list[str]) -> int:
    unknown = sorted(set(frameworks) - set(FRAMEWORKS))
    if unknown:
        sys.exit(f"unknown framework {unknown[0]!r}; choose from: {', '.join(FRAMEWORKS)}")
    columns = ("train", "predict", "train+predict", "repro-check", "test")
    print(f"{'framework':<14}" + "".join(f"{c:>20}" for c in columns))
    over = []
    for framework in frameworks or FRAMEWORKS:
        with tempfile.TemporaryDirectory(prefix="bench-") as folder:
            results = measure(framework, Path(folder))
        cells = []
        for column in columns:
            wall, cpu = results[column]
            target = TARGETS.get(column, {}).get(framework)
            mark = "!" if target is not None and wall > target else " "
            if mark == "!":
                over.append(f"{framework} {column}: {wall:.1f} s, target {target:.0f} s")
            cells.append(f"{wall:8.1f} s ({cpu:5.1f}){mark}")
        print(f"{framework:<14}" + "".join(f"{cell:>20}" for cell in cells), flush=True)
    print("wall-clock seconds (CPU seconds); ! marks a time over its target")
    for line in over:
        print(f"over target: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
