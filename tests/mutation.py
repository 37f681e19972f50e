"""Mutation score: how many deliberate bugs the tests catch.

``make mutation`` runs this.  It bakes the default project, sets it up for
real, and mutates its ``src/`` one small change at a time (``<`` for ``<=``,
``True`` for ``False``, a number off by one, a loop that never runs ...),
running the project's own quick tests against each change.  It does the same
for the template's ``hooks/`` against the fast tier.  A mutant the tests fail
on is killed; one they pass is a survivor, and each survivor must either get
a test or a line in ``tests/mutation_equivalent.toml`` saying why no test can
tell it apart.

The tool is cosmic-ray: it writes each mutant to disk and runs a command, so
the tests may run the project's real commands in fresh processes, which is
how every test here works.  (mutmut picks the tests for a mutant from what
ran in the test process itself, so it would see none of those.)

It prints a table (module, mutants, killed, survived, score) and writes the
same figures to bench-results/mutation.json.  It exits 1 when a module falls
below its target.  It takes hours on two cores, so it runs weekly in
CI, not with every push.

    python tests/mutation.py                   # everything
    python tests/mutation.py --only predict    # one module (repeatable)
    python tests/mutation.py --resume          # go on from the last run's sessions
    python tests/mutation.py --resume --retest # run the survivors again
"""

from __future__ import annotations

import argparse
import ast
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
    tests: tuple[str, ...]  # the test files to run, test_<name>.py, in this order
    target: float = 0.85
    keyword: str = ""  # pytest -k: only these tests of the files
    slow: bool = False  # the slow tests of the files too
    # Test files whose processes the trace cannot follow (they run in venvs
    # of their own): each mutant runs all of their tests.
    untraced: tuple[str, ...] = ()


def _project(name: str, *tests: str, path: str = "", **options) -> Target:
    return Target(name, "project", path or f"src/{MODULE}/{name}.py", tests, **options)


def _hook(name: str, *tests: str, untraced: tuple[str, ...] = ()) -> Target:
    return Target(f"hooks/{name}", "hooks", f"hooks/{name}.py", tests, 0.80, untraced=untraced)


# Each module of the project against the quick tests (`make test`) of the
# files that run it, in the order that kills a mutant soonest.  repro-check,
# reproduce and predict get the slow tests of their files too: what they do
# takes several trainings or predictions to show.  The four
# modules the promise rests on come first, with the higher target.
TARGETS = (
    _project(
        "repro_check", "reproduce", "train", "cli", target=0.90, keyword="repro_check", slow=True
    ),
    _project("predict", "predict", "own_data", "cli", target=0.90, slow=True),
    _project(
        "artifacts",
        "predict",
        "reproduce",
        "train",
        "provenance",
        "report",
        "own_data",
        target=0.90,
    ),
    _project("seed", "seed", "train", "predict", target=0.90),
    # The hooks against the fast tier's files that bake or load them.  Only
    # post_gen_project, which decides the file set, runs test_bake.py too.
    _hook("frames", "frames", "tracebacks", "cruft_hook", "interactive"),
    _hook("cruft_state", "cruft_hook", "replay", "frames"),
    _hook(
        "guard",
        "guard_rails",
        "interactive",
        "bad_input",
        "text_answers",
        "answers_that_break",
        "extensions_answer",
        "tracebacks",
        "interrupted_bake",
        "hooks",
        "cookiecutter_versions",
        untraced=("cookiecutter_versions",),
    ),
    _hook(
        "pre_gen_project",
        "bad_input",
        "guard_rails",
        "text_answers",
        "answers_that_break",
        "hooks",
        "replay",
        "tracebacks",
        "copyright_year",
        "extensions_answer",
    ),
    _hook(
        "post_gen_project",
        "hooks",
        "git_failures",
        "overwrite",
        "interrupted_bake",
        "copyright_year",
        "replay",
        "cruft_hook",
        "tracebacks",
        "bake",
    ),
    _project("train", "train", "config", "provenance", "own_data", "seed", "portable"),
    _project("reproduce", "reproduce", "cli", keyword="not repro_check", slow=True),
    _project("data", "own_data", "predict", "train", "seed"),
    _project("config", "config", "train", "own_data"),
    _project("provenance", "provenance", "train", "seed"),
    _project("envcheck", "envcheck"),
    _project("preprocess", "own_data", "predict"),
    _project("portable", "portable", "train"),
    _project("add_data", "own_data"),
    _project("report", "report"),
    _project("experiments", "report", "reproduce"),
    _project("cli", "cli", "package"),
    _project("paths", "cli", "provenance"),
    _project("errors", "cli", "config", "predict"),
    _project("tools", "cli", "policy"),
    _project(
        "sklearn_backend",
        "train",
        "predict",
        "seed",
        path=f"src/{MODULE}/backends/sklearn_backend.py",
    ),
)
# Modules of the default project that are not mutated, and why.
NOT_MUTATED = {
    "__init__.py": "holds the version string alone",
    "__main__.py": "hands over to cli.main in one line",
    "progress.py": "draws the progress bar on a terminal; it changes no file, model or exit code",
}
HOOKS_TARGET = 0.80
OVERALL_TARGET = 0.85


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

    def test_command(self, target: Target) -> tuple[Path, list[str], list[str]]:
        """Where the tests run, the pytest command, and the test files."""
        if target.kind == "project":
            python, cwd = self.project / ".venv" / "bin" / "python", self.project
            extra = []
        else:
            python, cwd = BIN / "python", self.template
            extra = ["-n", "0"]
        files = [f"tests/test_{name}.py" for name in target.tests]
        # Outside any git repository: some tests check what happens outside one.
        basetemp = (
            Path(tempfile.gettempdir()) / "repro-template-mutation" / self.home.name / target.kind
        )
        basetemp.parent.mkdir(parents=True, exist_ok=True)
        command = [str(python), "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider"]
        if not target.slow:
            command += ["-m", "not slow"]
        command += ["-k", target.keyword] if target.keyword else []
        command += [f"--basetemp={basetemp}", *extra]
        return cwd, command, files

    def baseline(self, target: Target) -> float:
        """Run the unmutated tests, tracing which of them reach which lines of
        the module (see tests/mutation_trace.py); return how long they took."""
        cwd, command, files = self.test_command(target)
        folder = session(target).with_suffix(".trace")
        source = cwd / target.path
        env = {
            **os.environ,
            "PYTHONDONTWRITEBYTECODE": "1",
            "REPRO_MUTATION_TRACE": str(folder),
            "REPRO_MUTATION_FILE": "/" + target.path.removeprefix("src/"),
            "REPRO_MUTATION_HEAD": source.read_text(encoding="utf-8").splitlines()[0],
            "REPRO_MUTATION_TEST": "",
        }
        traced = [*command, "-p", "mutation_plugin", *files]
        for _ in range(2):  # once more: a test that times a signal can lose the race
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            start = time.monotonic()
            done = run(traced, cwd, env=env)
            if done.returncode == 0:
                break
        must(done, f"the unmutated tests of {target.name}")
        took = time.monotonic() - start
        trace = read_trace(folder)
        session(target).with_suffix(".trace.json").write_text(json.dumps(trace), encoding="utf-8")
        shutil.copy2(source, session(target).with_suffix(".orig.py"))
        shutil.rmtree(folder)
        return took

    def mutate(self, target: Target, resume: bool, retest: bool, every_test: bool) -> str:
        cwd, command, files = self.test_command(target)
        if every_test:
            command += files
        else:  # each mutant against the tests that reach its line
            db = session(target)
            pick = [BIN / "python", ROOT / "tests" / "mutation_pick.py"]
            pick += [db.with_suffix(".trace.json"), db.with_suffix(".orig.py"), target.path]
            pick += [f"tests/test_{name}.py" for name in target.untraced] + ["--"]
            command = [*map(str, pick), *command]
        sessions = BUILD / "sessions"
        sessions.mkdir(parents=True, exist_ok=True)
        db = session(target)
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

        if not (resume and db.exists()):
            write_config(60)
            db.unlink(missing_ok=True)
            must(run([BIN / "cosmic-ray", "init", config, db], cwd), f"listing {target.name}")
            must(run([BIN / "cr-filter-operators", db, config], cwd), f"filtering {target.name}")
            skip_annotations(db, cwd / target.path)
        with sqlite3.connect(db) as connection:
            if retest:
                connection.execute("DELETE FROM work_results WHERE test_outcome = 'SURVIVED'")
            (pending,) = connection.execute(
                "SELECT COUNT(*) FROM work_items WHERE job_id NOT IN "
                "(SELECT job_id FROM work_results)"
            ).fetchone()
        if not pending:
            return "nothing left to run"
        # The unmutated tests must pass, or every mutant would count as killed.
        # A mutant that loops for ever counts as killed once it takes three
        # times as long as they do.
        took = self.baseline(target)
        write_config(3 * took + 30)
        must(run([BIN / "cosmic-ray", "exec", config, db], cwd), f"mutating {target.name}")
        return f"{pending} mutants, {took:.0f} s a test run unmutated"


def read_trace(folder: Path) -> dict:
    """What a traced run wrote: each test with its fixtures, in the order they
    ran, and for each test or fixture the rows of the module it ran."""
    tests: dict[str, list[str]] = {}
    for line in (folder / "tests.jsonl").read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        tests.setdefault(entry["test"], entry["fixtures"])
    lines: dict[str, set[int]] = {}
    for part in folder.glob("*.lines"):
        for line in part.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                test, row = json.loads(line)
            except ValueError:  # cut short where a test limits a command's file size
                continue
            lines.setdefault(test, set()).add(row)
    return dict(tests=tests, lines={k: sorted(v) for k, v in lines.items()})


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


def source_lines(target: Target) -> list[str]:
    return template_path(target).read_text(encoding="utf-8").splitlines()


def load_equivalent() -> list[dict]:
    if not EQUIVALENT.exists():
        return []
    return tomllib.loads(EQUIVALENT.read_text(encoding="utf-8")).get("mutant", [])


def session(target: Target) -> Path:
    return BUILD / "sessions" / (target.name.replace("/", "-") + ".sqlite")


def tally(target: Target, equivalent: list[dict], used: set[int]) -> dict:
    """Read one module's session: counts, and each survivor with its line."""
    connection = sqlite3.connect(session(target))
    rows = connection.execute(
        "SELECT s.operator_name, s.start_pos_row, r.worker_outcome, r.test_outcome, r.diff "
        "FROM mutation_specs s LEFT JOIN work_results r ON s.job_id = r.job_id"
    ).fetchall()
    connection.close()
    lines = source_lines(target)
    counts = dict(mutants=0, killed=0, survived=0, equivalent=0, pending=0)
    survivors = []
    for operator, row, worker, outcome, diff in rows:
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
            code = lines[row - 1].strip() if row <= len(lines) else ""
            match = next(
                (
                    i
                    for i, entry in enumerate(equivalent)
                    if entry["module"] == target.name
                    and entry["operator"] in (operator, "*")
                    and entry["code"] == code
                ),
                None,
            )
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
        else:
            sys.exit(f"mutation: {target.name} line {row}: the tests could not run ({outcome})")
    judged = counts["mutants"] - counts["equivalent"] - counts["pending"]
    counts["score"] = round(counts["killed"] / judged, 4) if judged else None
    counts["target"] = target.target
    counts["survivors"] = sorted(survivors, key=lambda s: s["line"])
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
    parser.add_argument("--retest", action="store_true", help="with --resume: run survivors again")
    parser.add_argument("--report", action="store_true", help="only print the last run's table")
    parser.add_argument(
        "--every-test",
        action="store_true",
        help="run each mutant against all of its module's tests, not only those that reach it",
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


def mutate_all(targets: list[Target], args: argparse.Namespace) -> None:
    workers = [Worker(n + 1) for n in range(max(1, args.workers))]
    say(f"mutation: baking and setting up {len(workers)} copies in {BUILD.relative_to(ROOT)}")
    threads = [threading.Thread(target=w.prepare, args=(args.resume,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    pythons = [BIN / "python", *(w.project / ".venv" / "bin" / "python" for w in workers)]
    hooks = install_tracer(pythons)
    try:
        run_jobs(workers, targets, args)
    finally:
        for hook in hooks:
            hook.unlink(missing_ok=True)


TRACER = "repro_mutation_trace.pth"


def install_tracer(pythons: list[Path], folder: Path = BUILD / "trace") -> list[Path]:
    """Let every process of these venvs load tests/mutation_trace.py (it does
    nothing unless a traced run asks it to); return the files that do it."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("mutation_trace.py", "mutation_plugin.py"):
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
    failures: list[str] = []

    def work(worker: Worker) -> None:
        while True:
            try:
                target = jobs.get_nowait()
            except queue.Empty:
                return
            began = time.monotonic()
            try:
                what = worker.mutate(target, args.resume, args.retest, args.every_test)
            except SystemExit as error:
                failures.append(str(error))
                return
            say(f"mutation: {target.name}: {what}; done in {time.monotonic() - began:.0f} s")

    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        sys.exit("\n".join(failures))


def report(targets: list[Target], seconds: float) -> int:
    equivalent = load_equivalent()
    used: set[int] = set()
    # Modules without a session yet (a run stopped early) are left out.
    targets = [t for t in targets if session(t).exists()]
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
            for k in ("mutants", "killed", "survived", "equivalent", "pending")
        }
        judged = total["mutants"] - total["equivalent"] - total["pending"]
        total["score"] = round(total["killed"] / judged, 4) if judged else None
        total["target"] = HOOKS_TARGET if label == "hooks/" else OVERALL_TARGET
        totals[label] = total
    header = ("module", "mutants", "killed", "survived", "equivalent", "not run", "score", "target")
    say("| " + " | ".join(header) + " |")
    say("|" + "|".join(["---", *["---:"] * (len(header) - 1)]) + "|")
    missed = []
    for label, row in [*rows.items(), *((f"**{k}**", v) for k, v in totals.items())]:
        score = "–" if row["score"] is None else f"{100 * row['score']:.1f}%"
        say(
            f"| {label} | {row['mutants']} | {row['killed']} | {row['survived']} | "
            f"{row['equivalent']} | {row['pending']} | {score} | {100 * row['target']:.0f}% |"
        )
        # A run stopped early has mutants not run: it meets no target.
        if row["score"] is None or row["score"] < row["target"] or row["pending"]:
            missed.append(label.strip("*"))
    for name, row in rows.items():
        for s in row["survivors"]:
            say(f"survived {name}:{s['line']} {s['operator']}: {s['code']}  ->  {s['mutated']}")
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
    say(f"mutation: wrote {RESULTS.relative_to(ROOT)} ({seconds / 60:.0f} min)")
    if missed:
        say(f"mutation: below target: {', '.join(missed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
