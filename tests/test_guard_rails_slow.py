"""Slow tier: the guard rails, used as a student would meet them.

Fresh projects pass their own hooks with nothing to change.  On a project
set up for real (its own venv, its own installed git hook), real commits of
notebooks and large files are refused with an explanation, a normal commit
goes through, and the generated policy test catches a notebook that was
committed with --no-verify.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from conftest import BIN, bake_cli, git, run

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("guard-rails")]

# A default bake, and one variant per framework that also varies every other
# option, including an author name full of characters that break quoting.
HOSTILE_NAME = 'Zoë "Z" O\'Brien \\ $HOME `id` #1'
VARIANTS = {
    "default": [],
    "pytorch": ["framework=pytorch", "license=Apache-2.0", "ci=gitlab", "python_version=3.12"],
    "tensorflow": ["framework=tensorflow", "license=BSD-3-Clause", "ci=none"],
    "numpy": [
        "framework=numpy",
        "license=none",
        "python_version=3.13",
        f"author_name={HOSTILE_NAME}",
    ],
    "scikit-learn": ["framework=scikit-learn", "ci=gitlab", "python_version=3.13"],
}
NOTEBOOK = json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}) + "\n"
SCRIPT = '"""A first look at the data."""\n\nprint("rows:", 1797)\n'
# What the refusal must tell a student: why, and what to do instead.
EXPLANATION = ("Hidden kernel state", "cells run out of order", "jupyter nbconvert --to script")
MEBIBYTE = 1024 * 1024
# The generated project's own test runner, run from the project folder.
PYTEST = [".venv/bin/python", "-m", "pytest", "-q", "-p", "no:cacheprovider"]


def committer_env() -> dict:
    env = dict(os.environ)
    for role in ("AUTHOR", "COMMITTER"):
        env[f"GIT_{role}_NAME"] = "Grace Hopper"
        env[f"GIT_{role}_EMAIL"] = "grace@example.org"
    return env


def commit(project: Path, *extra: str) -> tuple[int, str]:
    """A real `git commit`, through whatever git hook the project installed."""
    done = run(
        ["git", "commit", "--message", "Add work", *extra],
        cwd=project,
        env=committer_env(),
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


def add(project: Path, name: str, text: str) -> None:
    path = project / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    git(project, "add", "--", name)


def csv_of_size(size: int) -> str:
    line = "0123456789,abcd\n"
    assert size % len(line) == 0
    return line * (size // len(line))


@pytest.fixture(scope="module")
def set_up_repo(tmp_path_factory) -> Path:
    """A fresh bake, set up with `make setup`, that these tests commit into."""
    out = tmp_path_factory.mktemp("guard-rails")
    done = bake_cli(out, "framework=numpy")
    assert done.returncode == 0, done.stderr
    project = out / "digits-classifier"
    run(["make", "setup"], cwd=project)
    return project


@pytest.fixture
def repo(set_up_repo):
    """The set-up project, put back to its state before the test afterwards."""
    head = git(set_up_repo, "rev-parse", "HEAD")
    yield set_up_repo
    git(set_up_repo, "reset", "--quiet", "--hard", head)
    git(set_up_repo, "clean", "--quiet", "--force", "-d")


@pytest.mark.parametrize("variant", VARIANTS.values(), ids=VARIANTS.keys())
def test_fresh_project_passes_its_own_hooks_with_nothing_to_change(tmp_path, variant):
    done = bake_cli(tmp_path, *variant)
    assert done.returncode == 0, done.stderr
    (project,) = tmp_path.iterdir()
    hooks = run(
        [BIN / "pre-commit", "run", "--all-files", "--show-diff-on-failure"],
        cwd=project,
        check=False,
    )
    assert hooks.returncode == 0, hooks.stdout + hooks.stderr
    assert "Passed" in hooks.stdout
    assert git(project, "status", "--porcelain", "--untracked-files=all") == ""


def test_set_up_project_installs_the_hook_and_passes_make_lint(repo):
    assert (repo / ".git" / "hooks" / "pre-commit").is_file()
    done = run(["make", "lint"], cwd=repo)
    assert "Failed" not in done.stdout
    assert git(repo, "status", "--porcelain") == ""


@pytest.mark.parametrize("name", ["nb.ipynb", "sub/dir/Analysis.IPYNB"])
def test_commit_of_a_notebook_is_refused_with_the_reason_and_the_fix(repo, name):
    head = git(repo, "rev-parse", "HEAD")
    add(repo, name, NOTEBOOK)
    code, output = commit(repo)
    assert code != 0
    for words in (*EXPLANATION, name):
        assert words in output
    assert git(repo, "rev-parse", "HEAD") == head


def test_notebook_staged_with_a_normal_file_blocks_the_whole_commit(repo):
    head = git(repo, "rev-parse", "HEAD")
    add(repo, "explore/first_look.py", SCRIPT)
    add(repo, "explore/First look.ipynb", NOTEBOOK)
    code, output = commit(repo)
    assert code != 0
    assert "explore/First look.ipynb" in output
    assert EXPLANATION[0] in output
    assert git(repo, "rev-parse", "HEAD") == head
    # Following the message's advice lets the script through on its own.
    git(repo, "rm", "--cached", "--quiet", "--", "explore/First look.ipynb")
    code, output = commit(repo)
    assert code == 0, output
    assert git(repo, "show", "--name-only", "--format=", "HEAD") == "explore/first_look.py"


def test_normal_commit_runs_every_hook_and_succeeds(repo):
    head = git(repo, "rev-parse", "HEAD")
    add(repo, "explore/first_look.py", SCRIPT)
    code, output = commit(repo)
    assert code == 0, output
    # The hook really ran: ruff checked the new file, it was not skipped.
    assert re.search(r"^ruff check\.+Passed$", output, re.MULTILINE), output
    assert git(repo, "rev-parse", "HEAD~1") == head


def test_commit_of_a_file_over_1_mb_is_refused(repo):
    head = git(repo, "rev-parse", "HEAD")
    add(repo, "data/raw_scans.csv", csv_of_size(2 * MEBIBYTE))
    code, output = commit(repo)
    assert code != 0
    assert "data/raw_scans.csv (2048 KB) exceeds 1024 KB" in output
    assert git(repo, "rev-parse", "HEAD") == head


def test_make_lint_catches_a_large_file_committed_without_hooks(repo):
    add(repo, "data/raw_scans.csv", csv_of_size(2 * MEBIBYTE))
    code, output = commit(repo, "--no-verify")
    assert code == 0, output
    lint = run(["make", "lint"], cwd=repo, check=False)
    assert lint.returncode != 0
    assert "data/raw_scans.csv (2048 KB) exceeds 1024 KB" in lint.stdout


def test_bundled_dataset_of_1_mb_can_be_committed(repo):
    add(repo, "data/digits.csv", csv_of_size(MEBIBYTE))
    code, output = commit(repo)
    assert code == 0, output
    assert run(["make", "lint"], cwd=repo, check=False).returncode == 0


def test_generated_policy_test_fails_naming_a_notebook_committed_without_hooks(repo):
    policy = [*PYTEST, "tests/test_policy.py::test_no_notebook_is_tracked"]
    before = run(policy, cwd=repo, check=False)
    assert before.returncode == 0, before.stdout
    assert "1 passed" in before.stdout

    add(repo, "reports/Summary.ipynb", NOTEBOOK)
    code, output = commit(repo, "--no-verify")
    assert code == 0, output

    after = run(policy, cwd=repo, check=False)
    assert after.returncode == 1, after.stdout
    assert "reports/Summary.ipynb" in after.stdout
    # CI's other line of defence: the hooks, run on every tracked file.
    lint = run(["make", "lint"], cwd=repo, check=False)
    assert lint.returncode != 0
    assert "reports/Summary.ipynb" in lint.stdout


def test_generated_policy_test_fails_when_the_ruff_hook_drifts_from_the_lock(repo):
    policy = [*PYTEST, "tests/test_policy.py::test_ruff_hook_runs_the_ruff_of_the_dev_lock"]
    assert run(policy, cwd=repo, check=False).returncode == 0
    lock = repo / "requirements-dev.txt"
    text = lock.read_text(encoding="utf-8")
    (locked,) = re.findall(r"^ruff==(\S+) ", text, re.MULTILINE)
    lock.write_text(text.replace(f"ruff=={locked} ", "ruff==0.0.1 "), encoding="utf-8")
    drifted = run(policy, cwd=repo, check=False)
    assert drifted.returncode == 1
    assert f"pin ruff {locked}, but requirements-dev.txt locks ruff 0.0.1" in drifted.stdout
