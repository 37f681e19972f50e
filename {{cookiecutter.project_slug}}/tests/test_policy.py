"""Repository rules that CI enforces even when a commit skipped the git hooks."""

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
