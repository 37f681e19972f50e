"""One command line for every task, on any system: python -m <module> <command>."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from {{ cookiecutter.module_name }} import cli, paths, reproduce, seed
from {{ cookiecutter.module_name }}.errors import ProjectError

from conftest import MODULE, ROOT, command, files_in


def test_help_of_every_command_works_without_docstrings():
    """python -OO (or PYTHONOPTIMIZE=2) drops docstrings; --help must still work."""
    tools = ("test", "test-all", "lint", "lock")
    names = [name for name, _, _ in cli.COMMANDS if name not in tools]
    script = (
        "import sys\n"
        f"from {MODULE} import cli\n"
        f"for name in {names!r}:\n"
        "    try:\n"
        "        cli.main([name, '--help'])\n"
        "    except SystemExit as stop:\n"
        "        assert stop.code in (0, None), (name, stop.code)\n"
    )
    env = {**os.environ, **cli.SETTINGS, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [sys.executable, "-OO", "-c", script], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("usage:") == len(names), done.stdout


def test_the_venv_python_is_found_in_both_layouts(tmp_path):
    windows = tmp_path / "made-on-windows"
    (windows / "Scripts").mkdir(parents=True)
    (windows / "Scripts" / "python.exe").write_bytes(b"")
    assert paths.venv_python(windows) == windows / "Scripts" / "python.exe"
    posix = tmp_path / "made-on-linux"
    (posix / "bin").mkdir(parents=True)
    (posix / "bin" / "python").write_bytes(b"")
    assert paths.venv_python(posix) == posix / "bin" / "python"
    if os.name != "nt":  # a venv not made yet is named as this system makes it
        assert paths.venv_python(tmp_path / "later") == tmp_path / "later" / "bin" / "python"


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("setup_venv.py", [sys.executable, "scripts/setup_venv.py"]),
        ("setup_venv.sh", ["bash", "scripts/setup_venv.sh"]),
    ],
)
def test_reproduce_sets_up_a_commit_with_the_set_up_it_has(tmp_path, script, expected):
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / script).write_text("", encoding="utf-8")
    assert reproduce.setup_command(tmp_path) == expected


def test_reproduce_names_a_commit_without_any_set_up(tmp_path):
    with pytest.raises(ProjectError, match=r"has no scripts/setup_venv\.py"):
        reproduce.setup_command(tmp_path)


def test_a_restart_without_exec_waits_for_the_new_process_and_exits_as_it_did():
    """On Windows, where exec does not replace the process, the caller must still wait."""
    exit_code = "import os, sys; sys.exit(int(os.environ['PYTHONHASHSEED']) + 3)"
    command = [sys.executable, "-c", exit_code]
    with pytest.raises(SystemExit) as stop:
        seed.start_again(command, {**os.environ, "PYTHONHASHSEED": "4"}, replace=False)
    assert stop.value.code == 7


def test_lint_outside_a_repository_says_to_make_one(tmp_path):
    plain = tmp_path / "plain"
    for name in ("src", "pyproject.toml", ".pre-commit-config.yaml"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, plain / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, plain / name)
    env = {**os.environ, **cli.SETTINGS, "PYTHONPATH": str(plain / "src")}
    done = subprocess.run(
        [sys.executable, "-m", MODULE, "lint"],
        cwd=plain,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "lint: error: the checks run through pre-commit, which needs a git repository; "
        'make one first: git init -b main && git add -A && git commit -m "Start"'
    ]


def test_help_anywhere_in_repro_checks_options_prints_usage_and_trains_nothing(workdir):
    done = command("repro_check", "--set", "epochs=2", "--help", cwd=workdir)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: ")
    assert not (workdir / "models").exists() or files_in(workdir / "models") == []
