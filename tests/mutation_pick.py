"""Run a mutant against the tests that reach its statement, not all of them.

cosmic-ray runs this as its test command, with the mutant already on disk:

    python mutation_pick.py TRACE ORIGINAL MUTATED MODULE [ALWAYS ...] -- python -m pytest ...

It compares MUTATED with the ORIGINAL copy to find the changed statement,
looks up in TRACE (a traced run of every test, unmutated, by
tests/mutation.py) which tests ran a line of it in MODULE, and runs pytest
on those alone, file by file from the cheapest, each file's tests in their
usual order.  A test that never runs a statement cannot fail on a change to
it, so the verdict is the one every test would give, in a fraction of the
time.  When no test reaches the statement the mutant survives without a run.
The tests of each ALWAYS file run for every mutant: their processes run in
venvs of their own, which the trace cannot follow.

Each test gets three times as long as it took unmutated, plus a minute, and
the tests together three times as long plus 30 seconds; past either the
mutant counts as killed (it made them loop or hang).  What the tests started
ends with them, so a mutant that makes a command restart itself for ever
leaves nothing running.
``python tests/mutation.py --every-test`` runs every test instead.
"""

from __future__ import annotations

import ast
import contextlib
import difflib
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

LIMITS = "REPRO_MUTATION_LIMITS"
DONE = "REPRO_MUTATION_DONE"


def changed_rows(original: list[str], mutated: list[str]) -> set[int]:
    """The 1-based rows of ORIGINAL that the mutant changed."""
    rows = set()
    matcher = difflib.SequenceMatcher(a=original, b=mutated, autojunk=False)
    for tag, first, last, _, _ in matcher.get_opcodes():
        if tag != "equal":
            rows.update(range(first + 1, max(last, first + 1) + 1))
    return rows


def statement_rows(source: str, row: int) -> set[int]:
    """The rows of the innermost statement holding ``row``, up to the start of
    its body: what Python reports running when it runs that part."""
    best = None
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.stmt):
            continue
        first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
        last = node.end_lineno or node.lineno
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and body[0].lineno > row:
            last = body[0].lineno - 1  # the header of an if, for, def ...
        if first <= row <= last and (best is None or last - first < best[1] - best[0]):
            best = (first, last)
    if best is None:
        return {row}
    return set(range(best[0], best[1] + 1))


def pick(trace: dict, module: str, rows: set[int], always: tuple[str, ...] = ()) -> list[str]:
    """The tests that ran any of ``rows`` of ``module``, or are in a file of
    ``always``, in the order ``order`` gives."""
    ran = trace["lines"].get(module, {})
    reached = {name for name, lines in ran.items() if rows & set(lines)}
    if "" in reached:  # run outside any test (at import): it counts for them all
        return order(trace, list(trace["tests"]), own_tests(module))
    fixtures = {name.removeprefix("fixture:") for name in reached if name.startswith("fixture:")}
    chosen = [
        test
        for test, uses in trace["tests"].items()
        if test in reached or fixtures & set(uses) or test.split("::")[0] in always
    ]
    return order(trace, chosen, own_tests(module))


def own_tests(module: str) -> str:
    """The test file written for a module: ``/pkg/data.py`` has ``tests/test_data.py``."""
    return f"tests/test_{module.rsplit('/', 1)[-1].removesuffix('.py')}.py"


def order(trace: dict, tests: list[str], own: str = "") -> list[str]:
    """File by file: the module's ``own`` test file first, then the file
    whose chosen tests took least time; in each file the quick tests, then
    the slow ones, each in the order they ran.  A mutant dies at the first
    test that fails, most often in the file written for its module, and
    otherwise in the cheapest file; a file's shared fixtures are set up
    once.  (A module every process runs at start reaches every test, and
    the file that tells may be the costliest.)"""
    seconds = trace["seconds"]
    files: dict[str, list[str]] = {}
    for test in tests:
        files.setdefault(test.split("::")[0], []).append(test)
    cost = {name: sum(seconds.get(t, 0) for t in chosen) for name, chosen in files.items()}
    ranked = sorted(files, key=lambda name: (name != own, cost[name]))
    slow = set(trace.get("slow", ()))
    # sorted() keeps the order they ran in among the quick and among the slow.
    return [t for name in ranked for t in sorted(files[name], key=lambda t: t in slow)]


def run_tests(command: list[str], seconds: float, env: dict[str, str] | None = None) -> int:
    """Run the tests; past ``seconds`` end them.  Either way, end every
    process they started that is still running."""
    process = subprocess.Popen(command, start_new_session=True, env=env)
    try:
        return process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        print(f"mutation: the tests ran over {seconds:.0f} s: the mutant counts as killed")
        return 1
    finally:
        with contextlib.suppress(ProcessLookupError):  # nothing of the group is left
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def limits(trace: dict, tests: list[str]) -> dict[str, float]:
    """How long each test may take under a mutant before it counts as hung."""
    return {test: 3 * trace["seconds"].get(test, 0) + 60 for test in tests}


def main(argv: list[str]) -> int:
    split = argv.index("--")
    trace_file, original_file, mutated_file, module, *always = argv[:split]
    command = argv[split + 1 :]
    trace = json.loads(Path(trace_file).read_text(encoding="utf-8"))
    original = Path(original_file).read_text(encoding="utf-8")
    mutated = Path(mutated_file).read_text(encoding="utf-8")
    rows: set[int] = set()
    for row in changed_rows(original.splitlines(), mutated.splitlines()):
        rows |= statement_rows(original, row)
    tests = pick(trace, module, rows, tuple(always))
    if not tests:
        print(f"mutation: no test runs rows {sorted(rows)}: the mutant survives untested")
        return 0
    print(f"mutation: {len(tests)} of {len(trace['tests'])} tests run rows {sorted(rows)}")
    forget_bytecode(Path(mutated_file))
    return run_picked(command, tests, trace)


def forget_bytecode(module: Path) -> None:
    """Remove the module's cached bytecode.  Python trusts a .pyc whose source
    has the same size and modification second: a mutant of the same size as
    the one before it, written within that second, would run the other's code."""
    for cached in (module.parent / "__pycache__").glob(f"{module.stem}.*.pyc"):
        cached.unlink(missing_ok=True)


def run_picked(command: list[str], tests: list[str], trace: dict) -> int:
    """Run ``tests`` under the plugin beside this file, which ends a test that
    runs over its own limit and records that pytest finished.  A run that
    exits 0 without finishing counts as a kill: the mutant ended the test
    process or replaced it (a command run at import)."""
    seconds = 3 * sum(trace["seconds"].get(t, 0) for t in tests) + 30
    with tempfile.TemporaryDirectory() as folder:
        done = Path(folder) / "finished"
        env = {**os.environ, LIMITS: json.dumps(limits(trace, tests)), DONE: str(done)}
        code = run_tests([*command, "-p", "mutation_plugin", *tests], seconds, env)
        if code == 0 and not done.exists():
            print("mutation: pytest ended before it finished: the mutant counts as killed")
            return 1
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
