"""The packages installed in this environment, and how they differ from a record."""

from __future__ import annotations

import importlib.metadata
import re
from collections.abc import Mapping

# This project itself is not one of its dependencies.
PROJECT = "{{ cookiecutter.project_slug }}"


def canonical(name: str) -> str:
    """A distribution name as package indexes compare them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_versions() -> dict[str, str]:
    """Canonical name -> version of every installed distribution but this project."""
    versions = {}
    for distribution in importlib.metadata.distributions():
        name = distribution.metadata["Name"]
        if name and canonical(name) != canonical(PROJECT):
            versions[canonical(name)] = distribution.version
    return dict(sorted(versions.items()))


def differences(expected: Mapping[str, str], installed: Mapping[str, str]) -> list[str]:
    """One line per package that is missing, extra, or at another version."""
    lines = []
    for name in sorted(set(expected) | set(installed)):
        want, have = expected.get(name), installed.get(name)
        if have is None:
            lines.append(f"{name} {want} is missing")
        elif want is None:
            lines.append(f"{name} {have} is installed but was not expected")
        elif want != have:
            lines.append(f"{name} is {have}, expected {want}")
    return lines
