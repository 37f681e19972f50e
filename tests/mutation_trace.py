"""Record which lines of the mutated file each test reaches (mutation runs only).

A ``.pth`` file that tests/mutation.py puts into the venv that runs the tests
imports this module in every Python process that venv starts.  It does
nothing unless ``REPRO_MUTATION_TRACE`` names a folder; then it writes one
line per (test, line of the mutated file) pair it sees, to a file of its own
in that folder.  The tests run the project's commands in fresh processes,
and cookiecutter runs the hooks the same way, so a tracer inside the pytest
process alone would see almost nothing.

The test is whatever ``REPRO_MUTATION_TEST`` holds when the line runs: the
pytest plugin beside this module sets it around each test and each fixture,
and child processes inherit it.  Each line is written at once, not at exit:
the project's commands replace themselves with ``os.execve`` and some tests
end them with a signal.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import threading

TEST = "REPRO_MUTATION_TEST"


def start() -> None:
    folder = os.environ.get("REPRO_MUTATION_TRACE")
    if not folder:
        return
    suffix = os.environ["REPRO_MUTATION_FILE"]  # e.g. /hooks/guard.py
    # cookiecutter renders a hook into a temporary file of another name
    # before it runs it, and the tests render it beside them under its own
    # name: those copies are known by their first line.
    head = os.environ.get("REPRO_MUTATION_HEAD", "")
    temporary = tempfile.gettempdir()
    basename = suffix.rsplit("/", 1)[-1]
    decided: dict[str, bool] = {}
    seen: set[tuple[str, int]] = set()
    out = [-1]

    def wanted(filename: str) -> bool:
        answer = decided.get(filename)
        if answer is None:
            answer = filename.replace("\\", "/").endswith(suffix)
            copy = os.path.basename(filename) == basename
            if not answer and head and (copy or os.path.dirname(filename) == temporary):
                try:
                    with open(filename, encoding="utf-8") as script:
                        answer = script.readline().rstrip("\n") == head
                except (OSError, UnicodeDecodeError):
                    answer = False
            decided[filename] = answer
        return answer

    def write(key: tuple[str, int]) -> None:
        # A test may limit the size of the files a command writes (a full
        # disk): the trace then loses lines but the command is left alone.
        try:
            if out[0] < 0:
                name = os.path.join(folder, f"{os.getpid()}-{id(seen)}.lines")
                out[0] = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            os.write(out[0], (json.dumps(key) + "\n").encode())
        except OSError:
            pass

    def lines(frame, event, arg):
        if event == "line" or event == "call":
            key = (os.environ.get(TEST, ""), frame.f_lineno)
            if key not in seen:
                seen.add(key)
                write(key)
        return lines

    def calls(frame, event, arg):
        if event == "call" and wanted(frame.f_code.co_filename):
            return lines(frame, event, arg)
        return None

    sys.settrace(calls)
    threading.settrace(calls)


start()
