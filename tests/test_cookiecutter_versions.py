"""Fast tier: the template bakes with every supported cookiecutter minor version.

Each version lives in its own venv in a cache folder shared by test runs
(made once per machine, from PyPI, its dependencies pinned to the dev lock's
versions); the newest is the dev venv's own.  An
older cookiecutter is refused with one line that names the version needed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from filelock import FileLock

from conftest import TEMPLATE, run

# The newest patch of each supported minor version but the dev venv's (2.7).
SUPPORTED = ["2.2.3", "2.3.1", "2.4.0", "2.5.0", "2.6.0"]
TOO_OLD = "2.1.1"
# Read at import, before the session's fixtures point HOME elsewhere.
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "repro-template"


def constraints() -> Path:
    """The dev lock's versions, so an older cookiecutter's dependencies are pinned too."""
    lock = Path(TEMPLATE) / "requirements-dev.txt"
    pins = re.findall(r"^([A-Za-z0-9][\w.-]*==[^ ;\\]+)", lock.read_text(encoding="utf-8"), re.M)
    path = CACHE / "constraints.txt"
    text = "".join(f"{pin}\n" for pin in pins if not pin.startswith("cookiecutter=="))
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return path


def cookiecutter_of(version: str) -> Path:
    venv = CACHE / f"cookiecutter-{version}"
    CACHE.mkdir(parents=True, exist_ok=True)
    with FileLock(str(CACHE / "venvs.lock")):
        pinned = constraints()
        ready = venv / "ready"
        if not ready.exists() or ready.read_text(encoding="utf-8") != pinned.read_text("utf-8"):
            # uv, from the dev lock: a venv in about a second once its cache is warm.
            # --clear: a venv made under an older dev lock is made anew.
            uv = Path(sys.executable).with_name("uv")
            make = [uv, "venv", "--quiet", "--clear", "--python", sys.executable, venv]
            subprocess.run(make, check=True)
            install = [uv, "pip", "install", "--quiet", "--python", venv / "bin" / "python"]
            subprocess.run([*install, f"cookiecutter=={version}", "-c", pinned], check=True)
            ready.write_text(pinned.read_text(encoding="utf-8"), encoding="utf-8")
    return venv / "bin" / "cookiecutter"


@pytest.mark.parametrize("version", SUPPORTED)
def test_a_supported_cookiecutter_bakes_the_default_project(tmp_path, version):
    done = run(
        [cookiecutter_of(version), "--no-input", "--output-dir", tmp_path, TEMPLATE], tmp_path
    )
    assert "Created git repository on branch main" in done.stdout, done.stdout + done.stderr
    project = tmp_path / "digits-classifier"
    recorded = json.loads((project / ".cookiecutter.json").read_text(encoding="utf-8"))
    assert recorded["cookiecutter"]["module_name"] == "digits_classifier"
    assert (project / "src" / "digits_classifier" / "backends" / "sklearn_backend.py").is_file()
    status = run(["git", "status", "--porcelain"], cwd=project).stdout
    assert status == ""


def test_an_older_cookiecutter_is_told_which_version_it_needs(tmp_path):
    command = [cookiecutter_of(TOO_OLD), "--no-input", "--output-dir", tmp_path, TEMPLATE]
    done = run(command, tmp_path, check=False)
    assert done.returncode == 1
    assert "Traceback" not in done.stdout + done.stderr
    (error,) = [line for line in done.stderr.splitlines() if line.startswith("ERROR:")]
    assert f"cookiecutter {TOO_OLD} is too old" in error and "cookiecutter 2.2 or newer" in error
    assert list(tmp_path.iterdir()) == []
