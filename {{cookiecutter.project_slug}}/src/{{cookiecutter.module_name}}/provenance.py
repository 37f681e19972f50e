"""Where a model comes from: the code's commit, the machine, the packages, the time.

The output folders ``models/`` and ``predictions/`` do not count as changes
to the code: training writes there, and the manifests in ``models/`` are
meant to be committed afterwards as a record of the experiments.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

OUTPUT_FOLDERS = ("models", "predictions")
# A fixed string whose hash() shows that PYTHONHASHSEED took effect.
HASH_PROBE = "reproducible"


@dataclass(frozen=True)
class GitState:
    commit: str | None
    dirty: bool | None
    changes: list[str] = field(default_factory=list)
    note: str = ""


def _git(folder: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["git", "-c", "core.quotePath=false", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )


def git_state(folder: Path) -> GitState:
    """The commit checked out in ``folder`` and its uncommitted changes."""
    try:
        inside = _git(folder, "rev-parse", "--is-inside-work-tree")
    except OSError:
        return GitState(None, None, note="git was not found")
    if inside.returncode != 0 or inside.stdout.strip() != "true":
        return GitState(None, None, note=f"{folder} is not in a git repository")
    head = _git(folder, "rev-parse", "--verify", "--quiet", "HEAD")
    excluded = [f":(exclude){name}" for name in OUTPUT_FOLDERS]
    status = _git(folder, "status", "--porcelain", "--untracked-files=all", "--", ".", *excluded)
    changes = status.stdout.splitlines()
    if head.returncode != 0:
        return GitState(None, True, changes, note="the repository has no commit yet")
    return GitState(head.stdout.strip(), bool(changes), changes)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def python_and_platform() -> dict:
    return {
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "hash_seed": os.environ.get("PYTHONHASHSEED"),
            "hash_probe": hash(HASH_PROBE),
        },
        "platform": {
            "system": platform.system(),
            "release": platform.release(),
            "machine": platform.machine(),
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "byteorder": sys.byteorder,
        },
    }
