"""Repository rules, checked by the tests too: CI runs them even after a commit
that skipped the git hooks with --no-verify."""

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = re.compile(r"\.ipynb$", re.IGNORECASE)


def tracked_files() -> list[str]:
    try:
        done = subprocess.run(
            ["git", "ls-files", "-z", "--cached"], cwd=ROOT, capture_output=True, check=False
        )
    except OSError:
        pytest.skip("git is not installed, so there are no tracked files to check")
    if done.returncode != 0:
        pytest.skip("the project is not a git repository yet, so no file is tracked")
    return [name for name in done.stdout.decode("utf-8", "replace").split("\0") if name]


def test_no_notebook_is_tracked():
    notebooks = [name for name in tracked_files() if NOTEBOOK.search(name)]
    assert not notebooks, (
        f"notebooks are tracked by git: {', '.join(notebooks)}. Convert each to a script "
        "(jupyter nbconvert --to script NAME.ipynb), commit the script and remove the "
        "notebook with: git rm --cached NAME.ipynb. README.md, 'No notebooks', says why."
    )


def test_ruff_hook_runs_the_ruff_of_the_dev_lock():
    lock = (ROOT / "requirements-dev.txt").read_text(encoding="utf-8")
    hooks = (ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8")
    locked = re.findall(r"^ruff==(\S+)", lock, re.MULTILINE)
    hooked = set(re.findall(r"\bruff==([\w.]+)", hooks))
    assert len(locked) == 1, "requirements-dev.txt must pin ruff exactly once"
    assert hooked == set(locked), (
        f"the ruff hooks in .pre-commit-config.yaml pin ruff {', '.join(sorted(hooked))}, "
        f"but requirements-dev.txt locks ruff {locked[0]}; "
        f"set both ruff hooks to ruff=={locked[0]} so commits and make lint agree"
    )
