"""One command line for every task: ``python -m <module> <command> [options]``.

The same commands run as ``<project> <command>`` (the console script) and
as ``make <command>``, on Linux, macOS and Windows alike.  Each command keeps
its own options: ``python -m <module> train --help``.
"""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from .errors import reader_gone

PROJECT = "{{ cookiecutter.project_slug }}"

# Every command: its name, what runs it ("module" runs module.main, and
# "module:function" that function) and the line --help shows for it.
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("add-data", "add_data", "register a CSV: its checksum and the [data] table"),
    ("fetch-data", "fetch_data", "get data kept out of git from its .url; accept only its sha256"),
    ("train", "train", "train from configs/train.toml; save the model and its manifest"),
    ("predict", "predict", "predict on the CPU with the newest model; write a predictions CSV"),
    ("report", "report", "write reports/<model>/: a Markdown page and figures of a model"),
    ("experiments", "experiments", "print every model in models/ side by side"),
    ("repro-check", "repro_check", "train and predict twice; fail unless bit-identical"),
    ("reproduce", "reproduce", "re-create a model at its commit; fail unless bit-identical"),
    ("test", "tools:test", "run the quick tests: one real training, every refusal"),
    ("test-all", "tools:test_all", "run every test, also those that train many times (CI)"),
    ("lint", "tools:lint", "run every pre-commit check on every file"),
    ("lock", "tools:lock", "regenerate the locks from requirements.in and requirements-dev.in"),
    ("check-env", "envcheck", "list every difference between .venv and the locks"),
)

# What every command runs with, whatever the shell it was started from, as
# the Makefile exports it: the hash seed is read only when Python starts.
SETTINGS = {"PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1"}


def summary(name: str) -> str:
    """The one line that describes a command (docstrings vanish under python -OO)."""
    return next(text for command, _, text in COMMANDS if command == name)


def program() -> str:
    """How the user started us: the console script, or python -m."""
    if Path(sys.argv[0]).stem == PROJECT:
        return PROJECT
    return f"python -m {__package__}"


def prog(name: str) -> str:
    """How to type a command again, as the user started it, for its usage line."""
    started = sys.argv[0]
    if started in (f"{PROJECT} {name}", f"python -m {__package__} {name}"):  # through main()
        return started
    if Path(started).stem == f"{PROJECT}-{name}":  # the command's own console script
        return Path(started).stem
    return f"python -m {__package__} {name}"


def usage() -> str:
    width = max(len(name) for name, _, _ in COMMANDS)
    lines = [f"usage: {program()} <command> [options]", "", "commands:"]
    lines += [f"  {name.ljust(width)}  {text}" for name, _, text in COMMANDS]
    lines += ["", f"`{program()} <command> --help` shows a command's options."]
    return "\n".join(lines)


def _in_fresh_process(argv: Sequence[str]) -> int:
    """Run this command line again in an interpreter that starts with SETTINGS."""
    flags = ["-O"] * sys.flags.optimize
    command = [sys.executable, *flags, "-m", __package__, *argv]
    child = subprocess.Popen(command, env={**os.environ, **SETTINGS})

    def stop(signum: int, _frame: object) -> None:
        child.send_signal(signum)

    # Ctrl-C reaches the child too; SIGTERM is passed on.  Either way the
    # child's cleanup runs, and its exit code is ours.
    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, stop)
    while True:
        try:
            return child.wait()
        except KeyboardInterrupt:
            continue


def main(argv: Sequence[str] | None = None) -> int:
    try:
        code = _dispatch(list(sys.argv[1:] if argv is None else argv))
        sys.stdout.flush()
        return code
    except BrokenPipeError:  # `--help | head`: the reader went away
        return reader_gone()


def _dispatch(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(usage(), file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    name, options = argv[0], argv[1:]
    targets = {command: target for command, target, _ in COMMANDS}
    if name not in targets:
        print(
            f"{program()}: error: unknown command {name!r}; use one of: {', '.join(targets)}",
            file=sys.stderr,
        )
        return 2
    if any(os.environ.get(key) != value for key, value in SETTINGS.items()):
        return _in_fresh_process(argv)
    module, _, function = targets[name].partition(":")
    sys.argv = [f"{program()} {name}", *options]
    run = getattr(importlib.import_module(f".{module}", __package__), function or "main")
    return int(run() or 0)
