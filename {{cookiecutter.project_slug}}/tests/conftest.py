"""What the tests share: a throwaway copy of the project in git, and a tiny trained model.

The tests never write into the project itself: each command runs in a
temporary copy of the project (its code, config, data and locks), committed
to its own git repository, and runs that copy's code (PYTHONPATH), as the
project's own commands find their project from their own files.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from {{ cookiecutter.module_name }} import backends, config, data, seed

ROOT = Path(__file__).resolve().parents[1]
MODULE = "{{ cookiecutter.module_name }}"
# The data contract of configs/train.toml: the tests read it, never a dataset's details.
CONFIG, _ = config.load(
    ROOT / "configs" / "train.toml", [], config.schema(backends.load().HYPERPARAMETERS)
)
CONTRACT = data.Contract.from_config(CONFIG)
# Small enough to keep the whole suite quick; the pipeline is the same.
TINY = ("--set", "epochs=2", "--set", "hidden=8")
# Settings a user's shell might have, which must not change any result.
OTHER_SHELL = {"PYTHONHASHSEED": "random", "OMP_NUM_THREADS": "4"}


def git(folder: Path, *args: str) -> str:
    done = subprocess.run(
        [
            "git",
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.org",
            "-c",
            "commit.gpgsign=false",
            *args,
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def project_env(folder: Path, env: dict | None = None) -> dict:
    """The environment that runs the code of the project copy in ``folder``, if it holds one."""
    full_env = {**os.environ, **(env or {})}
    if (folder / "src" / MODULE).is_dir() and "PYTHONPATH" not in (env or {}):
        full_env["PYTHONPATH"] = str(folder / "src")
    return full_env


def command(name: str, *args: str, cwd: Path, env: dict | None = None, **popen):
    """Run one of the project's commands (train, predict, ...) in a fresh process."""
    full_env = project_env(cwd, env)
    streams = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **popen}
    return subprocess.run(
        [sys.executable, "-m", f"{MODULE}.{name}", *args],
        cwd=cwd,
        env=full_env,
        text=True,
        check=False,
        timeout=600,
        **streams,
    )


def files_in(folder: Path) -> list[str]:
    """Every file under a folder, hidden and temporary ones included."""
    if not folder.exists():
        return []
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


# What a copy of the project needs to train, predict and reproduce.
PROJECT_FILES = ("configs", "data", "src", "pyproject.toml", ".gitignore")
LOCK_FILES = ("requirements.txt", "requirements-dev.txt")


def make_workdir(folder: Path) -> Path:
    """A committed git repository holding a copy of the project."""
    folder.mkdir(parents=True)
    for name in (*PROJECT_FILES, *LOCK_FILES):
        source = ROOT / name
        if source.is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
            shutil.copytree(source, folder / name, ignore=ignore)
        elif source.is_file():
            shutil.copy2(source, folder / name)
    git(folder, "init", "--quiet")
    git(folder, "add", "--all")
    git(folder, "commit", "--quiet", "--no-verify", "--message", "Start")
    return folder


@pytest.fixture(scope="session")
def first_workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The committed copy that each test's own copy starts from: one git init per run."""
    return make_workdir(tmp_path_factory.mktemp("first") / "work")


@pytest.fixture
def workdir(first_workdir: Path, tmp_path: Path) -> Path:
    # Copied whole, .git included: the same commit in a repository of its own.
    return Path(shutil.copytree(first_workdir, tmp_path / "work", symlinks=True))


@dataclass(frozen=True)
class Trained:
    folder: Path
    manifest_path: Path
    output: str
    errors: str = ""

    @property
    def manifest(self) -> dict:
        return json.loads(self.manifest_path.read_text(encoding="utf-8"))

    @property
    def weights_path(self) -> Path:
        return self.manifest_path.with_name(self.manifest["weights"]["file"])

    def copy_to(self, folder: Path) -> Trained:
        """A copy that a test may damage; the shared model stays intact."""
        shutil.copytree(self.folder, folder, ignore=shutil.ignore_patterns(".git"))
        manifest_path = folder / self.manifest_path.relative_to(self.folder)
        return Trained(folder, manifest_path, self.output, self.errors)


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    """One tiny model, trained once per test run by the real train command."""
    folder = make_workdir(tmp_path_factory.mktemp("trained") / "work")
    # A shell with other settings: the command must fix its own.
    done = command("train", *TINY, cwd=folder, env=OTHER_SHELL)
    if done.returncode != 0:
        # Most tests need this model: one line on why, instead of an error in each.
        reason = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "no message"
        pytest.exit(f"the project cannot train, so its tests cannot run: {reason}", returncode=1)
    (manifest_path,) = (folder / "models").glob("*.json")
    return Trained(folder, manifest_path, done.stdout, done.stderr)


# Loaded by every Python process started with its folder on PYTHONPATH: at exit,
# it records what the process ended with: its environment, as the libraries
# saw it, and every module it loaded.
RECORD_AT_EXIT = """
import atexit
import json
import os
import sys


def _record():
    names = json.loads(os.environ["RECORD_NAMES"])
    seen = dict(
        argv=sys.argv,
        environ=dict((name, os.environ.get(name)) for name in names),
        modules=sorted(name for name, module in sys.modules.items() if module is not None),
    )
    folder = os.environ["RECORD_FOLDER"]
    with open(os.path.join(folder, str(os.getpid()) + ".json"), "w", encoding="utf-8") as file:
        json.dump(seen, file)


atexit.register(_record)
"""


@dataclass
class Prediction:
    done: subprocess.CompletedProcess
    output: Path
    # What the predict process itself ended with: the GPU and thread variables, its modules.
    environ: dict
    modules: set
    # The thread count the shell asked for, which predict must override.
    shell_threads: str


@pytest.fixture(scope="session")
def held_out(trained: Trained, tmp_path_factory: pytest.TempPathFactory) -> Prediction:
    """predict on the held-out rows once, by the real command, from a shell that asks
    for GPUs and other thread counts; shared by the tests that read its output."""
    folder = tmp_path_factory.mktemp("held-out")
    (folder / "site").mkdir()
    (folder / "site" / "sitecustomize.py").write_text(RECORD_AT_EXIT, encoding="utf-8")
    (folder / "records").mkdir()
    shell = str(int(trained.manifest["config"]["threads"]) + 3)
    env = {
        "PYTHONPATH": os.pathsep.join([str(folder / "site"), str(trained.folder / "src")]),
        "RECORD_FOLDER": str(folder / "records"),
        "RECORD_NAMES": json.dumps([*seed.GPU_VARIABLES, *seed.THREAD_VARIABLES]),
        **dict.fromkeys(seed.GPU_VARIABLES, "0"),
        **dict.fromkeys(seed.THREAD_VARIABLES, shell),
    }
    output = folder / "p.csv"
    options = ("--model", str(trained.manifest_path), "--output", str(output))
    done = command("predict", *options, cwd=trained.folder, env=env)
    assert done.returncode == 0, done.stderr
    seen = [json.loads(path.read_text(encoding="utf-8")) for path in (folder / "records").iterdir()]
    (own,) = [one for one in seen if one["argv"][0].endswith("predict.py")]
    return Prediction(done, output, own["environ"], set(own["modules"]), shell)
