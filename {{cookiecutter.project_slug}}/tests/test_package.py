"""The project installs as a package whose metadata matches pyproject.toml."""

import importlib.metadata
import tomllib
from pathlib import Path

import {{ cookiecutter.module_name }}

ROOT = Path(__file__).resolve().parents[1]


def test_installed_version_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert importlib.metadata.version(project["name"]) == project["version"]
    assert {{ cookiecutter.module_name }}.__version__ == project["version"]
