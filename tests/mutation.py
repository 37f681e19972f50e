"""Mutation score: how many deliberate bugs the tests catch.

``make mutation`` runs this.  It bakes the default project, sets it up for
real, and mutates its ``src/`` one small change at a time (``<`` for ``<=``,
``True`` for ``False``, a number off by one, a loop that never runs ...),
running the project's own tests, quick and slow, against each change.  It
does the same for the template's ``hooks/`` against the fast tier's files
that bake or load them.  A mutant the tests fail on is killed; one they pass
is a survivor, and each survivor must either get a test or a line in
``tests/mutation_equivalent.toml`` saying why no test can tell it apart.

Each mutant runs only the tests that reach the statement it changed: one
traced run of all the tests first records which test runs which line, in
every process (tests/mutation_trace.py, tests/mutation_plugin.py), and
tests/mutation_pick.py picks from it.  A test that never runs a statement
cannot fail on a change to it, so the verdicts are the same as with every
test; ``--every-test`` runs them all anyway.

The tool is cosmic-ray: it writes each mutant to disk and runs a command, so
the tests may run the project's real commands in fresh processes, which is
how every test here works.  (mutmut picks the tests for a mutant from what
ran in the test process itself, so it would see none of those.)

It prints a table (module, mutants, killed, survived, score) and writes the
same figures to bench-results/mutation.json.  It exits 1 when a module falls
below its target.  It takes hours on two cores, so it runs weekly in CI, not
with every push.

    python tests/mutation.py                   # everything
    python tests/mutation.py --only predict    # one module (repeatable)
    python tests/mutation.py --resume          # go on from the last run's sessions
    python tests/mutation.py --resume --retest # run the survivors again
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import queue
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
BUILD = ROOT / "build" / "mutation"
EQUIVALENT = ROOT / "tests" / "mutation_equivalent.toml"
RESULTS = ROOT / "bench-results" / "mutation.json"
SLUG = "digits-classifier"
MODULE = "digits_classifier"

# The mutations a person's slip makes: an operator swapped for its
# counterpart, a comparison negated or moved by one, a condition negated, a
# constant off by one, a loop that never runs, an exception not caught, a
# decorator dropped.  cosmic-ray can also swap every operator for every other
# (``+`` for ``<<``, ``<`` for ``is``); those add four mutants in five and
# almost all of them die at once on a TypeError, so they are left out.
COUNTERPARTS = {
    "Binary": "Add_Sub|Sub_Add|Mul_Div|Div_Mul|FloorDiv_Div|Mod_FloorDiv|Pow_Mul"
    "|BitOr_BitAnd|BitAnd_BitOr|BitXor_BitOr|LShift_RShift|RShift_LShift",
    "Comparison": "Eq_NotEq|NotEq_Eq|Lt_LtE|Lt_GtE|LtE_Lt|LtE_Gt|Gt_GtE|Gt_LtE|GtE_Gt|GtE_Lt"
    "|Is_IsNot|IsNot_Is",
    "Unary": "Delete_Not|Delete_USub|Delete_Invert|USub_UAdd",
}
LEFT_OUT = [f"core/Replace{kind}Operator_(?!({pairs})$)" for kind, pairs in COUNTERPARTS.items()]


@dataclass(frozen=True)
class Target:
    name: str
    kind: str  # "project" or "hooks"
    path: str  # relative to the copy it is mutated in
    target: float = 0.85
    # Test files whose processes the trace cannot follow (they run in venvs
    # of their own): each mutant runs all of their tests.
    untraced: tuple[str, ...] = ()


def _project(name: str, target: float = 0.85, path: str = "") -> Target:
    return Target(name, "project", path or f"src/{MODULE}/{name}.py", target)


def _hook(name: str, untraced: tuple[str, ...] = ()) -> Target:
    return Target(f"hooks/{name}", "hooks", f"hooks/{name}.py", HOOKS_TARGET, untraced)


HOOKS_TARGET = 0.80
OVERALL_TARGET = 0.85

# Each module of the project runs against all of the project's tests, quick
# and slow, and each hook against the fast tier's files that bake or load
# the hooks; a mutant runs only the tests that reach it (tests/mutation_pick.py).
# The four modules the promise rests on come first, with the higher target.
TARGETS = (
    _project("repro_check", 0.90),
    _project("predict", 0.90),
    _project("artifacts", 0.90),
    _project("seed", 0.90),
    _hook("frames"),
    _hook("cruft_state"),
    # The version check is what the cookiecutter-versions tests are for.
    _hook("guard", untraced=("cookiecutter_versions",)),
    _hook("pre_gen_project"),
    _hook("post_gen_project"),
    _project("train"),
    _project("reproduce"),
    _project("data"),
    _project("config"),
    _project("provenance"),
    _project("envcheck"),
    _project("preprocess"),
    _project("portable"),
    _project("add_data"),
    _project("fetch_data"),
    _project("report"),
    _project("experiments"),
    _project("cli"),
    _project("paths"),
    _project("errors"),
    _project("tools"),
    _project("sklearn_backend", path=f"src/{MODULE}/backends/sklearn_backend.py"),
)
# The fast tier's files that run the hooks (test_bake.py checks the file set
# post_gen_project leaves); the other fast-tier files test the template's
# files, not its code.
HOOK_TESTS = (
    "hooks",
    "bad_input",
    "guard_rails",
    "text_answers",
    "answers_that_break",
    "extensions_answer",
    "tracebacks",
    "interactive",
    "frames",
    "cruft_hook",
    "replay",
    "copyright_year",
    "git_failures",
    "overwrite",
    "interrupted_bake",
    "cookiecutter_versions",
    "bake",
)
# Modules of the default project that are not mutated, and why.
NOT_MUTATED = {
    "__init__.py": "holds the version string alone",
    "__main__.py": "hands over to cli.main in one line",
    "progress.py": "draws the progress bar on a terminal; it changes no file, model or exit code",
}


_SAYING = threading.Lock()


def say(text: str) -> None:
    with _SAYING:  # the workers print from threads of their own
        print(text, flush=True)


def run(args: list, cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, text=True, capture_output=True, check=False, **kwargs
    )


def must(done: subprocess.CompletedProcess, what: str) -> None:
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-25:])
        sys.exit(f"mutation: {what} failed (exit {done.returncode}):\n{tail}")


class Worker:
    """One copy of the project and one of the template: each mutant lives on disk,
    so two mutants at once need two copies."""

    def __init__(self, number: int) -> None:
        self.number = number
        self.home = BUILD / f"worker{number}"
        self.project = self.home / SLUG
        self.template = self.home / "template"

    def prepare(self, resume: bool) -> None:
        """Bake and set up the project, or with ``resume`` keep its venv and take
        its code and tests afresh from the template; copy the template."""
        fresh = self.home / "fresh"
        shutil.rmtree(fresh, ignore_errors=True)
        if not (resume and (self.project / ".venv").is_dir()):
            shutil.rmtree(self.home, ignore_errors=True)
            fresh = self.home
        fresh.mkdir(parents=True)
        done = run([BIN / "cookiecutter", "--no-input", "--output-dir", fresh, ROOT], cwd=fresh)
        must(done, "baking the default project")
        if fresh != self.home:
            # A run stopped half-way leaves a mutant on disk: replace the code whole.
            for part in ("src", "tests"):
                shutil.rmtree(self.project / part)
                shutil.copytree(fresh / SLUG / part, self.project / part)
            shutil.rmtree(fresh)
        else:
            env = {**os.environ, "TORCH_INDEX_URL": os.environ.get("TORCH_INDEX_URL", "")}
            must(run([sys.executable, "scripts/setup_venv.py"], self.project, env=env), "set-up")
            # Set-up leaves bytecode out; every mutant would compile the libraries again.
            venv_python = self.project / ".venv" / "bin" / "python"
            compiled = run(
                [venv_python, "-m", "compileall", "-q", self.project / ".venv"], self.home
            )
            must(compiled, "compiling the venv")
        shutil.rmtree(self.template, ignore_errors=True)
        tracked = run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], ROOT
        ).stdout.split("\0")
        for name in filter(None, tracked):
            if (ROOT / name).is_file():
                (self.template / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / name, self.template / name)

    def test_command(self, kind: str, *options: str) -> tuple[Path, list[str]]:
        """Where the tests of a kind ("project" or "hooks") run, and the pytest
        command with ``options``, without the tests to run."""
        if kind == "project":
            python, cwd, extra = self.project / ".venv" / "bin" / "python", self.project, []
        else:
            python, cwd, extra = BIN / "python", self.template, ["-n", "0"]
        # Outside any git repository: some tests check what happens outside one.
        basetemp = Path(tempfile.gettempdir()) / "repro-template-mutation" / self.home.name / kind
        basetemp.parent.mkdir(parents=True, exist_ok=True)
        command = [str(python), "-m", "pytest", *options, "-q", "-p", "no:cacheprovider"]
        return cwd, [*command, f"--basetemp={basetemp}", *extra]

    def trace(self, kind: str) -> str:
        """Run all the tests of a kind once, unmutated, recording which test
        reaches which line of each module mutated (tests/mutation_trace.py).

        They must pass, or every mutant would count as killed.  The trace is
        kept while the code and tests stay the same."""
        cwd, command = self.test_command(kind)
        out = trace_file(kind)
        digest = code_digest(cwd)
        if out.exists() and json.loads(out.read_text(encoding="utf-8"))["digest"] == digest:
            return "the tests and code are unchanged since the last trace"
        folder = BUILD / "sessions" / f"{kind}.lines"
        files = {
            suffix(t): (cwd / t.path).read_text(encoding="utf-8").splitlines()[0]
            for t in TARGETS
            if t.kind == kind
        }
        env = {
            **os.environ,
            "PYTHONDONTWRITEBYTECODE": "1",
            "REPRO_MUTATION_TRACE": str(folder),
            "REPRO_MUTATION_FILES": json.dumps(files),
            "REPRO_MUTATION_TEST": "",
        }
        traced = [*command, "-p", "mutation_plugin", *scope(kind)]
        for _ in range(2):  # once more: a test that times a signal can lose the race
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            start = time.monotonic()
            done = run(traced, cwd, env=env)
            if done.returncode == 0:
                break
        must(done, f"the unmutated {kind} tests")
        took = time.monotonic() - start
        trace = dict(digest=digest, seconds_total=round(took, 1), **read_trace(folder))
        out.write_text(json.dumps(trace), encoding="utf-8")
        shutil.rmtree(folder)
        return f"{len(trace['tests'])} tests in {took:.0f} s"

    def mutate(self, target: Target, resume: bool, retest: bool, every_test: bool) -> str:
        # A mutant is killed at the first test that fails.
        cwd, command = self.test_command(target.kind, "-x")
        db = session(target)
        if every_test:
            command += scope(target.kind)
        else:  # each mutant against the tests that reach its statement
            picker = [BIN / "python", BUILD / "trace" / "mutation_pick.py", trace_file(target.kind)]
            picker += [db.with_suffix(".orig.py"), target.path, suffix(target)]
            picker += [f"tests/test_{name}.py" for name in target.untraced] + ["--"]
            command = [*map(str, picker), *command]
        db.parent.mkdir(parents=True, exist_ok=True)
        config = db.with_suffix(".toml")

        def write_config(timeout: float) -> None:
            config.write_text(
                "[cosmic-ray]\n"
                f"module-path = {json.dumps(target.path)}\n"
                f"timeout = {timeout:.0f}\n"
                "excluded-modules = []\n"
                f"test-command = {json.dumps(' '.join(_quote(c) for c in command))}\n"
                "[cosmic-ray.distributor]\n"
                'name = "local"\n'
                "[cosmic-ray.filters.operators-filter]\n"
                f"exclude-operators = {json.dumps(LEFT_OUT)}\n",
                encoding="utf-8",
            )

        listed_from = db.with_suffix(".orig.py")
        if resume and stale(db, cwd / target.path):
            say(f"mutation: {target.name} changed since its session began: starting it again")
            resume = False
        if not (resume and listed(db)):
            write_config(60)
            db.unlink(missing_ok=True)
            must(run([BIN / "cosmic-ray", "init", config, db], cwd), f"listing {target.name}")
            must(run([BIN / "cr-filter-operators", db, config], cwd), f"filtering {target.name}")
            skip_annotations(db, cwd / target.path)
        with sqlite3.connect(db) as connection:
            if retest:  # the survivors again, but not those listed as equivalent
                survivors = connection.execute(
                    "SELECT s.job_id, s.operator_name, s.start_pos_row FROM mutation_specs s "
                    "JOIN work_results r ON s.job_id = r.job_id WHERE r.test_outcome = 'SURVIVED'"
                ).fetchall()
                lines, equivalent = session_lines(target), load_equivalent()
                again = [
                    (job,)
                    for job, operator, row in survivors
                    if equivalent_entry(target, operator, code_at(lines, row), equivalent) is None
                ]
                connection.executemany("DELETE FROM work_results WHERE job_id = ?", again)
            (pending,) = connection.execute(
                "SELECT COUNT(*) FROM work_items WHERE job_id NOT IN "
                "(SELECT job_id FROM work_results)"
            ).fetchone()
        if not pending:
            return "nothing left to run"
        # The picker ends a mutant's tests at three times as long as they took
        # unmutated, plus 30 s (one that loops for ever counts as killed);
        # cosmic-ray's own limit is a backstop for every test at once.
        # What the mutants are listed from: the picker diffs each mutant with
        # it, and the next --resume checks the module against it.
        shutil.copy2(cwd / target.path, listed_from)
        total = json.loads(trace_file(target.kind).read_text(encoding="utf-8"))["seconds_total"]
        write_config(3 * total + 60)
        must(run([BIN / "cosmic-ray", "exec", config, db], cwd), f"mutating {target.name}")
        return f"{pending} mutants"


def stale(db: Path, module: Path) -> bool:
    """Whether a session's mutants were listed from other code than ``module``
    holds now: their rows would mutate the wrong places."""
    listed_from = db.with_suffix(".orig.py")
    return listed(db) and listed_from.is_file() and listed_from.read_bytes() != module.read_bytes()


def listed(db: Path) -> bool:
    """Whether a session holds its list of mutants (a run stopped while
    listing them leaves an empty file)."""
    if not db.exists():
        return False
    with sqlite3.connect(db) as connection:
        tables = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        if "work_items" not in {name for (name,) in tables}:
            return False
        return connection.execute("SELECT COUNT(*) FROM work_items").fetchone()[0] > 0


def scope(kind: str) -> list[str]:
    """The tests a kind's mutants are tried on, as pytest arguments."""
    if kind == "project":
        return ["tests"]  # quick and slow
    return ["-m", "not slow", *(f"tests/test_{name}.py" for name in HOOK_TESTS)]


def suffix(target: Target) -> str:
    """How the trace knows the module in any copy: the end of its path."""
    return "/" + target.path.removeprefix("src/")


def trace_file(kind: str) -> Path:
    return BUILD / "sessions" / f"{kind}.trace.json"


def code_digest(folder: Path) -> str:
    """One digest of every file a trace was made from: code, tests, data."""
    digest = hashlib.sha256()
    for top, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in (".venv", ".git", "__pycache__"))
        for name in sorted(files):
            path = Path(top) / name
            digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def read_trace(folder: Path) -> dict:
    """What a traced run wrote: each test in the order they ran, with its
    fixtures, seconds and slow mark, and for each module the rows each test
    or fixture ran."""
    tests: dict[str, list[str]] = {}
    seconds: dict[str, float] = {}
    slow = []
    for line in (folder / "tests.jsonl").read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        tests.setdefault(entry["test"], entry["fixtures"])
        seconds[entry["test"]] = seconds.get(entry["test"], 0) + entry["seconds"]
        slow += [entry["test"]] if entry["slow"] else []
    lines: dict[str, dict[str, set[int]]] = {}
    for part in folder.glob("*.lines"):
        for line in part.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                test, module, row = json.loads(line)
            except ValueError:  # cut short where a test limits a command's file size
                continue
            lines.setdefault(module, {}).setdefault(test, set()).add(row)
    return dict(
        tests=tests,
        seconds={k: round(v, 2) for k, v in seconds.items()},
        slow=sorted(set(slow)),
        lines={m: {k: sorted(v) for k, v in by.items()} for m, by in lines.items()},
    )


def skip_annotations(db: Path, source: Path) -> None:
    """Skip mutants inside type annotations: with ``from __future__ import
    annotations`` Python never evaluates them, so no run can tell them apart."""
    spans = []
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        notes = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            every = [
                *node.args.posonlyargs,
                *node.args.args,
                *node.args.kwonlyargs,
                node.args.vararg,
                node.args.kwarg,
            ]
            notes = [node.returns, *(a.annotation for a in every if a is not None)]
        elif isinstance(node, ast.AnnAssign):
            notes = [node.annotation]
        spans += [
            ((n.lineno, n.col_offset), (n.end_lineno, n.end_col_offset))
            for n in notes
            if n is not None
        ]
    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            "SELECT job_id, start_pos_row, start_pos_col FROM mutation_specs "
            "WHERE job_id NOT IN (SELECT job_id FROM work_results)"
        ).fetchall()
        skipped = [
            (job,)
            for job, row, col in rows
            if any(start <= (row, col) < end for start, end in spans)
        ]
        connection.executemany(
            "INSERT INTO work_results (job_id, worker_outcome, output) "
            "VALUES (?, 'SKIPPED', 'in a type annotation')",
            skipped,
        )


def _quote(word: str) -> str:
    return f"'{word}'" if " " in word else word


def template_path(target: Target) -> Path:
    """The file in the template that a target's mutated file is baked from."""
    if target.kind == "hooks":
        return ROOT / target.path
    return (
        ROOT
        / "{{cookiecutter.project_slug}}"
        / target.path.replace(MODULE, "{{cookiecutter.module_name}}")
    )


def code_at(lines: list[str], row: int) -> str:
    return lines[row - 1].strip() if row <= len(lines) else ""


def source_lines(target: Target) -> list[str]:
    return template_path(target).read_text(encoding="utf-8").splitlines()


def session_lines(target: Target) -> list[str]:
    """The code a session's mutants were made in, where their rows point:
    the module may have changed since."""
    listed_from = session(target).with_suffix(".orig.py")
    if listed_from.is_file():
        return listed_from.read_text(encoding="utf-8").splitlines()
    return source_lines(target)


def load_equivalent() -> list[dict]:
    if not EQUIVALENT.exists():
        return []
    return tomllib.loads(EQUIVALENT.read_text(encoding="utf-8")).get("mutant", [])


def session(target: Target) -> Path:
    return BUILD / "sessions" / (target.name.replace("/", "-") + ".sqlite")


def equivalent_entry(target: Target, operator: str, code: str, equivalent: list[dict]):
    """The index of the entry that lists this mutant as equivalent, or None."""
    return next(
        (
            i
            for i, entry in enumerate(equivalent)
            if entry["module"] == target.name
            and entry["operator"] in (operator, "*")
            and entry["code"] == code
        ),
        None,
    )


def tally(target: Target, equivalent: list[dict], used: set[int]) -> dict:
    """Read one module's session: counts, and each survivor with its line."""
    connection = sqlite3.connect(session(target))
    rows = connection.execute(
        "SELECT s.operator_name, s.start_pos_row, r.worker_outcome, r.test_outcome, r.diff, "
        "r.output "
        "FROM mutation_specs s LEFT JOIN work_results r ON s.job_id = r.job_id"
    ).fetchall()
    connection.close()
    lines = session_lines(target)
    counts = dict(mutants=0, killed=0, survived=0, equivalent=0, not_made=0, pending=0)
    survivors, not_made = [], []
    for operator, row, worker, outcome, diff, output in rows:
        # SKIPPED: left out by the operator or annotation filter.  NO_TEST:
        # the code changed since the session began, and the file holds one
        # such operator fewer; the others still cover every one left.
        if worker in ("SKIPPED", "NO_TEST"):
            continue
        counts["mutants"] += 1
        if outcome is None:
            counts["pending"] += 1
        elif outcome == "KILLED":
            counts["killed"] += 1
        elif outcome == "SURVIVED":
            code = code_at(lines, row)
            match = equivalent_entry(target, operator, code, equivalent)
            if match is None:
                counts["survived"] += 1
                mutated = [
                    x[1:].strip()
                    for x in (diff or "").splitlines()
                    if x.startswith("+") and not x.startswith("+++")
                ]
                survivors.append(
                    dict(
                        line=row,
                        operator=operator,
                        code=code,
                        mutated=mutated[0] if mutated else "",
                    )
                )
            else:
                counts["equivalent"] += 1
                used.add(match)
        elif worker == "EXCEPTION":
            # cosmic-ray raised while writing the mutant (an exception swap
            # inside a tuple of exceptions, for one): there was no mutant to
            # test.  Counted apart, and left out of the score like a pending one.
            counts["not_made"] += 1
            why = (output or "").strip().splitlines()
            not_made.append(
                dict(
                    line=row,
                    operator=operator,
                    code=code_at(lines, row),
                    why=why[-1] if why else "",
                )
            )
        else:
            # The mutant was made but its test command never ran: the run
            # itself is broken, and no count from it can be trusted.
            sys.exit(f"mutation: {target.name} line {row}: the tests could not run ({outcome})")
    judged = counts["mutants"] - counts["equivalent"] - counts["not_made"] - counts["pending"]
    counts["score"] = round(counts["killed"] / judged, 4) if judged else None
    counts["target"] = target.target
    counts["survivors"] = sorted(survivors, key=lambda s: s["line"])
    counts["not_made_lines"] = sorted(not_made, key=lambda s: s["line"])
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python tests/mutation.py", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="MODULE",
        help="mutate these modules only, e.g. predict or hooks/guard",
    )
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 2, help="mutants at once (default: CPUs)"
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="reuse build/mutation: the copies and the sessions of the last run",
    )
    parser.add_argument(
        "--retest",
        action="store_true",
        help="with --resume: run the survivors again (not those listed as equivalent)",
    )
    parser.add_argument("--report", action="store_true", help="only print the last run's table")
    parser.add_argument(
        "--every-test",
        action="store_true",
        help="run each mutant against every test of its kind, not only those that reach it",
    )
    args = parser.parse_args(argv)
    # Started in the background, this process may have Ctrl-C ignored, and
    # its children would inherit that: the tests that send a bake SIGINT
    # would then see it finish.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    names = {t.name for t in TARGETS}
    for name in args.only or ():
        if name not in names:
            parser.error(
                f"--only {name}: not a module here; choose from {', '.join(sorted(names))}"
            )
    targets = [t for t in TARGETS if not args.only or t.name in args.only]
    start = time.monotonic()
    if not args.report:
        mutate_all(targets, args)
    return report(targets, time.monotonic() - start)


def run_in_parallel(calls: list) -> list:
    """Call each in a thread of its own; return their results, or exit with
    the first failure."""
    results: list = [None] * len(calls)
    failures: list[str] = []

    def call(index: int) -> None:
        try:
            results[index] = calls[index]()
        except SystemExit as error:
            failures.append(str(error))

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        sys.exit("\n".join(failures))
    return results


def mutate_all(targets: list[Target], args: argparse.Namespace) -> None:
    workers = [Worker(n + 1) for n in range(max(1, args.workers))]
    say(f"mutation: baking and setting up {len(workers)} copies in {BUILD.relative_to(ROOT)}")
    run_in_parallel([(lambda w=w: w.prepare(args.resume)) for w in workers])
    pythons = [BIN / "python", *(w.project / ".venv" / "bin" / "python" for w in workers)]
    hooks = install_tracer(pythons)
    try:
        if not args.every_test:
            kinds = sorted({t.kind for t in targets}, reverse=True)  # the project's first
            # Each kind on a copy of its own where there are two.
            pairs = [(workers[i % len(workers)], kind) for i, kind in enumerate(kinds)]
            traced = run_in_parallel([(lambda w=w, k=k: w.trace(k)) for w, k in pairs])
            for kind, what in zip(kinds, traced, strict=True):
                say(f"mutation: traced the {kind} tests: {what}")
        run_jobs(workers, targets, args)
    finally:
        for hook in hooks:
            hook.unlink(missing_ok=True)


TRACER = "repro_mutation_trace.pth"


def install_tracer(pythons: list[Path], folder: Path = BUILD / "trace") -> list[Path]:
    """Let every process of these venvs load tests/mutation_trace.py (it does
    nothing unless a traced run asks it to); return the files that do it."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("mutation_trace.py", "mutation_plugin.py", "mutation_pick.py"):
        shutil.copy2(ROOT / "tests" / name, folder / name)
    hooks = []
    for python in pythons:
        where = run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], ROOT)
        must(where, f"finding {python}'s site-packages")
        hook = Path(where.stdout.strip()) / TRACER
        # A .pth file: a line that is a folder joins sys.path; an import line runs.
        hook.write_text(f"{folder}\nimport mutation_trace\n", encoding="utf-8")
        hooks.append(hook)
    return hooks


def run_jobs(workers: list[Worker], targets: list[Target], args: argparse.Namespace) -> None:
    jobs: queue.Queue = queue.Queue()
    for target in targets:
        jobs.put(target)

    def work(worker: Worker) -> None:
        while True:
            try:
                target = jobs.get_nowait()
            except queue.Empty:
                return
            began = time.monotonic()
            what = worker.mutate(target, args.resume, args.retest, args.every_test)
            say(f"mutation: {target.name}: {what}; done in {time.monotonic() - began:.0f} s")

    run_in_parallel([(lambda w=w: work(w)) for w in workers])


def report(targets: list[Target], seconds: float) -> int:
    equivalent = load_equivalent()
    used: set[int] = set()
    # Modules without a session (not run yet, or a run stopped early) have no
    # row, and meet no target.
    not_run = [t.name for t in targets if not listed(session(t))]
    targets = [t for t in targets if t.name not in not_run]
    rows = {t.name: tally(t, equivalent, used) for t in targets}
    groups = {
        "project src/": [t.name for t in targets if t.kind == "project"],
        "hooks/": [t.name for t in targets if t.kind == "hooks"],
        "all": list(rows),
    }
    totals = {}
    for label, members in groups.items():
        if not members:
            continue
        total = {
            k: sum(rows[m][k] for m in members)
            for k in ("mutants", "killed", "survived", "equivalent", "not_made", "pending")
        }
        judged = total["mutants"] - total["equivalent"] - total["not_made"] - total["pending"]
        total["score"] = round(total["killed"] / judged, 4) if judged else None
        total["target"] = HOOKS_TARGET if label == "hooks/" else OVERALL_TARGET
        totals[label] = total
    header = (
        "module", "mutants", "killed", "survived", "equivalent", "not made", "not run", "score",
        "target",
    )  # fmt: skip
    say("| " + " | ".join(header) + " |")
    say("|" + "|".join(["---", *["---:"] * (len(header) - 1)]) + "|")
    missed = []
    for label, row in [*rows.items(), *((f"**{k}**", v) for k, v in totals.items())]:
        score = "–" if row["score"] is None else f"{100 * row['score']:.1f}%"
        say(
            f"| {label} | {row['mutants']} | {row['killed']} | {row['survived']} | "
            f"{row['equivalent']} | {row['not_made']} | {row['pending']} | {score} | "
            f"{100 * row['target']:.0f}% |"
        )
        # A run stopped early has mutants not run: it meets no target.
        if row["score"] is None or row["score"] < row["target"] or row["pending"]:
            missed.append(label.strip("*"))
    if not_run:
        say(f"mutation: not run: {', '.join(not_run)}")
        missed += not_run
    for name, row in rows.items():
        for s in row["survivors"]:
            say(f"survived {name}:{s['line']} {s['operator']}: {s['code']}  ->  {s['mutated']}")
        for s in row["not_made_lines"]:
            say(f"not made {name}:{s['line']} {s['operator']}: {s['code']}  ({s['why']})")
    stale = [
        e
        for i, e in enumerate(equivalent)
        if i not in used and any(e["module"] == t.name for t in targets)
    ]
    for entry in stale:
        say(
            f"mutation: {EQUIVALENT.name} lists a mutant that no longer survives or exists: "
            f"{entry['module']} {entry['operator']}: {entry['code']}"
        )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            dict(
                tool="cosmic-ray 8.7.0",
                seconds=round(seconds),
                modules=rows,
                totals=totals,
            ),
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    say(f"mutation: wrote {RESULTS} ({seconds / 60:.0f} min)")
    if missed:
        say(f"mutation: below target: {', '.join(missed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
