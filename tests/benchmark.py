"""Measure the time from `cookiecutter` to a proven-reproducible model.

Run it with `make bench` (all stages, several repetitions) or directly:

    python tests/benchmark.py --quick --stages bake

Each figure is repeated and reported as the median with the minimum and
maximum, with peak memory where a command is measured, and the machine it ran
on.  The table is printed as Markdown and the same figures are written as
JSON.  Nothing here asserts a speed: targets are shown beside the figures.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
FRAMEWORKS = ("scikit-learn", "pytorch", "tensorflow", "numpy")
# The variable the generated scripts/setup_venv.py reads to choose pip or uv.
INSTALLER_VARIABLE = "INSTALLER"
STAGES = ("bake", "setup", "pipeline", "project-tests", "template-tests", "scale")
# The stages that need the default project baked and set up.
PROJECT_STAGES = {"setup", "pipeline", "project-tests", "scale"}

# What the figures are compared with; shown, never enforced.
TARGETS = {
    "bake / floor": "<= 1.3x",
    "make setup (pip)": "<= 30 s",
    "make setup (uv)": "<= 8 s",
    "make train (scikit-learn)": "<= 10 s",
    "make repro-check (scikit-learn)": "<= 60 s",
    "project test suite": "<= 15 s",
    "venv size": "<= 450 MB",
    "template fast tier": "<= 120 s",
    "template full suite": "<= 1800 s",
    "read + check CSV, 1M rows": "<= 10 s; peak <= 1.5 GB (1430 MiB)",
    "read + check CSV, 1M rows, 1% empty cells": "<= 10 s; peak <= 1.5 GB (1430 MiB)",
    "make train, 100k / 10k rows": "10x if linear",
    "make train, 1M / 100k rows": "10x if linear",
}


@dataclass
class Figure:
    name: str
    unit: str
    samples: list[float] = field(default_factory=list)
    peak_mib: float | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def add(self, seconds: float, peak: float) -> None:
        """Keep one time and the highest peak."""
        self.samples.append(seconds)
        self.peak_mib = max(peak, self.peak_mib or 0.0)

    def row(self) -> str:
        low, high = min(self.samples), max(self.samples)
        spread = f"{low:.2f} – {high:.2f}" if len(self.samples) > 1 else "–"
        peak = f"{self.peak_mib:.0f}" if self.peak_mib is not None else "–"
        target = TARGETS.get(self.name, "")
        return (
            f"| {self.name} | {self.median:.2f} {self.unit} | {spread} | "
            f"{len(self.samples)} | {peak} | {target} |"
        )


# A helper process that runs one command and reports its wall time, the
# peak resident memory of the command's whole process tree, and the ends of
# its output.
_MEASURE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[2:], cwd=sys.argv[1], stdout=subprocess.PIPE,
                      stderr=subprocess.PIPE, text=True)
wall = time.perf_counter() - start
peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"code": done.returncode, "wall": wall, "peak_kib": peak_kib,
                  "stdout": done.stdout[-2000:], "stderr": done.stderr[-2000:]}))
"""


class CommandFailed(RuntimeError):
    pass


def user_environment(extra: dict | None = None) -> dict:
    """This environment as a user's shell has it, plus ``extra``.

    A user's Python writes bytecode on the first import and reuses it after;
    PYTHONDONTWRITEBYTECODE, set on some build machines, would make every
    run compile every module again and time that instead.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, **(extra or {})}


def run_measured(cmd: list, cwd: Path, env: dict | None = None) -> dict:
    """Run a command once; return its wall time, peak KiB and the ends of its output."""
    env = env if env is not None else user_environment()
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(cwd), *map(str, cmd)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    result = json.loads(done.stdout)
    if result["code"] != 0:
        raise CommandFailed(
            f"{' '.join(map(str, cmd))} failed in {cwd}:\n{result['stdout']}{result['stderr']}"
        )
    return result


def measure(cmd: list, cwd: Path, env: dict | None = None) -> tuple[float, float]:
    """Run a command once; return (seconds, peak MiB)."""
    result = run_measured(cmd, cwd, env)
    return result["wall"], result["peak_kib"] / 1024


def repeat(name: str, unit: str, reps: int, run_once, *args) -> Figure:
    """Call ``run_once(*args)`` ``reps`` times; keep every time and the highest peak."""
    figure = Figure(name, unit)
    for _ in range(reps):
        figure.add(*run_once(*args))
    return figure


def alternate(
    reps: int, unit: str, runs: list[tuple[str, Callable[[], tuple[float, float]]]]
) -> list[Figure]:
    """Like ``repeat`` for several commands taken in turn (a, b, a, b, ...).

    A change in the machine's load during the runs then falls on each alike,
    so the ratio of their medians is fair.
    """
    figures = [Figure(name, unit) for name, _ in runs]
    for _ in range(reps):
        for figure, (_, run_once) in zip(figures, runs, strict=True):
            figure.add(*run_once())
    return figures


def ratio(name: str, numerator: Figure, denominator: Figure) -> Figure:
    """One figure over another, median over median."""
    return Figure(name, "x", [numerator.median / denominator.median])


def bake(out: Path, template: Path = TEMPLATE, *answers: str) -> tuple[float, float]:
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    return measure([BIN / "cookiecutter", "--no-input", "-o", out, template, *answers], cwd=out)


def minimal_template(root: Path) -> Path:
    """A one-file template: its bake time is cookiecutter's own floor."""
    template = root / "floor-template"
    project = template / "{{cookiecutter.project_slug}}"
    project.mkdir(parents=True)
    (template / "cookiecutter.json").write_text('{"project_slug": "floor"}\n', encoding="utf-8")
    (project / "README.md").write_text("# {{ cookiecutter.project_slug }}\n", encoding="utf-8")
    return template


def folder_mib(path: Path) -> float:
    total = sum(p.lstat().st_size for p in path.rglob("*") if not p.is_symlink())
    return total / 2**20


# Run by a project's venv: the MB of installed files that one package brings
# on its own, that is it and its dependencies that nothing else the project
# asks for (requirements.in) needs.
SHARE_CODE = r"""
import importlib.metadata as md, re, sys
from packaging.requirements import Requirement

def canon(name):
    return re.sub(r"[-_.]+", "-", name).lower()

dists = {canon(d.metadata["Name"]): d for d in md.distributions()}

def closure(roots):
    seen, todo = set(), list(roots)
    while todo:
        name = todo.pop()
        if name in seen or name not in dists:
            continue
        seen.add(name)
        for text in dists[name].requires or []:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(canon(req.name))
    return seen

package, requirements = canon(sys.argv[1]), sys.argv[2]
wanted = {canon(Requirement(line.split("#")[0].strip()).name) for line in open(requirements)
          if line.split("#")[0].strip()}
own = closure([package]) - closure(wanted - {package})
size = 0
for name in own:
    for file in dists[name].files or []:
        path = file.locate()
        if path.is_file() and not path.is_symlink():
            size += path.stat().st_size
print(size, " ".join(sorted(own)))
"""


def package_share_mb(project: Path, package: str) -> tuple[float, str]:
    """The venv's MB that ``package`` alone brings, and the names of what it brings."""
    done = subprocess.run(
        [project / ".venv" / "bin" / "python", "-c", SHARE_CODE, package, "requirements.in"],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    )
    size, _, names = done.stdout.strip().partition(" ")
    return int(size) / 1e6, names


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def bake_figures(frameworks: list[str], reps: int, work: Path) -> list[Figure]:
    """The floor, the default bake, and the default bake without its hooks or git.

    Taken in turn, so that the differences between them are fair: the bake
    without hooks leaves out both hook processes (and so git), the one with
    init_git=no leaves out git alone.
    """
    floor_template = minimal_template(work)
    floor, default, no_hooks, no_git = alternate(
        reps,
        "s",
        [
            ("bake floor (one-file template)", lambda: bake(work / "floor", floor_template)),
            ("bake (default answers)", lambda: bake(work / "bake-default")),
            (
                "bake without hooks (--accept-hooks no)",
                lambda: bake(work / "bake-no-hooks", TEMPLATE, "--accept-hooks", "no"),
            ),
            (
                "bake without git (init_git=no)",
                lambda: bake(work / "bake-no-git", TEMPLATE, "init_git=no"),
            ),
        ],
    )
    figures = [floor, default, ratio("bake / floor", default, floor), no_hooks, no_git]
    for framework in frameworks:
        if framework != "scikit-learn":
            out, answer = work / f"bake-{framework}", f"framework={framework}"
            figures.append(repeat(f"bake ({framework})", "s", reps, bake, out, TEMPLATE, answer))
    return figures


def project_figures(
    framework: str, stages: set[str], reps: int, work: Path, quick: bool = False
) -> list[Figure]:
    """Bake one framework's project, set it up, and time its own commands."""
    out = work / f"project-{framework}"
    bake(out, TEMPLATE, f"framework={framework}")
    project = out / "digits-classifier"
    venv = project / ".venv"
    label = "" if framework == "scikit-learn" else f", {framework}"
    figures: list[Figure] = []

    def fresh_setup(installer: str) -> tuple[float, float]:
        shutil.rmtree(venv, ignore_errors=True)
        # The template's own uv, so the uv figure does not depend on the PATH.
        env = user_environment({INSTALLER_VARIABLE: installer, "UV": str(BIN / "uv")})
        return measure(["make", "setup"], cwd=project, env=env)

    if "setup" in stages:
        installers = ["pip", "uv"] if framework == "scikit-learn" else ["pip"]
        # uv last, so the venv left behind was made the same way as a user's default.
        # The targets are for the default project; a framework's several-hundred-MB
        # set-up is measured once, so the whole benchmark stays under half an hour.
        setup_reps = reps if framework == "scikit-learn" else 1
        for installer in installers:
            figures.append(
                repeat(f"make setup ({installer}{label})", "s", setup_reps, fresh_setup, installer)
            )
        figures.append(Figure(f"venv size{label}", "MB", [folder_mib(venv) * 2**20 / 1e6]))
        # The plotting library of `make report`, which predict never imports.
        share, names = package_share_mb(project, "matplotlib")
        print(f"matplotlib{label} brings: {names}", file=sys.stderr)
        figures.append(Figure(f"venv share of matplotlib{label}", "MB", [share]))
    else:
        fresh_setup("pip")

    if "pipeline" in stages:
        figures += pipeline_figures(framework, reps, project)
    if "project-tests" in stages and framework == "scikit-learn":
        test = ["make", "test"]
        figures.append(repeat("project test suite", "s", reps, measure, test, project))
        # Every test, as CI runs them: measured once, it trains dozens of models.
        test_all = ["make", "test-all"]
        figures.append(repeat("project test suite, all", "s", 1, measure, test_all, project))
    if "scale" in stages and framework == "scikit-learn":
        # Last: it registers other data, and the stages above train on the digits.
        figures += scale_figures(reps, project, SCALE_QUICK if quick else SCALE)
    return figures


@dataclass(frozen=True)
class ScalePlan:
    """How many rows the scale stage reads, and trains on."""

    read_rows: int
    train_rows: tuple[int, ...]


# 1M rows of 20 features and a label are about 200 MB of CSV.
SCALE = ScalePlan(1_000_000, (10_000, 100_000, 1_000_000))
SCALE_QUICK = ScalePlan(100_000, (1_000, 10_000))
SCALE_FEATURES = 20
SCALE_LABEL = "animal"
SCALE_SEED = 20261201
# The share of feature cells left empty in the second file read.
SCALE_EMPTY = 0.01

# Writes a CSV of seeded numbers in the project's venv: python -c _MAKE_CSV
# PATH ROWS EMPTY_SHARE SEED FEATURES LABEL.  The label follows the first three
# features, so training learns something; the empty cells come from a stream of
# their own, so both files hold the same numbers.
_MAKE_CSV = r"""
import sys
import numpy as np
path, empty, label = sys.argv[1], float(sys.argv[3]), sys.argv[6]
rows, seed, features, chunk = int(sys.argv[2]), int(sys.argv[4]), int(sys.argv[5]), 50_000
values, holes = np.random.default_rng([seed, 0]), np.random.default_rng([seed, 1])
names = np.array(["cat", "dog", "bird"])
line = ",".join(["%.6f"] * features) + ",%s\n"
with open(path, "w", encoding="utf-8", newline="") as out:
    out.write(",".join(f"f{i:02d}" for i in range(1, features + 1)) + f",{label}\n")
    for start in range(0, rows, chunk):
        x = values.standard_normal((min(chunk, rows - start), features)) * 10
        labels = names[np.argmax(x[:, :3], axis=1)].tolist()
        if empty:
            x[holes.random(x.shape) < empty] = np.nan
        text = "".join(line % (*row, label) for row, label in zip(x.tolist(), labels))
        out.write(text.replace("nan", "") if empty else text)
"""

# Reads and checks a registered file as train does, in a fresh process:
# python -c _READ_CSV MODULE PATH LABEL.  It says which path read_table took.
_READ_CSV = """
import importlib, json, sys
from pathlib import Path
import numpy as np
data = importlib.import_module(sys.argv[1] + ".data")
path, label = sys.argv[2], sys.argv[3]
contract = data.Contract(path, label, (), "", "classification", 0.25, "refuse")
precise, used = data._precise, []
def counted(*args, **kwargs):
    used.append(True)
    return precise(*args, **kwargs)
data._precise = counted
table = data.read_table(data.read_verified(Path(path)), path, contract, need_label=True)
empty = int(np.isnan(table.x).sum())
print(json.dumps({"rows": len(table.x), "empty": empty, "path": "precise" if used else "fast"}))
"""


def rows_name(rows: int) -> str:
    """1000 -> 1k, 1000000 -> 1M."""
    for size, suffix in ((1_000_000, "M"), (1_000, "k")):
        if rows >= size and rows % size == 0:
            return f"{rows // size}{suffix}"
    return str(rows)


def scale_names(plan: ScalePlan) -> list[str]:
    """The scale stage's figures, in the order it reports them."""
    read = f"read + check CSV, {rows_name(plan.read_rows)} rows"
    names = [read, f"{read}, {SCALE_EMPTY:.0%} empty cells"]
    names += [f"make train, {rows_name(n)} rows" for n in plan.train_rows]
    pairs = itertools.pairwise(plan.train_rows)
    names += [f"make train, {rows_name(big)} / {rows_name(small)} rows" for small, big in pairs]
    return names


def scale_figures(reps: int, project: Path, plan: ScalePlan) -> list[Figure]:
    """Read and check a large CSV, and train on growing slices of it.

    The files are made (seeded) and registered with add-data untimed, as a
    user registers theirs; each timed read is a fresh process of the
    project's venv.  The files are removed afterwards.
    """
    python = project / ".venv" / "bin" / "python"
    module = project.name.replace("-", "_")
    data_dir = project / "data"
    names = iter(scale_names(plan))
    made: list[Path] = []

    def make_csv(name: str, rows: int, empty: float) -> str:
        path = data_dir / name
        made.extend([path, path.with_name(path.name + ".sha256")])
        make = [python, "-c", _MAKE_CSV, path, rows, empty, SCALE_SEED, SCALE_FEATURES]
        measure([*make, SCALE_LABEL], project)
        return f"data/{name}"

    def head(source: str, name: str, rows: int) -> str:
        path = data_dir / name
        made.extend([path, path.with_name(path.name + ".sha256")])
        with (project / source).open("rb") as whole, path.open("wb") as part:
            part.writelines(itertools.islice(whole, rows + 1))
        return f"data/{name}"

    def register(relative: str) -> None:
        """make add-data, then commit what it says to commit (train refuses a dirty tree)."""
        said = run_measured(
            ["make", "add-data", f"FILE={relative}", f"LABEL={SCALE_LABEL}"], project
        )
        adds = [line.split()[2:] for line in said["stdout"].splitlines() if "git add " in line]
        git(project, "add", *adds[0])
        git(project, *GIT_IDENTITY, "commit", "--no-verify", "--quiet", "-m", f"Add {relative}")

    def read(relative: str, expect_empty: bool) -> tuple[float, float]:
        result = run_measured([python, "-c", _READ_CSV, module, relative, SCALE_LABEL], project)
        said = json.loads(result["stdout"].strip().splitlines()[-1])
        if said["rows"] != plan.read_rows or bool(said["empty"]) != expect_empty:
            raise CommandFailed(f"reading {relative} gave {said}")
        print(f"note: {relative}: {said['path']} path, {said['empty']} empty", file=sys.stderr)
        return result["wall"], result["peak_kib"] / 1024

    try:
        whole = make_csv("scale.csv", plan.read_rows, 0.0)
        holed = make_csv("scale-empty.csv", plan.read_rows, SCALE_EMPTY)
        slices = {
            n: whole if n == plan.read_rows else head(whole, f"scale-{rows_name(n)}.csv", n)
            for n in plan.train_rows
        }
        # The clean file last: the project is left registered to it.
        for relative in [holed, *(s for s in slices.values() if s != whole), whole]:
            register(relative)
        figures = [
            repeat(next(names), "s", reps, read, whole, False),
            repeat(next(names), "s", reps, read, holed, True),
        ]

        def train(relative: str) -> Callable[[], tuple[float, float]]:
            args = f"ARGS=--data {relative} --set epochs=1"
            return lambda: measure(["make", "train", args], project)

        # Once untimed: the first run compiles the training modules to bytecode.
        train(slices[plan.train_rows[0]])()
        trains = alternate(reps, "s", [(next(names), train(s)) for s in slices.values()])
        figures += trains
        figures += [ratio(next(names), big, small) for small, big in itertools.pairwise(trains)]
        return figures
    finally:
        for path in made:
            path.unlink(missing_ok=True)


# make train as configured (portable = true), and with the machine's own kernels.
PORTABLE_TRAIN = ["make", "train"]
NATIVE_TRAIN = ["make", "train", "ARGS=--set portable=false"]
# Identity for the benchmark's own commit, whatever git configuration the machine has.
GIT_IDENTITY = [
    "-c",
    "user.name=repro-template benchmark",
    "-c",
    "user.email=bench@example.invalid",
]


def pipeline_figures(framework: str, reps: int, project: Path) -> list[Figure]:
    """Train (portable and native in turn), predict, check and re-create a model."""

    def train(command: list[str]) -> Callable[[], tuple[float, float]]:
        return lambda: measure(command, project)

    # The first run after set-up compiles every module to bytecode: once, untimed,
    # so that neither side of the ratio pays for it.
    measure(PORTABLE_TRAIN, project)
    portable, native = alternate(
        reps,
        "s",
        [
            (f"make train ({framework})", train(PORTABLE_TRAIN)),
            (f"make train, native ({framework})", train(NATIVE_TRAIN)),
        ],
    )
    figures = [portable, native, ratio(f"portable / native ({framework})", portable, native)]
    report_code_paths(framework, project)
    # The runs above end with a native model: predict, repro-check and
    # reproduce take the newest model, which must be the default's, as a user's is.
    measure(PORTABLE_TRAIN, project)
    for target in ("predict", "repro-check"):
        figures.append(
            repeat(f"make {target} ({framework})", "s", reps, measure, ["make", target], project)
        )
    figures.append(reproduce_figure(framework, reps, project))
    return figures


def git(project: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=project, capture_output=True, text=True, env=user_environment()
    )
    if done.returncode != 0:
        raise CommandFailed(f"git {' '.join(args)} failed in {project}:\n{done.stderr}")
    return done.stdout


def reproduce_figure(framework: str, reps: int, project: Path) -> Figure:
    """Commit the manifests, as a user records them, and time ``make reproduce``.

    The newest manifest names the commit it was trained at; reproduce
    re-creates it there in a temporary worktree, with this project's .venv
    when that commit's locks match it.  Afterwards the project must be as it
    was: one worktree, no uncommitted change, the same pre-commit hook.
    """
    git(project, "add", "models")
    git(project, *GIT_IDENTITY, "commit", "--no-verify", "--quiet", "-m", "Record the models")
    hook = project / git(project, "rev-parse", "--git-path", "hooks/pre-commit").strip()
    hook_before = hook.read_bytes() if hook.is_file() else None

    def reproduce_once() -> tuple[float, float]:
        result = run_measured(["make", "reproduce"], project)
        if "reproduced: bit-identical" not in result["stdout"]:
            raise CommandFailed(
                f"make reproduce in {project} did not say bit-identical:\n{result['stdout']}"
            )
        if "holds exactly that commit's locks" not in result["stdout"]:
            print(
                f"note: make reproduce ({framework}) built a venv instead of reusing .venv",
                file=sys.stderr,
            )
        return result["wall"], result["peak_kib"] / 1024

    figure = repeat(f"make reproduce ({framework})", "s", reps, reproduce_once)
    worktrees = git(project, "worktree", "list", "--porcelain").count("worktree ")
    changes = git(
        project,
        "status",
        "--porcelain",
        "--untracked-files=all",
        "--",
        ".",
        ":(exclude)models",
        ":(exclude)predictions",
    )
    hook_after = hook.read_bytes() if hook.is_file() else None
    if worktrees != 1 or changes or hook_after != hook_before:
        raise CommandFailed(
            f"make reproduce left {project} changed: {worktrees} worktrees, "
            f"changes {changes.split() or 'none'}, pre-commit hook "
            f"{'changed' if hook_after != hook_before else 'kept'}"
        )
    return figure


def report_code_paths(framework: str, project: Path) -> None:
    """Say on stderr which kernels the newest portable and native models used."""
    newest: dict[bool, dict] = {}
    for path in sorted((project / "models").glob("*.json")):
        manifest = json.loads(path.read_text(encoding="utf-8"))
        key = manifest.get("config", {}).get("portable") is True
        if str(manifest.get("finished_at")) >= str(newest.get(key, {}).get("finished_at", "")):
            newest[key] = manifest
    for key, manifest in sorted(newest.items(), reverse=True):
        observed = manifest.get("code_paths", {}).get("observed", {})
        blas = observed.get("blas")
        kernels = (
            ", ".join(str(b.get("architecture")) for b in blas) if isinstance(blas, list) else blas
        )
        simd = observed.get("numpy_simd") or []
        print(
            f"code paths ({framework}, {'portable' if key else 'native'}): BLAS {kernels or '-'}; "
            f"NumPy SIMD up to {simd[-1] if simd else '-'}; "
            f"framework {json.dumps(observed.get('framework'))}",
            file=sys.stderr,
        )


def run_stages(
    stages: set[str], frameworks: list[str], reps: int, work: Path, quick: bool = False
) -> list[Figure]:
    figures: list[Figure] = []
    if "bake" in stages:
        figures += bake_figures(frameworks, reps, work)
    for framework in frameworks:
        # scale runs on the default project alone.
        wanted = stages & (PROJECT_STAGES - ({"scale"} if framework != "scikit-learn" else set()))
        if wanted:
            figures += project_figures(framework, stages, reps, work, quick)
    if "template-tests" in stages:
        # Exactly what `make test-fast` and `make test` run, once each: minutes.
        pytest = [BIN / "python", "-m", "pytest", "-q", "-n", "2"]
        fast = [*pytest, "-m", "not slow"]
        slow = [*pytest, "--dist", "loadgroup", "-m", "slow"]
        fast_tier = repeat("template fast tier", "s", 1, measure, fast, TEMPLATE)
        slow_tier = repeat("template slow tier", "s", 1, measure, slow, TEMPLATE)
        full = Figure("template full suite", "s", [fast_tier.median + slow_tier.median])
        full.peak_mib = max(fast_tier.peak_mib or 0, slow_tier.peak_mib or 0)
        figures += [fast_tier, slow_tier, full]
    return figures


def markdown(figures: list[Figure], info: dict, command: str) -> str:
    lines = [
        f"Measured on {info['cpu']}, {info['cores']} cores, Python {info['python']}, "
        f"{info['platform']}; command: `{command}`.",
        "",
        "| figure | median | min – max | runs | peak MiB | target |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    lines += [figure.row() for figure in figures]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="one repetition, the default framework only, smaller files for scale",
    )
    parser.add_argument("--reps", type=int, default=5, help="repetitions of each figure")
    parser.add_argument(
        "--stages", default=",".join(STAGES), help=f"comma-separated subset of {', '.join(STAGES)}"
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=TEMPLATE / "bench-results" / "latest.json",
        help="where to write the figures as JSON",
    )
    args = parser.parse_args(argv)
    stages = {s.strip() for s in args.stages.split(",") if s.strip()}
    unknown = stages - set(STAGES)
    if unknown:
        parser.error(f"unknown stage {', '.join(sorted(unknown))}: choose from {', '.join(STAGES)}")
    reps = 1 if args.quick else args.reps
    frameworks = ["scikit-learn"] if args.quick else list(FRAMEWORKS)
    command = "python tests/benchmark.py " + " ".join(argv if argv is not None else sys.argv[1:])

    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        try:
            figures = run_stages(stages, frameworks, reps, Path(tmp), args.quick)
        except CommandFailed as error:
            print(f"ERROR: {error}", file=sys.stderr)
            return 1
    info = machine()
    table = markdown(figures, info, command.strip())
    print(table)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "machine": info,
        "command": command.strip(),
        "figures": [
            {
                **asdict(f),
                "median": f.median,
                "min": min(f.samples),
                "max": max(f.samples),
                "target": TARGETS.get(f.name),
            }
            for f in figures
        ],
    }
    args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
