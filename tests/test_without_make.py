"""Fast tier: the set-up, the lock and the command line need no make and no bash.

The set-up and lock scripts are imported from a baked project to check their
handling of both venv layouts (bin/python, and Scripts\\python.exe that a
Windows Python makes); the command line runs from the baked sources.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from conftest import default_answers


@pytest.fixture(scope="module")
def project(shared_bakes) -> Path:
    return shared_bakes("default", default_answers())


def load_script(project: Path, name: str):
    spec = importlib.util.spec_from_file_location(f"baked_{name}", project / "scripts" / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_venv_folders(venv: Path, *names: str) -> None:
    for name in names:
        path = venv / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("", encoding="utf-8")


def test_setup_finds_the_python_of_a_venv_a_windows_python_made(project, tmp_path):
    setup = load_script(project, "setup_venv.py")
    venv = tmp_path / ".venv"
    make_venv_folders(venv, "Scripts/python.exe", "Scripts/pre-commit.exe", "Lib/site.py")
    assert setup.is_windows_layout(venv)
    assert setup.venv_bin(venv) == venv / "Scripts"
    assert setup.venv_python(venv) == venv / "Scripts" / "python.exe"


def test_setup_finds_the_python_of_a_posix_venv(project, tmp_path):
    setup = load_script(project, "setup_venv.py")
    venv = tmp_path / ".venv"
    make_venv_folders(venv, "bin/python", "lib/python3.11/site.py")
    assert not setup.is_windows_layout(venv)
    assert setup.venv_python(venv) == venv / "bin" / "python"


def test_setup_names_the_layout_a_new_venv_will_have_on_each_system(project, tmp_path):
    setup = load_script(project, "setup_venv.py")
    venv = tmp_path / "not-yet"
    assert setup.venv_python(venv, windows=True) == venv / "Scripts" / "python.exe"
    assert setup.venv_python(venv, windows=False) == venv / "bin" / "python"
    expected = "Scripts" if os.name == "nt" else "bin"
    assert setup.venv_bin(venv) == venv / expected


def test_setup_takes_an_activated_venv_for_the_one_it_rebuilds(project, tmp_path):
    setup = load_script(project, "setup_venv.py")
    venv = tmp_path / ".venv"
    make_venv_folders(venv, "Scripts/python.exe")
    # PATH may name the folder through a link or with another spelling.
    (tmp_path / "link").symlink_to(venv, target_is_directory=True)
    assert setup.same_folder(tmp_path / "link" / "Scripts", setup.venv_bin(venv))
    assert not setup.same_folder(tmp_path / "absent", setup.venv_bin(venv))


def test_lock_uses_the_uv_of_either_venv_layout(project, tmp_path, monkeypatch):
    lock = load_script(project, "lock.py")
    monkeypatch.chdir(tmp_path)
    assert Path(lock.default_uv()) == Path(".venv", "bin", "uv")
    make_venv_folders(tmp_path / ".venv", "Scripts/uv.exe")
    assert Path(lock.default_uv()) == Path(".venv", "Scripts", "uv.exe")


def test_setup_reads_every_lock_entry_with_its_marker_and_hashes(project, tmp_path, monkeypatch):
    setup = load_script(project, "setup_venv.py")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.txt").write_text(
        "# a comment\n"
        "torch==2.13.0 ; sys_platform == 'darwin' \\\n"
        "    --hash=sha256:bb \\\n"
        "    --hash=sha256:aa\n"
        "    # via -r requirements.in\n"
        "torch==2.13.0+cpu ; sys_platform != 'darwin' \\\r\n"
        "    --hash=sha256:cc\r\n",
        encoding="utf-8",
    )
    assert setup.locked_entries(("a.txt",)) == {
        "torch==2.13.0 ; sys_platform == 'darwin'": ["sha256:aa", "sha256:bb"],
        "torch==2.13.0+cpu ; sys_platform != 'darwin'": ["sha256:cc"],
    }
    assert setup.as_requirement("x==1", ["sha256:aa", "sha256:bb"]) == (
        "x==1 --hash=sha256:aa --hash=sha256:bb\n"
    )


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_setup_says_at_once_when_the_torch_index_cannot_be_reached(cookies):
    project = Path(cookies.bake(extra_context={"framework": "pytorch"}).project_path)
    url = f"http://127.0.0.1:{closed_port()}/whl/cpu"
    done = subprocess.run(
        [sys.executable, "scripts/setup_venv.py"],
        cwd=project,
        env={**os.environ, "TORCH_INDEX_URL": url, "INSTALLER": "pip"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"ERROR: cannot reach {url} (TORCH_INDEX_URL")
    assert "set TORCH_INDEX_URL= (empty)" in line
    # Nothing was made: the venv is created only once the index answers.
    assert not (project / ".venv").exists()


def cli(project: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "digits_classifier", *args],
        cwd=project,
        env={**os.environ, "PYTHONPATH": str(project / "src"), **env},
        capture_output=True,
        text=True,
    )


def test_help_lists_every_command_with_its_line(project):
    done = cli(project, "--help")
    assert done.returncode == 0
    table = {}
    for line in done.stdout.split("commands:\n")[1].split("\n\n")[0].splitlines():
        name, text = line.split(maxsplit=1)
        table[name] = text
    wanted = ["add-data", "fetch-data", "train", "predict", "report", "experiments"]
    wanted += ["repro-check"]
    wanted += ["reproduce", "test", "test-all", "lint", "lock", "check-env"]
    assert sorted(table) == sorted(wanted)
    assert all(table.values())
    # Under python -OO the docstrings are gone; the list is not.
    assert cli(project, "--help", PYTHONOPTIMIZE="2").stdout == done.stdout


def into_a_closed_pipe(project: Path, *args: str) -> subprocess.CompletedProcess:
    """Run the command line with stdout a pipe whose reader is already gone (``| head``)."""
    reader, writer = os.pipe()
    os.close(reader)
    try:
        return subprocess.run(
            [sys.executable, "-m", "digits_classifier", *args],
            cwd=project,
            # Buffered, as stdout into a pipe is unless PYTHONUNBUFFERED is set.
            env={**os.environ, "PYTHONPATH": str(project / "src"), "PYTHONUNBUFFERED": ""},
            stdout=writer,
            stderr=subprocess.PIPE,
            text=True,
        )
    finally:
        os.close(writer)


def test_help_into_a_pipe_that_stopped_reading_ends_quietly(project):
    done = into_a_closed_pipe(project, "--help")
    assert done.stderr == ""
    assert done.returncode == 1


def test_an_unknown_command_is_refused_with_one_line_naming_the_known_ones(project):
    done = cli(project, "trian")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "python -m digits_classifier: error: unknown command 'trian'; use one of: "
        "add-data, fetch-data, train, predict, report, experiments, repro-check, reproduce, "
        "test, test-all, lint, lock, check-env"
    ]
    done = cli(project)
    assert done.returncode == 2
    assert done.stderr.startswith("usage: python -m digits_classifier <command>")


def test_the_console_script_is_the_command_line(project):
    scripts = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "scripts"
    ]
    assert scripts["digits-classifier"] == "digits_classifier.cli:main"


def test_every_make_target_but_setup_and_lock_calls_the_command_line(project):
    makefile = (project / "Makefile").read_text(encoding="utf-8")
    targets = ["check-env", "add-data", "fetch-data", "train", "predict", "report"]
    targets += ["experiments"]
    targets += ["repro-check", "reproduce"]
    for target in [*targets, "test", "test-all", "lint"]:
        recipe = makefile.split(f"\n{target}:", 1)[1].split("\n\n", 1)[0]
        assert f"$(PYTHON) -m $(MODULE) {target}" in recipe, target
    assert "\t@$(BOOTSTRAP) scripts/setup_venv.py\n" in makefile
    assert "\t@$(BOOTSTRAP) scripts/lock.py\n" in makefile
    assert "bash" not in makefile
