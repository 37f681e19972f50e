"""The tool commands: test, lint and lock, run from the project folder.

They run the venv's pytest and pre-commit, and scripts/lock.py, with this
interpreter, so they need neither make nor a shell.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence

from .paths import ROOT


def _run(command: Sequence[str]) -> int:
    try:
        return subprocess.run([sys.executable, *command], cwd=ROOT, check=False).returncode
    except KeyboardInterrupt:
        return 130


def test() -> int:
    """The quick tests, with any of pytest's options: ``test -k seed -x``."""
    return _run(["-m", "pytest", "-m", "not slow", *sys.argv[1:]])


def test_all() -> int:
    """Every test, the slow ones too (what CI runs)."""
    return _run(["-m", "pytest", *sys.argv[1:]])


def in_repository() -> bool:
    try:
        asked = ["git", "rev-parse", "--is-inside-work-tree"]
        done = subprocess.run(asked, cwd=ROOT, capture_output=True, check=False)
    except OSError:
        return False
    return done.returncode == 0


def lint() -> int:
    """Every pre-commit hook on every file; its options may follow: ``lint ruff``."""
    if not in_repository():
        print(
            "lint: error: the checks run through pre-commit, which needs a git repository; "
            'make one first: git init -b main && git add -A && git commit -m "Start"',
            file=sys.stderr,
        )
        return 1
    return _run(["-m", "pre_commit", "run", "--all-files", "--show-diff-on-failure", *sys.argv[1:]])


def lock() -> int:
    """scripts/lock.py, with its options: ``lock --upgrade``."""
    return _run([str(ROOT / "scripts" / "lock.py"), *sys.argv[1:]])
