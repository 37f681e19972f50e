"""The tool commands run the project's own tools in the project folder and exit as they did."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from {{ cookiecutter.module_name }} import cli

from conftest import MODULE, ROOT, git

# A stand-in for scripts/lock.py: it says how it was started, then exits with 3.
SAYS_HOW_IT_RAN = """
import json, os, sys
print(json.dumps({"argv": sys.argv, "cwd": os.getcwd(), "python": sys.executable}))
sys.exit(3)
"""

# A stand-in for scripts/lock.py that runs until it is stopped.
RUNS_UNTIL_STOPPED = """
import pathlib, sys, time
pathlib.Path(sys.argv[1]).write_text("started", encoding="utf-8")
time.sleep(60)
"""

QUICK_AND_SLOW_TESTS = """
import pytest


def test_quick():
    pass


def test_other_quick():
    pass


@pytest.mark.slow
def test_slow():
    assert False
"""


def copy_project(folder):
    """The project's code and settings in a folder, so that the tools run there."""
    shutil.copytree(ROOT / "src", folder / "src", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(ROOT / "pyproject.toml", folder / "pyproject.toml")
    return folder


def tool(folder, *args, cwd=None, env=None, **options):
    """``python -m <module> <args>`` on the copy of the project in folder."""
    full_env = {**os.environ, **cli.SETTINGS, "PYTHONPATH": str(folder / "src"), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", MODULE, *args],
        cwd=cwd or folder,
        env=full_env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        **options,
    )


def test_test_runs_the_quick_tests_and_test_all_every_test_with_the_options_given(tmp_path):
    project = copy_project(tmp_path / "project")
    (project / "tests").mkdir()
    (project / "tests" / "test_some.py").write_text(QUICK_AND_SLOW_TESTS, encoding="utf-8")
    quiet = ("-q", "-p", "no:cacheprovider")

    done = tool(project, "test", *quiet)
    assert done.returncode == 0, done.stdout
    assert "2 passed, 1 deselected" in done.stdout

    done = tool(project, "test", "-k", "other", *quiet)
    assert done.returncode == 0, done.stdout
    assert "1 passed, 2 deselected" in done.stdout

    done = tool(project, "test-all", "-k", "slow or other", *quiet)
    assert done.returncode == 1, done.stdout
    assert "1 failed, 1 passed, 1 deselected" in done.stdout


def test_lock_runs_scripts_lock_py_in_the_project_folder_with_its_options(tmp_path):
    project = copy_project(tmp_path / "project")
    (project / "scripts").mkdir()
    script = project / "scripts" / "lock.py"
    script.write_text(SAYS_HOW_IT_RAN, encoding="utf-8")
    done = tool(project, "lock", "--upgrade", "x", cwd=project / "src")
    assert done.returncode == 3, done.stderr
    assert json.loads(done.stdout) == {
        "argv": [str(script), "--upgrade", "x"],
        "cwd": str(project),
        "python": sys.executable,
    }


@pytest.mark.skipif(os.name == "nt", reason="Ctrl-C is a console event on Windows, not SIGINT")
def test_ctrl_c_stops_a_tool_with_exit_code_130_and_no_traceback(tmp_path):
    project = copy_project(tmp_path / "project")
    (project / "scripts").mkdir()
    (project / "scripts" / "lock.py").write_text(RUNS_UNTIL_STOPPED, encoding="utf-8")
    started = tmp_path / "started"
    full_env = {**os.environ, **cli.SETTINGS, "PYTHONPATH": str(project / "src")}
    running = subprocess.Popen(
        [sys.executable, "-m", MODULE, "lock", str(started)],
        cwd=project,
        env=full_env,
        stderr=subprocess.PIPE,
        text=True,
        # As a terminal starts it: a shell that runs the tests in the
        # background (`make test &`, nohup) hands its children SIGINT ignored.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 30
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert started.exists(), "the lock script never started"
        running.send_signal(signal.SIGINT)
        _, errors = running.communicate(timeout=30)
    finally:
        running.kill()
        running.wait()
    assert running.returncode == 130
    assert "Traceback" not in errors


def test_lint_runs_pre_commit_in_a_repository_with_its_options(tmp_path):
    project = copy_project(tmp_path / "project")
    git(project, "init", "--quiet")
    done = tool(project, "lint", "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: pre-commit run ")


def test_lint_runs_the_hook_named_after_it_and_only_that_one(tmp_path):
    project = copy_project(tmp_path / "project")
    shutil.copy2(ROOT / ".pre-commit-config.yaml", project / ".pre-commit-config.yaml")
    git(project, "init", "--quiet")
    git(project, "add", "--all")
    # The notebook hook needs no environment installed: no download, no ruff.
    env = {"PRE_COMMIT_HOME": str(tmp_path / "pre-commit")}
    done = tool(project, "lint", "no-notebooks", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    results = [line for line in done.stdout.splitlines() if not line.startswith("[INFO]")]
    assert len(results) == 1, done.stdout  # one hook ran
    assert results[0].startswith("refuse Jupyter notebooks.") and "Skipped" in results[0]
    (project / "scratch.ipynb").write_text("{}", encoding="utf-8")
    git(project, "add", "scratch.ipynb")
    done = tool(project, "lint", "no-notebooks", env=env)
    assert done.returncode == 1
    assert "Failed" in done.stdout and "scratch.ipynb" in done.stdout


def test_lint_without_git_installed_says_it_needs_a_repository(tmp_path):
    project = copy_project(tmp_path / "project")
    git(project, "init", "--quiet")
    (tmp_path / "no-programs").mkdir()
    done = tool(project, "lint", env={"PATH": str(tmp_path / "no-programs")})
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr.splitlines() == [
        "lint: error: the checks run through pre-commit, which needs a git repository; "
        'make one first: git init -b main && git add -A && git commit -m "Start"'
    ]
