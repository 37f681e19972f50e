"""Slow tier: a baked project, set up for real, passes its own checks."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.slow


@pytest.mark.xdist_group("scikit-learn")
def test_default_project_sets_up_a_venv_and_passes_its_own_tests(set_up_project):
    project = set_up_project("scikit-learn")
    assert project.python.is_file()
    done = project.make("test")
    assert " passed" in done.stdout
    assert " failed" not in done.stdout
    # The quick tests leave the many-training ones to make test-all (and CI).
    assert re.search(r"\d+ deselected", done.stdout), done.stdout
