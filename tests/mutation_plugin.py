"""pytest plugin for a mutation run: name the running test, or time it.

While a test runs, ``REPRO_MUTATION_TEST`` holds its node id; while a fixture
is set up, ``fixture:<name>``.  mutation_trace.py records each line of the
mutated file under that name, in this process and in every process a test
starts.  A fixture's lines count for every test that uses the fixture: a
session fixture that trains a model runs once, but each test that reads the
model depends on what it ran.  Lines run while no test runs (collection,
imports) count for every test.  Each test's fixtures, seconds and slow mark
go to ``tests.jsonl``.

While a mutant's tests run, ``REPRO_MUTATION_LIMITS`` maps each test to the
seconds it may take (tests/mutation_pick.py).  A test past its limit ends
pytest at once with a traceback of where it hung, and the mutant counts as
killed: a mutant that loops costs one test's limit, not the whole run's.
At the end of the session the plugin creates the file ``REPRO_MUTATION_DONE``
names, so that a process the mutant ended early is not taken for a pass.
"""

from __future__ import annotations

import faulthandler
import json
import os
import time
from pathlib import Path

import pytest

TEST = "REPRO_MUTATION_TEST"
LIMITS = json.loads(os.environ.get("REPRO_MUTATION_LIMITS") or "{}")
# pytest captures descriptor 2 while a test runs, and what a process that
# ends itself leaves there is lost: the traceback goes to a copy of it.
STDERR = os.fdopen(os.dup(2), "w") if LIMITS else None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    if "REPRO_MUTATION_TRACE" not in os.environ:  # a mutant's run
        limit = LIMITS.get(item.nodeid)
        if limit is not None:
            faulthandler.dump_traceback_later(limit, exit=True, file=STDERR)
        try:
            yield
        finally:
            faulthandler.cancel_dump_traceback_later()
        return
    os.environ[TEST] = item.nodeid
    start = time.monotonic()
    try:
        yield
    finally:
        os.environ[TEST] = ""
    entry = dict(
        test=item.nodeid,
        fixtures=list(item.fixturenames),
        seconds=time.monotonic() - start,
        slow=item.get_closest_marker("slow") is not None,
    )
    folder = Path(os.environ["REPRO_MUTATION_TRACE"])
    with open(folder / "tests.jsonl", "a", encoding="utf-8") as tests:
        tests.write(json.dumps(entry) + "\n")


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef, request):
    before = os.environ.get(TEST, "")
    os.environ[TEST] = f"fixture:{fixturedef.argname}"
    try:
        yield
    finally:
        os.environ[TEST] = before


def pytest_sessionfinish(session, exitstatus):
    done = os.environ.get("REPRO_MUTATION_DONE")
    if done and "REPRO_MUTATION_TRACE" not in os.environ:
        Path(done).write_text(str(int(exitstatus)), encoding="utf-8")
