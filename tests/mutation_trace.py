"""Record which lines of the mutated modules each test reaches (mutation runs only).

A ``.pth`` file that tests/mutation.py puts into the venv that runs the tests
imports this module in every Python process that venv starts.  It does
nothing unless ``REPRO_MUTATION_TRACE`` names a folder; then it writes one
line per (test, module, line) it sees, to a file of its own in that folder.
The tests run the project's commands in fresh processes, and cookiecutter
runs the hooks the same way, so a tracer inside the pytest process alone
would see almost nothing.

``REPRO_MUTATION_FILES`` maps the end of each module's path (``/hooks/guard.py``)
to its first line.  The test is whatever ``REPRO_MUTATION_TEST`` holds when
the line runs: the pytest plugin beside this module sets it around each test
and each fixture, and child processes inherit it.  Each line is written at
once, not at exit: the project's commands replace themselves with
``os.execve``, and some tests end them with a signal.
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
    modules: dict[str, str] = json.loads(os.environ["REPRO_MUTATION_FILES"])
    names = {suffix.rsplit("/", 1)[-1] for suffix in modules}
    temporary = tempfile.gettempdir()
    decided: dict[str, str | None] = {}
    seen: set[tuple[str, str, int]] = set()
    out = [-1]

    def module_of(filename: str) -> str | None:
        if filename in decided:
            return decided[filename]
        path = filename.replace("\\", "/")
        found = next((s for s in modules if path.endswith(s)), None)
        # cookiecutter renders a hook into a temporary file of another name
        # before it runs it, and the tests render one beside them under its
        # own name: such copies are known by their first line.
        copy = os.path.basename(path) in names or os.path.dirname(filename) == temporary
        if found is None and copy and path.endswith(".py"):
            try:
                with open(filename, encoding="utf-8") as script:
                    first = script.readline().rstrip("\n")
                found = next((s for s, head in modules.items() if head == first), None)
            except (OSError, UnicodeDecodeError):
                found = None
        decided[filename] = found
        return found

    def write(key: tuple[str, str, int]) -> None:
        # A test may limit the size of the files a command writes (a full
        # disk): the trace then loses lines but the command is left alone.
        try:
            if out[0] < 0:
                name = os.path.join(folder, f"{os.getpid()}-{id(seen)}.lines")
                out[0] = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            os.write(out[0], (json.dumps(key) + "\n").encode())
        except OSError:
            pass

    def tracer(module: str):
        def lines(frame, event, arg):
            if event == "line" or event == "call":
                key = (os.environ.get(TEST, ""), module, frame.f_lineno)
                if key not in seen:
                    seen.add(key)
                    write(key)
            return lines

        return lines

    def calls(frame, event, arg):
        if event == "call":
            module = module_of(frame.f_code.co_filename)
            if module is not None:
                return tracer(module)(frame, event, arg)
        return None

    sys.settrace(calls)
    threading.settrace(calls)


start()
