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
# The variable the generated scripts/setup_venv.sh reads to choose pip or uv.
INSTALLER_VARIABLE = "INSTALLER"
STAGES = ("bake", "setup", "pipeline", "project-tests", "template-tests")

# What the figures are compared with; shown, never enforced.
TARGETS = {
    "bake / floor": "<= 1.3x",
    "make setup (pip)": "<= 30 s",
    "make setup (uv)": "<= 8 s",
    "make train (scikit-learn)": "<= 10 s",
    "make repro-check (scikit-learn)": "<= 60 s",
    "project test suite": "<= 15 s",
    "venv size": "<= 350 MB",
    "template fast tier": "<= 120 s",
    "template full suite": "<= 1800 s",
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
    floor_template = minimal_template(work)
    floor = repeat(
        "bake floor (one-file template)",
        "s",
        reps,
        bake,
        work / "floor",
        floor_template,
    )
    default = repeat("bake (default answers)", "s", reps, bake, work / "bake-default")
    figures = [floor, default, ratio("bake / floor", default, floor)]
    for framework in frameworks:
        if framework != "scikit-learn":
            out, answer = work / f"bake-{framework}", f"framework={framework}"
            figures.append(repeat(f"bake ({framework})", "s", reps, bake, out, TEMPLATE, answer))
    return figures


def project_figures(framework: str, stages: set[str], reps: int, work: Path) -> list[Figure]:
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
    else:
        fresh_setup("pip")

    if "pipeline" in stages:
        figures += pipeline_figures(framework, reps, project)
    if "project-tests" in stages and framework == "scikit-learn":
        test = ["make", "test"]
        figures.append(repeat("project test suite", "s", reps, measure, test, project))
    return figures


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


def run_stages(stages: set[str], frameworks: list[str], reps: int, work: Path) -> list[Figure]:
    figures: list[Figure] = []
    if "bake" in stages:
        figures += bake_figures(frameworks, reps, work)
    if stages & {"setup", "pipeline", "project-tests"}:
        for framework in frameworks:
            figures += project_figures(framework, stages, reps, work)
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
        "--quick", action="store_true", help="one repetition, the default framework only"
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
            figures = run_stages(stages, frameworks, reps, Path(tmp))
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
