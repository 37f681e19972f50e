"""Fast tier: what `make mutation` mutates and runs is there, and its list of
equivalent mutants names real lines.

The run itself takes an hour and is weekly (tests/mutation.py); these checks
catch a renamed module or test file, a misspelt operator, or a stale entry
before then.
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
from pathlib import Path

import mutation
import mutation_pick
import pytest
import yaml

from conftest import TEMPLATE

PROJECT = TEMPLATE / "{{cookiecutter.project_slug}}"
SITE_PACKAGES = Path(pytest.__file__).parents[1]


@pytest.mark.parametrize("target", mutation.TARGETS, ids=lambda t: t.name)
def test_each_mutated_module_exists(target):
    assert mutation.template_path(target).is_file()
    for name in target.untraced:
        assert name in mutation.HOOK_TESTS


@pytest.mark.parametrize("name", mutation.HOOK_TESTS)
def test_each_test_file_the_hooks_run_against_exists(name):
    assert (TEMPLATE / "tests" / f"test_{name}.py").is_file()


def test_every_module_of_the_default_project_is_mutated_or_says_why_not():
    source = PROJECT / "src" / "{{cookiecutter.module_name}}"
    mutated = {mutation.template_path(t) for t in mutation.TARGETS if t.kind == "project"}
    left = set()
    for path in source.rglob("*.py"):
        if path.parent.name == "backends" and path.name not in (
            "__init__.py",
            "sklearn_backend.py",
        ):
            continue  # the other frameworks' backends are not in the default project
        if path not in mutated:
            left.add(path.relative_to(source).as_posix())
    assert left == {"backends/__init__.py", *mutation.NOT_MUTATED}


def _operators() -> list[str]:
    done = subprocess.run(
        [mutation.BIN / "cosmic-ray", "operators"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.split()


def test_each_counterpart_names_an_operator_cosmic_ray_has():
    operators = _operators()
    for kind, pairs in mutation.COUNTERPARTS.items():
        for pair in pairs.split("|"):
            assert f"core/Replace{kind}Operator_{pair}" in operators, pair
    left_out = re.compile("|".join(mutation.LEFT_OUT))
    kept = [op for op in operators if not left_out.match(op)]
    assert "core/ReplaceComparisonOperator_Lt_LtE" in kept
    assert "core/ReplaceBinaryOperator_Add_LShift" not in kept
    assert "core/NumberReplacer" in kept and "core/AddNot" in kept


def test_each_equivalent_mutant_names_a_line_of_its_module_and_says_why():
    targets = {t.name: t for t in mutation.TARGETS}
    operators = set(_operators())
    entries = mutation.load_equivalent()
    for entry in entries:
        assert set(entry) == {"module", "operator", "code", "why"}, entry
        assert entry["module"] in targets, entry
        assert entry["operator"] in operators or entry["operator"] == "*", entry
        lines = [line.strip() for line in mutation.source_lines(targets[entry["module"]])]
        assert entry["code"] in lines, entry
        why = entry["why"].strip()
        assert why and "\n" not in why, entry
    # A second entry for one mutant is never used, and the run reports it as stale.
    keys = [(e["module"], e["operator"], e["code"]) for e in entries]
    assert sorted({k for k in keys if keys.count(k) > 1}) == []


# Each mutant runs only the tests that reach its statement (tests/mutation_pick.py),
# from a trace of the unmutated run (tests/mutation_trace.py, mutation_plugin.py).

MODULE_SOURCE = """\
import os
import sys


def run_later():
    os.execv(sys.executable, [sys.executable, "-c", "import traced; traced.second()"])


def first():
    if os.environ.get("LATER"):
        run_later()
    return 1


@staticmethod
def second():
    value = 2
    return value


def never():
    return 3
"""

TESTS_SOURCE = """\
import importlib.util
import os
import subprocess
import sys

import pytest


def traced(*statements):
    code = "; ".join(["import traced", *statements])
    subprocess.run([os.environ["TRACED_PYTHON"], "-c", code], check=True)


@pytest.fixture(scope="module")
def prepared():
    traced("traced.first()")


def test_uses_the_fixture(prepared):
    pass


def test_uses_it_again_once_set_up(prepared):
    pass


def test_starts_a_command_that_replaces_itself():
    env = {**os.environ, "LATER": "1"}
    subprocess.run([os.environ["TRACED_PYTHON"], "-c", "import traced; traced.first()"],
                   env=env, check=True)


def test_in_no_process_of_the_module():
    pass


def test_loads_a_copy_rendered_under_its_own_name(tmp_path):
    copy = tmp_path / "traced.py"
    copy.write_text(open(os.environ["TRACED_SOURCE"]).read())
    spec = importlib.util.spec_from_file_location("rendered", copy)
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
"""


def test_a_trace_names_the_tests_and_fixtures_that_reach_each_line_in_any_process(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([mutation.sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    python = venv / "bin" / "python"
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "traced.py").write_text(MODULE_SOURCE, encoding="utf-8")
    (tmp_path / "test_some.py").write_text(TESTS_SOURCE, encoding="utf-8")
    hooks = mutation.install_tracer([python], tmp_path / "tracer")
    assert venv in hooks[0].parents
    folder = tmp_path / "trace"
    folder.mkdir()
    env = {
        **mutation.os.environ,
        "TRACED_PYTHON": str(python),
        "TRACED_SOURCE": str(tmp_path / "code" / "traced.py"),
        # pytest from this venv, run by the new one, whose .pth file loads the tracer.
        "PYTHONPATH": f"{tmp_path / 'code'}:{tmp_path / 'tracer'}:{SITE_PACKAGES}",
        "REPRO_MUTATION_TRACE": str(folder),
        "REPRO_MUTATION_FILES": mutation.json.dumps(
            {"/code/traced.py": MODULE_SOURCE.splitlines()[0], "/other.py": "# other"}
        ),
        "REPRO_MUTATION_TEST": "",
    }
    done = subprocess.run(
        [
            python,
            "-m",
            "pytest",
            "-q",
            "-p",
            "mutation_plugin",
            "-p",
            "no:cacheprovider",
            "test_some.py",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    trace = mutation.read_trace(folder)
    fixture, again, replaced, none, copied = (
        f"test_some.py::{name}"
        for name in (
            "test_uses_the_fixture",
            "test_uses_it_again_once_set_up",
            "test_starts_a_command_that_replaces_itself",
            "test_in_no_process_of_the_module",
            "test_loads_a_copy_rendered_under_its_own_name",
        )
    )
    assert list(trace["tests"]) == [fixture, again, replaced, none, copied]
    assert "prepared" in trace["tests"][again]
    assert list(trace["lines"]) == ["/code/traced.py"]
    assert trace["slow"] == [] and set(trace["seconds"]) == set(trace["tests"])

    def rows_of(text):
        return mutation_pick.statement_rows(
            MODULE_SOURCE, MODULE_SOURCE.splitlines().index(text) + 1
        )

    def picked(text):
        return mutation_pick.pick(trace, "/code/traced.py", rows_of(text))

    # The fixture's process ran first(), once: every test that uses the fixture.
    assert picked("    return 1") == [fixture, again]
    # Lines before and after an exec in the command a test started.
    assert picked("        run_later()") == [replaced]
    assert picked("    value = 2") == [replaced]
    # Run at import, in both processes, and in the pytest process for a copy.
    assert picked("@staticmethod") == [fixture, again, replaced, copied]
    assert picked("    return 3") == []  # no test reaches it: survives untested
    # Without the tracer, nothing is recorded: the .pth file is what loads it.
    hooks[0].unlink()
    for part in folder.glob("*.lines"):
        part.unlink()
    subprocess.run([python, "-c", "import traced; traced.first()"], env=env, check=True)
    assert not list(folder.glob("*.lines"))


def test_a_mutant_is_found_by_the_rows_it_changed_and_widened_to_its_statement():
    original = [
        "def f(a, b):",
        "    if (a <",
        "            b):",
        "        return 1",
        "    return 2",
    ]
    mutated = [*original]
    mutated[2] = "            b) is None:"
    rows = mutation_pick.changed_rows(original, mutated)
    assert rows == {3}
    # The whole header of the if, not its body: Python may report either row.
    assert mutation_pick.statement_rows("\n".join(original), 3) == {2, 3}
    assert mutation_pick.statement_rows("\n".join(original), 5) == {5}


def test_a_line_run_outside_any_test_picks_every_test_the_cheapest_file_first_slow_last():
    trace = dict(
        tests={"t::a": [], "t::b": ["x"], "u::c": [], "v::d": []},
        seconds={"t::a": 3.0, "t::b": 0.5, "u::c": 1.0, "v::d": 9.0},
        slow=["t::a"],
        lines={"m": {"": [1], "t::a": [2], "fixture:x": [3], "v::d": [5], "u::c": [5]}},
    )
    # t costs 3.5 s in all, u 1 s, v 9 s: a file's tests stay together, the slow t::a last.
    assert mutation_pick.pick(trace, "m", {1}) == ["u::c", "t::b", "t::a", "v::d"]
    assert mutation_pick.pick(trace, "m", {2}) == ["t::a"]
    assert mutation_pick.pick(trace, "m", {3}) == ["t::b"]
    assert mutation_pick.pick(trace, "m", {5}) == ["u::c", "v::d"]
    assert mutation_pick.pick(trace, "m", {4}) == []
    assert mutation_pick.pick(trace, "other", {1}) == []
    # Only the chosen tests count: t::b alone is cheaper than u.
    assert mutation_pick.pick(trace, "m", {3, 5}) == ["t::b", "u::c", "v::d"]
    # A file whose processes run in venvs of their own, which the trace cannot follow.
    assert mutation_pick.pick(trace, "m", {4}, ("t",)) == ["t::b", "t::a"]


def test_the_test_file_written_for_the_module_runs_before_cheaper_files():
    trace = dict(
        tests={"tests/test_data.py::a": [], "tests/test_portable.py::p": [], "tests/x.py::c": []},
        seconds={"tests/test_data.py::a": 1.0, "tests/test_portable.py::p": 9.0},
        lines={"/pkg/portable.py": {"": [1], "tests/test_data.py::a": [2]}},
    )
    everything = mutation_pick.pick(trace, "/pkg/portable.py", {1})
    assert everything == ["tests/test_portable.py::p", "tests/x.py::c", "tests/test_data.py::a"]
    # Its own file runs first only where it reaches the statement.
    assert mutation_pick.pick(trace, "/pkg/portable.py", {2}) == ["tests/test_data.py::a"]
    assert mutation_pick.own_tests("/hooks/guard.py") == "tests/test_guard.py"


def test_tests_that_run_over_their_time_are_ended_with_what_they_started(tmp_path):
    started, finished = tmp_path / "started", tmp_path / "finished"
    child = f"import time, pathlib; time.sleep(1); pathlib.Path({str(finished)!r}).touch()"
    parent = (
        "import pathlib, subprocess, sys, time;"
        f" subprocess.Popen([sys.executable, '-c', {child!r}]);"
        f" pathlib.Path({str(started)!r}).touch(); time.sleep(60)"
    )
    assert mutation_pick.run_tests([mutation.sys.executable, "-c", parent], 0.5) == 1
    assert started.exists()
    mutation.time.sleep(1.5)
    assert not finished.exists()  # the command the tests started went with them
    assert mutation_pick.run_tests([mutation.sys.executable, "-c", "raise SystemExit(3)"], 30) == 3


def test_what_the_tests_started_ends_with_them_even_when_they_pass(tmp_path):
    # A mutant that makes a command restart itself leaves its chain behind
    # when pytest exits; the next mutant would share the cores with it.
    finished = tmp_path / "finished"
    child = f"import time, pathlib; time.sleep(1); pathlib.Path({str(finished)!r}).touch()"
    parent = f"import subprocess, sys; subprocess.Popen([sys.executable, '-c', {child!r}])"
    assert mutation_pick.run_tests([mutation.sys.executable, "-c", parent], 30) == 0
    mutation.time.sleep(1.5)
    assert not finished.exists()


def test_a_test_past_its_own_limit_ends_the_run_as_killed(tmp_path):
    (tmp_path / "test_hang.py").write_text(
        "import time\n"
        "def test_quick():\n    pass\n"
        "def test_hangs():\n    time.sleep(60)\n"
        "def test_after():\n    pass\n",
        encoding="utf-8",
    )
    limits = {"test_hang.py::test_quick": 0.5, "test_hang.py::test_hangs": 1}
    env = {**mutation.os.environ, mutation_pick.LIMITS: mutation.json.dumps(limits)}
    env.pop("REPRO_MUTATION_TRACE", None)
    env["PYTHONPATH"] = str(Path(mutation_pick.__file__).parent)
    command = [mutation.sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    command += ["-p", "mutation_plugin", "test_hang.py"]
    began = mutation.time.monotonic()
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert mutation.time.monotonic() - began < 30  # not the 60 s the test sleeps
    assert done.returncode != 0
    assert "Timeout (0:00:01)" in done.stderr  # the hung test's limit, not the quick one's
    assert "in test_hangs" in done.stderr  # with where it hung


def _session(folder: Path, listed_from: str | None) -> Path:
    """A session that holds its list of mutants, listed from ``listed_from``."""
    folder.mkdir()
    db = folder / "module.sqlite"
    with sqlite3.connect(db) as connection:
        connection.execute("CREATE TABLE work_items (job_id TEXT)")
        connection.execute("INSERT INTO work_items VALUES ('one mutant')")
    if listed_from is not None:
        db.with_suffix(".orig.py").write_text(listed_from, encoding="utf-8")
    return db


def test_a_session_listed_from_other_code_is_started_again(tmp_path):
    module = tmp_path / "module.py"
    module.write_text("x = 1\n", encoding="utf-8")
    assert not mutation.stale(_session(tmp_path / "same", "x = 1\n"), module)
    assert mutation.stale(_session(tmp_path / "other", "x = 2\n"), module)
    # A session from before sessions kept their code is taken as it is.
    assert not mutation.stale(_session(tmp_path / "older", None), module)
    # One that a stopped run left empty is listed again anyway.
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "module.sqlite").touch()
    (empty / "module.orig.py").write_text("x = 2\n", encoding="utf-8")
    assert not mutation.stale(empty / "module.sqlite", module)


def test_survivors_are_read_at_their_rows_in_the_code_they_were_made_in(tmp_path, monkeypatch):
    target = mutation.TARGETS[0]
    monkeypatch.setattr(mutation, "BUILD", tmp_path)
    assert mutation.session_lines(target) == mutation.source_lines(target)
    mutation.session(target).parent.mkdir(parents=True)
    older = "# a line the module has since lost\n" + mutation.template_path(target).read_text()
    mutation.session(target).with_suffix(".orig.py").write_text(older, encoding="utf-8")
    assert mutation.session_lines(target) == older.splitlines()


def test_the_weekly_workflow_runs_every_module_once_and_one_table_of_them_all():
    workflow = yaml.safe_load(
        (TEMPLATE / ".github" / "workflows" / "mutation.yml").read_text(encoding="utf-8")
    )
    shards = workflow["jobs"]["mutation"]["strategy"]["matrix"]["modules"]
    named = [name for shard in shards for name in shard.split()]
    assert sorted(named) == sorted(t.name for t in mutation.TARGETS)
    table = workflow["jobs"]["table"]
    assert table["needs"] == "mutation" and table["if"] == "always()"
    runs = [step.get("run", "") for step in table["steps"]]
    assert any("make mutation" in run and "--report" in run for run in runs)


def test_a_test_process_that_ends_or_is_replaced_before_pytest_finishes_counts_as_killed(
    tmp_path, monkeypatch
):
    # A mutant of `if __name__ == "__main__":` runs the command when a test
    # imports the module; the command exits 0 in pytest's place.
    monkeypatch.setenv("PYTHONPATH", str(Path(mutation_pick.__file__).parent))
    monkeypatch.delenv("REPRO_MUTATION_TRACE", raising=False)
    command = [mutation.sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    command.append(f"--rootdir={tmp_path}")
    trace: dict = {"seconds": {}}
    replaced = "import os, sys\nos.execv(sys.executable, [sys.executable, '-c', ''])\n"
    for name, body, code in [
        ("test_fine.py", "def test_fine():\n    pass\n", 0),
        ("test_gone.py", "import os\nos._exit(0)\ndef test_gone():\n    pass\n", 1),
        ("test_exec.py", replaced, 1),
    ]:
        (tmp_path / name).write_text(body, encoding="utf-8")
        assert mutation_pick.run_picked(command, [str(tmp_path / name)], trace) == code, name


def test_a_mutant_never_runs_the_bytecode_cached_for_another(tmp_path):
    module = tmp_path / "code.py"
    module.write_text("X = 1\n", encoding="utf-8")
    cache = tmp_path / "__pycache__"
    cache.mkdir()
    (cache / "code.cpython-311.pyc").write_bytes(b"stale")
    (cache / "other.cpython-311.pyc").write_bytes(b"kept")
    mutation_pick.forget_bytecode(module)
    assert sorted(p.name for p in cache.iterdir()) == ["other.cpython-311.pyc"]


def _results(tmp_path, monkeypatch, outcomes: list[tuple[str, str | None]]):
    """A session of the first module written by cosmic-ray's own database, one
    mutant per (worker outcome, test outcome); None for one not run yet."""
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import (
        MutationSpec,
        TestOutcome,
        WorkerOutcome,
        WorkItem,
        WorkResult,
    )

    target = mutation.TARGETS[0]
    monkeypatch.setattr(mutation, "BUILD", tmp_path / "build")
    monkeypatch.setattr(mutation, "RESULTS", tmp_path / "mutation.json")
    mutation.session(target).parent.mkdir(parents=True)
    with use_db(str(mutation.session(target)), WorkDB.Mode.create) as db:
        for row, (worker, outcome) in enumerate(outcomes, start=1):
            spec = MutationSpec(target.path, "core/NumberReplacer", 0, (row, 0), (row, 1))
            db.add_work_item(WorkItem(job_id=f"job{row}", mutations=(spec,)))
            if worker is not None:
                result = WorkResult(
                    worker_outcome=WorkerOutcome(worker),
                    test_outcome=outcome and TestOutcome(outcome),
                    output="Traceback (most recent call last):\nValueError: tuple\n",
                )
                db.set_result(f"job{row}", result)
    return target


def test_a_mutant_cosmic_ray_could_not_make_is_counted_apart_not_scored(
    tmp_path, monkeypatch, capsys
):
    outcomes = [("normal", "killed")] * 3 + [("exception", "incompetent"), (None, None)]
    target = _results(tmp_path, monkeypatch, outcomes)
    counts = mutation.tally(target, [], set())
    assert (counts["mutants"], counts["killed"], counts["not_made"]) == (5, 3, 1)
    assert counts["pending"] == 1 and counts["score"] == 1.0
    assert counts["not_made_lines"][0]["line"] == 4
    assert counts["not_made_lines"][0]["why"] == "ValueError: tuple"
    # The pending mutant still makes the module miss its target; the one not
    # made does not.
    assert mutation.report([target], 1.0) == 1
    out = capsys.readouterr().out
    assert f"| {target.name} | 5 | 3 | 0 | 0 | 1 | 1 | 100.0% |" in out
    assert f"not made {target.name}:4 core/NumberReplacer" in out
    assert "ValueError: tuple" in out


def test_a_mutant_made_but_never_tested_stops_the_report_naming_its_line(tmp_path, monkeypatch):
    outcomes = [("normal", "killed"), ("normal", "incompetent")]
    target = _results(tmp_path, monkeypatch, outcomes)
    with pytest.raises(SystemExit) as stopped:
        mutation.tally(target, [], set())
    assert f"{target.name} line 2: the tests could not run" in str(stopped.value)
