"""One command line for every task, on any system: python -m <module> <command>."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from {{ cookiecutter.module_name }} import cli, paths, reproduce, seed
from {{ cookiecutter.module_name }}.errors import ProjectError

from conftest import CONTRACT, MODULE, OTHER_SHELL, ROOT, command, files_in


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


# The command line itself -------------------------------------------------------

USAGE_COMMANDS = [
    "  add-data     register a CSV: its checksum and the [data] table",
    "  fetch-data   get data kept out of git from its .url; accept only its sha256",
    "  train        train from configs/train.toml; save the model and its manifest",
    "  predict      predict on the CPU with the newest model; write a predictions CSV",
    "  report       write reports/<model>/: a Markdown page and figures of a model",
    "  experiments  print every model in models/ side by side",
    "  repro-check  train and predict twice; fail unless bit-identical",
    "  reproduce    re-create a model at its commit; fail unless bit-identical",
    "  test         run the quick tests: one real training, every refusal",
    "  test-all     run every test, also those that train many times (CI)",
    "  lint         run every pre-commit check on every file",
    "  lock         regenerate the locks from requirements.in and requirements-dev.in",
    "  check-env    list every difference between .venv and the locks",
]


def expected_usage(program: str) -> str:
    return "\n".join(
        [
            f"usage: {program} <command> [options]",
            "",
            "commands:",
            *USAGE_COMMANDS,
            "",
            f"`{program} <command> --help` shows a command's options.",
        ]
    )


def python_m(*args: str, cwd, env: dict | None = None, **popen) -> subprocess.CompletedProcess:
    """python -m <module> ARGS: the project's one command line, as a user types it."""
    streams = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **popen}
    return subprocess.run(
        [sys.executable, "-m", MODULE, *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(cwd / "src"), **(env or {})},
        text=True,
        check=False,
        timeout=120,
        **streams,
    )


@pytest.mark.parametrize("option", ["--help", "-h"])
def test_help_prints_every_command_aligned_on_stdout_and_exits_0(capsys, monkeypatch, option):
    monkeypatch.setattr(sys, "argv", ["/somewhere/__main__.py"])
    assert cli.main([option]) == 0
    shown = capsys.readouterr()
    assert shown.out == expected_usage(f"python -m {MODULE}") + "\n"
    assert shown.err == ""


def test_no_command_prints_the_usage_on_stderr_and_exits_2(capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["/somewhere/__main__.py"])
    assert cli.main([]) == 2
    shown = capsys.readouterr()
    assert shown.err == expected_usage(f"python -m {MODULE}") + "\n"
    assert shown.out == ""


def test_an_unknown_command_is_refused_listing_every_command_and_exits_2(workdir):
    done = python_m("trian", "--set", "epochs=2", cwd=workdir)
    assert done.returncode == 2
    names = ", ".join(name for name, _, _ in cli.COMMANDS)
    assert done.stderr.splitlines() == [
        f"python -m {MODULE}: error: unknown command 'trian'; use one of: {names}"
    ]
    assert done.stdout == ""


def test_the_console_script_names_itself_in_usage(monkeypatch):
    monkeypatch.setattr(sys, "argv", [str(Path("venv", "bin", cli.PROJECT))])
    assert cli.program() == cli.PROJECT
    assert cli.usage() == expected_usage(cli.PROJECT)
    # Its name is the first argument, whatever follows it.
    monkeypatch.setattr(sys, "argv", [str(Path("venv", "bin", cli.PROJECT)), "experiments"])
    assert cli.program() == cli.PROJECT


@pytest.mark.parametrize(
    ("argv0", "expected"),
    [
        (f"{cli.PROJECT} add-data", f"{cli.PROJECT} add-data"),
        (f"python -m {MODULE} add-data", f"python -m {MODULE} add-data"),
        (str(Path("venv", "bin", f"{cli.PROJECT}-add-data")), f"{cli.PROJECT}-add-data"),
        (str(Path("src", MODULE, "add_data.py")), f"python -m {MODULE} add-data"),
        (str(Path("venv", "bin", f"{cli.PROJECT}-train")), f"python -m {MODULE} add-data"),
    ],
)
def test_a_commands_usage_line_repeats_how_the_user_started_it(monkeypatch, argv0, expected):
    monkeypatch.setattr(sys, "argv", [argv0, "--label", "species"])  # whatever options follow
    assert cli.prog("add-data") == expected


def test_each_command_has_its_one_line_summary():
    assert cli.summary("add-data") == "register a CSV: its checksum and the [data] table"
    assert cli.summary("check-env") == "list every difference between .venv and the locks"


def test_help_into_a_closed_pipe_ends_with_exit_1_and_no_traceback(workdir):
    read, write = os.pipe()
    os.close(read)
    try:
        done = python_m("--help", cwd=workdir, env=cli.SETTINGS, stdout=write)
    finally:
        os.close(write)
    assert done.returncode == 1
    assert done.stderr == ""


# Records, at exit, what each Python process that loads it ran with.
RECORD = """
import atexit, json, os, sys

def _record():
    seen = dict(
        argv0=sys.argv[0],
        optimize=sys.flags.optimize,
        environ={name: os.environ.get(name) for name in ("PYTHONHASHSEED", "OMP_NUM_THREADS")},
    )
    path = os.path.join(os.environ["RECORD_FOLDER"], str(os.getpid()) + ".json")
    with open(path, "w", encoding="utf-8") as file:
        json.dump(seen, file)

atexit.register(_record)
"""


def run_recorded(workdir, tmp_path, *args: str, env: dict) -> tuple:
    """python ARGS in a copy of the project; what it printed, and what each process ran with."""
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "sitecustomize.py").write_text(RECORD, encoding="utf-8")
    (tmp_path / "records").mkdir()
    path = os.pathsep.join([str(tmp_path / "site"), str(workdir / "src")])
    started = subprocess.Popen(
        [sys.executable, *args],
        cwd=workdir,
        env={**os.environ, **env, "PYTHONPATH": path, "RECORD_FOLDER": str(tmp_path / "records")},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, errors = started.communicate(timeout=60)
    except subprocess.TimeoutExpired:  # a command that starts itself again without end
        if hasattr(os, "killpg"):
            os.killpg(started.pid, signal.SIGKILL)
        started.kill()
        raise
    done = subprocess.CompletedProcess(started.args, started.returncode, out, errors)
    records = [json.loads(p.read_text(encoding="utf-8")) for p in (tmp_path / "records").iterdir()]
    return done, sorted(
        records, key=lambda record: record["argv0"] != f"python -m {MODULE} add-data"
    )


@pytest.mark.parametrize("optimize", [0, 1, 2])
def test_a_command_from_another_shell_runs_again_with_the_fixed_settings_and_its_exit_code(
    workdir, tmp_path, optimize
):
    shell = {"PYTHONHASHSEED": "random", "OMP_NUM_THREADS": "4"}
    args = (*["-O"] * optimize, "-m", MODULE, "add-data", "data/nothing.csv")
    done, records = run_recorded(workdir, tmp_path, *args, env=shell)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "add-data: error: data/nothing.csv is not a file; give the path of a CSV file"
    ]
    child, parent = records
    assert child == {
        "argv0": f"python -m {MODULE} add-data",
        "optimize": optimize,
        "environ": cli.SETTINGS,
    }
    assert parent["argv0"].endswith("__main__.py") and parent["environ"] == shell


def test_a_command_started_with_the_settings_runs_in_that_one_process_and_exits_0(
    workdir, tmp_path
):
    args = ("-m", MODULE, "add-data", CONTRACT.path)
    done, records = run_recorded(workdir, tmp_path, *args, env=cli.SETTINGS)
    assert done.returncode == 0, done.stderr
    first = done.stdout.splitlines()[0]
    assert first.startswith(f"recorded the new checksum of {CONTRACT.path} ")
    assert records == [
        {"argv0": f"python -m {MODULE} add-data", "optimize": 0, "environ": cli.SETTINGS}
    ]


def start_training(workdir) -> subprocess.Popen:
    """python -m <module> train from another shell, in its own process group; returns once
    the re-started command is training (it has printed its first epoch)."""
    started = subprocess.Popen(
        [sys.executable, "-m", MODULE, "train", "--set", "epochs=10000", "--set", "hidden=8"],
        cwd=workdir,
        env={
            **os.environ,
            **OTHER_SHELL,
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": str(workdir / "src"),
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    for line in started.stdout:
        if line.startswith("epoch"):
            return started
    started.wait()
    raise AssertionError(f"train never started: {started.stderr.read()}")


def finish(started: subprocess.Popen) -> str:
    """What the command printed on stderr once every process of its group has ended."""
    try:
        return started.communicate(timeout=30)[1]
    except subprocess.TimeoutExpired:  # a process that was not stopped: no stray training
        os.killpg(started.pid, signal.SIGKILL)
        started.communicate()
        raise


@pytest.mark.skipif(os.name == "nt", reason="POSIX signals and process groups")
def test_sigterm_to_the_command_line_stops_the_command_it_started_which_leaves_no_model(workdir):
    started = start_training(workdir)
    started.send_signal(signal.SIGTERM)  # to the command line only, as a service manager might
    errors = finish(started)
    assert started.returncode == 128 + signal.SIGTERM
    assert errors.splitlines()[-1] == "train: interrupted by SIGTERM; no partial file was left"
    assert files_in(workdir / "models") == []


@pytest.mark.skipif(os.name == "nt", reason="POSIX signals and process groups")
def test_ctrl_c_stops_the_command_and_the_command_line_waits_and_exits_as_it_did(workdir):
    started = start_training(workdir)
    os.killpg(started.pid, signal.SIGINT)  # Ctrl-C reaches every process of the terminal
    errors = finish(started)
    assert started.returncode == 128 + signal.SIGINT
    assert errors.splitlines() == ["train: interrupted by SIGINT; no partial file was left"]
    assert files_in(workdir / "models") == []
