"""Where a model comes from: the code's commit, the machine, the packages, the time.

The output folders ``models/``, ``predictions/`` and ``reports/`` do not
count as changes to the code: the commands write there, and the manifests in
``models/`` (and reports, if you like) are meant to be committed afterwards
as a record of the experiments.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

OUTPUT_FOLDERS = ("models", "predictions", "reports")
# A fixed string whose hash() shows that PYTHONHASHSEED took effect.
HASH_PROBE = "reproducible"


@dataclass(frozen=True)
class GitState:
    commit: str | None
    dirty: bool | None
    changes: list[str] = field(default_factory=list)
    note: str = ""
    tree: str | None = None
    # Where the project lies inside its repository ("" at the top), for git worktrees.
    prefix: str = ""


def _git(folder: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["git", "-c", "core.quotePath=false", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )


def _outputs_excluded() -> list[str]:
    return ["--", ".", *(f":(exclude){name}" for name in OUTPUT_FOLDERS)]


def git_state(folder: Path) -> GitState:
    """The commit checked out in ``folder``, its tree and its uncommitted changes."""
    try:
        inside = _git(folder, "rev-parse", "--is-inside-work-tree", "--show-prefix")
    except OSError:
        return GitState(None, None, note="git was not found")
    lines = inside.stdout.splitlines()
    if inside.returncode != 0 or not lines or lines[0] != "true":
        return GitState(None, None, note=f"{folder.name}/ is not in a git repository")
    prefix = lines[1] if len(lines) > 1 else ""
    head = _git(folder, "log", "-1", "--format=%H %T", "HEAD")
    status = _git(folder, "status", "--porcelain", "--untracked-files=all", *_outputs_excluded())
    changes = status.stdout.splitlines()
    if head.returncode != 0 or not head.stdout.strip():
        return GitState(None, True, changes, "the repository has no commit yet", prefix=prefix)
    commit, tree = head.stdout.split()
    return GitState(commit, bool(changes), changes, tree=tree, prefix=prefix)


def same_code(folder: Path, first: str, second: str) -> bool:
    """Whether two commits hold the same files, outputs (models/, predictions/) aside.

    Recording a model's manifest makes a new commit with the same code.
    """
    if first == second:
        return True
    done = _git(folder, "diff", "--quiet", first, second, *_outputs_excluded())
    return done.returncode == 0


def uncommitted_patch(folder: Path) -> bytes:
    """Every uncommitted change, untracked files included, as a patch ``git apply`` takes.

    It is made in a temporary index, so the user's staging area is left as it was.
    """
    with tempfile.TemporaryDirectory(prefix="patch-") as temporary:
        env = {**os.environ, "GIT_INDEX_FILE": str(Path(temporary) / "index")}
        # Outputs are put back as committed: a pathspec that excludes an ignored
        # folder would make git add fail.
        steps = (
            ("read-tree", "HEAD"),
            ("add", "--all"),
            ("reset", "--quiet", "HEAD", "--", *OUTPUT_FOLDERS),
        )
        for args in steps:
            done = _git(folder, *args, env=env)
            if done.returncode != 0:
                raise OSError(done.stderr.strip() or f"git {args[0]} failed")
        diff = subprocess.run(
            ["git", "diff", "--cached", "--binary", "--no-color", "--no-ext-diff", "HEAD"],
            cwd=folder,
            env=env,
            capture_output=True,
            check=False,
        )
        if diff.returncode != 0:
            raise OSError(diff.stderr.decode("utf-8", "replace").strip() or "git diff failed")
        return diff.stdout


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
