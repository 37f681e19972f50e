"""Slow tier: no module name the checks allow is a name the project's venv imports."""

from __future__ import annotations

import json
import sys

import pytest

from conftest import FRAMEWORKS, run

pytestmark = pytest.mark.slow

# Every top-level import name the installed distributions provide, from their
# RECORD files (what pip wrote), as a module name would have to look.
LIST_IMPORT_NAMES = r"""
import importlib.metadata, json, re
names = set()
for dist in importlib.metadata.distributions():
    for file in dist.files or []:
        parts = file.parts
        if not parts or parts[0] in ("..", "__pycache__"):
            continue
        if parts[0].endswith((".dist-info", ".data", ".egg-info")):
            continue
        first = parts[0]
        if len(parts) == 1:
            if not first.endswith((".py", ".so", ".pyd")):
                continue
            first = first.split(".")[0]
        if re.fullmatch(r"[a-z][a-z0-9_]*", first):
            names.add(first)
print(json.dumps(sorted(names)))
"""


@pytest.mark.parametrize(
    "framework", [pytest.param(f, marks=pytest.mark.xdist_group(f), id=f) for f in FRAMEWORKS]
)
def test_every_name_the_projects_venv_imports_is_refused_as_module_name(set_up_project, framework):
    from hooks.pre_gen_project import check_module

    project = set_up_project(framework)
    listed = run([project.python, "-c", LIST_IMPORT_NAMES], cwd=project.path).stdout
    names = set(json.loads(listed)) - {project.module}
    allowed = sorted(name for name in names if check_module(name) is None)
    assert allowed == [], (
        f"add these to SHADOWED_PACKAGES in hooks/pre_gen_project.py: {allowed}"
        f" (Python {sys.version_info[:2]})"
    )
