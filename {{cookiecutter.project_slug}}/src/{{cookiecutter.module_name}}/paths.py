"""Where the project is: found from this package's own location, never from the current folder.

Commands may run from any folder (``cd configs && python -m <module>.train``),
but the config, data, models and the git repository they record are the
project's.  Paths written into a manifest are relative to the project, so a
manifest names no folder of the machine that wrote it.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import ProjectError

# src/<module>/paths.py -> the project folder.
ROOT = Path(__file__).resolve().parents[2]
MODULE = __package__


def venv_python(venv: Path) -> Path:
    """A venv's interpreter: Scripts/python.exe where Windows made it, bin/python elsewhere."""
    windows = venv / "Scripts" / "python.exe"
    if windows.is_file() or (os.name == "nt" and not (venv / "bin").is_dir()):
        return windows
    return venv / "bin" / "python"


def in_project(*parts: str) -> Path:
    """A path in the project, relative to the current folder when that lies inside it.

    So messages say ``data/digits.csv`` in the project, and the full path elsewhere.
    """
    path = ROOT.joinpath(*parts)
    here = Path.cwd().resolve()
    if here == ROOT or ROOT in here.parents:
        return Path(os.path.relpath(path, here))
    return path


def relative(path: Path, what: str) -> str:
    """``path`` as a POSIX path relative to the project; refused when it lies outside."""
    for candidate, root in (
        (Path(os.path.normpath(path.absolute())), Path(os.path.normpath(ROOT.absolute()))),
        (path.resolve(), ROOT),
    ):
        try:
            return candidate.relative_to(root).as_posix()
        except ValueError:
            continue
    raise ProjectError(
        f"{what} {path} is outside the project folder {ROOT.name}/; a manifest names files "
        "relative to the project so that others can find them: move or copy it inside "
        f"(for example into {ROOT.name}/data/)"
    )


def check_running_here() -> None:
    """Refuse to run another folder's code: a copied project with a venv that points back.

    An editable install points at the folder it was made in.  In a copy of
    the project, its venv would silently train the original's code and data.
    """
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "src" / MODULE / "__init__.py").is_file():
            if folder != ROOT:
                raise ProjectError(
                    f"this command runs the code in {ROOT}, not the project in {folder}; "
                    f"set up this folder's own environment there: make setup"
                )
            return
