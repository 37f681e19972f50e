"""Run a mutant against the tests that reach its line, not the whole list.

cosmic-ray runs this as its test command, with the mutant already on disk:

    python mutation_pick.py MAP ORIGINAL MUTATED [ALWAYS ...] -- python -m pytest ...

It compares MUTATED with the ORIGINAL copy to find the changed statement,
looks up in MAP (written by tests/mutation.py from a traced run of the
unmutated tests) which tests ran a line of it, and runs pytest on those alone,
in their usual order.  A test that never runs a statement cannot fail on a
change to it, so the verdict is the same as with every test, in a fraction
of the time.  When no test reaches the statement the mutant survives without
a run.  The tests of each ALWAYS file run for every mutant: their processes
run in venvs of their own, which the trace cannot follow.  ``python
tests/mutation.py --every-test`` runs every test instead.
"""

from __future__ import annotations

import ast
import difflib
import json
import subprocess
import sys
from pathlib import Path


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


def pick(trace: dict, rows: set[int], always: tuple[str, ...] = ()) -> list[str] | None:
    """The tests that ran any of ``rows``, or are in a file of ``always``, in
    order; None means every test."""
    reached = {name for name, ran in trace["lines"].items() if rows & set(ran)}
    if "" in reached:
        return None  # run outside any test: at import, for all of them
    fixtures = {name.removeprefix("fixture:") for name in reached if name.startswith("fixture:")}
    return [
        test
        for test, uses in trace["tests"].items()
        if test in reached or fixtures & set(uses) or test.split("::")[0] in always
    ]


def main(argv: list[str]) -> int:
    split = argv.index("--")
    trace_file, original_file, mutated_file, *always = argv[:split]
    command = argv[split + 1 :]
    trace = json.loads(Path(trace_file).read_text(encoding="utf-8"))
    original = Path(original_file).read_text(encoding="utf-8")
    mutated = Path(mutated_file).read_text(encoding="utf-8")
    rows: set[int] = set()
    for row in changed_rows(original.splitlines(), mutated.splitlines()):
        rows |= statement_rows(original, row)
    tests = pick(trace, rows, tuple(always))
    if tests is None:
        tests = list(trace["tests"])
    if not tests:
        print(f"mutation: no test runs rows {sorted(rows)}: the mutant survives untested")
        return 0
    print(f"mutation: {len(tests)} of {len(trace['tests'])} tests run rows {sorted(rows)}")
    return subprocess.run([*command, *tests], check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
