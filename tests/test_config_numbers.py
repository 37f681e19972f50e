"""Fast tier: numbers Python cannot read or hold, in a project's config and overrides."""

from __future__ import annotations

import sys

import pytest

from conftest import bake_cli, run

# Loads the baked project's config module alone (it needs the standard library
# only) and prints what config.load says about a file and an override.
PROBE = r"""
import sys
from pathlib import Path
sys.path.insert(0, "src")
from digits_classifier import config
from digits_classifier.errors import ProjectError
path = Path(sys.argv[1])
path.write_text(sys.argv[2], encoding="utf-8")
try:
    config.load(path, sys.argv[3:], {"seed": config.SHARED["seed"], "lr": config.Setting(
        float, 1e-6, 10.0, "lr", "learning rate")})
except ProjectError as error:
    print(error)
    sys.exit(1)
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    out = tmp_path_factory.mktemp("config-numbers")
    done = bake_cli(out, "init_git=no")
    assert done.returncode == 0, done.stderr
    return out / "digits-classifier"


@pytest.mark.parametrize(
    ("text", "overrides", "words"),
    [
        ("seed = " + "9" * 5000 + "\nlr = 0.1\n", [], "thousands of digits"),
        ("seed = 1\nlr = " + "1" * 400 + "\n", [], "out of range"),
        ("seed = 1\nlr = 1e400\n", [], "out of range"),
        ("seed = 1\nlr = 0.1\n", ["seed=" + "9" * 5000], "whole number"),
        ("seed = 1\nlr = 0.1\n", ["lr=" + "1" * 400], "out of range"),
    ],
    ids=["file-int-digits", "file-int-overflows-float", "file-float", "set-digits", "set-float"],
)
def test_numbers_too_large_for_python_get_one_line(project, tmp_path, text, overrides, words):
    done = run(
        [sys.executable, "-c", PROBE, tmp_path / "train.toml", text, *overrides],
        cwd=project,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1 and words in lines[0], done.stdout
    assert len(lines[0]) < 400
