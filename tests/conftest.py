"""Shared fixtures: a hermetic git, bake helpers, and set-up projects.

Every test runs with git configured only by the test itself: no global or
system config, so a developer's identity, signing or hooks cannot change a
result, and the "no identity" case is the default.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cookiecutter.main import cookiecutter
from filelock import FileLock
from jinja2 import Environment

# Some tests import modules straight from the template; their bytecode must
# not land in the template folder, where every later bake would copy it.
sys.dont_write_bytecode = True

TEMPLATE = Path(__file__).resolve().parents[1]
CONTEXT = json.loads((TEMPLATE / "cookiecutter.json").read_text(encoding="utf-8"))
FRAMEWORKS = CONTEXT["framework"]
BIN = Path(sys.executable).parent

DEFAULT_AUTHOR = (CONTEXT["author_name"], CONTEXT["author_email"])


@pytest.fixture(autouse=True, scope="session")
def hermetic_git(tmp_path_factory):
    """Point git at empty config files and a throwaway HOME for the whole session."""
    home = tmp_path_factory.mktemp("home")
    empty = home / "empty.gitconfig"
    empty.write_text("", encoding="utf-8")
    saved = dict(os.environ)
    os.environ.update(
        {
            "HOME": str(home),
            "GIT_CONFIG_GLOBAL": str(empty),
            "GIT_CONFIG_SYSTEM": str(empty),
            "GIT_CONFIG_NOSYSTEM": "1",
            # The pip and uv caches stay shared: frameworks download once per machine.
            "PIP_CACHE_DIR": saved.get("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip")),
            "UV_CACHE_DIR": saved.get("UV_CACHE_DIR", str(Path.home() / ".cache" / "uv")),
            "PRE_COMMIT_HOME": saved.get(
                "PRE_COMMIT_HOME", str(Path.home() / ".cache" / "pre-commit")
            ),
            # torch's CPU wheel comes from pip's own configuration (a mirror or
            # a wheel folder), not from PyTorch's CPU index, which a test
            # machine may not reach; set TORCH_INDEX_URL to test with it.
            "TORCH_INDEX_URL": saved.get("TORCH_INDEX_URL", ""),
        }
    )
    # Nor may the make that started the tests: its variables would turn a
    # project's own `make` into a sub-make, which prints and behaves otherwise.
    # PYTHONDONTWRITEBYTECODE, which some machines and container images set,
    # would have every process of a baked project compile its framework
    # from source: on users' machines Python caches it after the first run.
    inherited = ("EMAIL", "MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES")
    inherited += ("PYTHONDONTWRITEBYTECODE",)
    for name in list(os.environ):
        if name.startswith(("GIT_AUTHOR_", "GIT_COMMITTER_")) or name in inherited:
            del os.environ[name]
    yield home
    os.environ.clear()
    os.environ.update(saved)


def run(args, cwd, *, env=None, check=True, timeout=1800) -> subprocess.CompletedProcess:
    """Run a command, and on failure show everything it printed."""
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and done.returncode != 0:
        pytest.fail(
            f"{' '.join(map(str, args))} exited {done.returncode} in {cwd}\n"
            f"--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
        )
    return done


def bake_cli(output_dir: Path, *answers: str, env=None) -> subprocess.CompletedProcess:
    """Bake through cookiecutter's command line, as a user would."""
    return run(
        [BIN / "cookiecutter", "--no-input", "--output-dir", output_dir, TEMPLATE, *answers],
        cwd=output_dir,
        env=env,
        check=False,
    )


def render_hook(name: str, answers: dict, directory: Path, **template_globals) -> Path:
    """Render a hook the way cookiecutter does, and return the script's path.

    ``template_globals`` stand in for what the template's extensions provide.
    """
    source = (TEMPLATE / "hooks" / f"{name}.py").read_text(encoding="utf-8")
    template = Environment(keep_trailing_newline=True).from_string(source)
    rendered = template.render(cookiecutter=answers, **template_globals)
    path = directory / f"{name}.py"
    path.write_text(rendered, encoding="utf-8")
    return path


def import_hook(name: str, answers: dict, directory: Path):
    """Render a hook and import it as a module, so its functions can be called.

    It is imported from inside ``directory``: a hook acts on the folder it
    runs in, so a slip that runs its main() at import must not reach the
    checkout the tests run from.
    """
    path = render_hook(name, answers, directory)
    spec = importlib.util.spec_from_file_location(f"rendered_{name}", path)
    module = importlib.util.module_from_spec(spec)
    with contextlib.chdir(directory):
        spec.loader.exec_module(module)
    return module


def default_answers(**changes) -> dict:
    """The answers cookiecutter derives from cookiecutter.json with no input."""
    answers = {
        "project_name": "Digits Classifier",
        "project_slug": "digits-classifier",
        "module_name": "digits_classifier",
        "description": CONTEXT["description"],
        "author_name": DEFAULT_AUTHOR[0],
        "author_email": DEFAULT_AUTHOR[1],
        "copyright_year": "2026",
        "framework": "scikit-learn",
        "python_version": "3.11",
        "license": "MIT",
        "ci": "github",
        "init_git": True,
        "seed": "42",
        "_template_version": CONTEXT["_template_version"],
    }
    answers.update(changes)
    return answers


def git(project: Path, *args: str) -> str:
    return run(["git", *args], cwd=project).stdout.strip()


class SetUpProject:
    """A baked project whose `make setup` has run: a real venv, real pip."""

    def __init__(self, path: Path, framework: str):
        self.path = path
        self.framework = framework
        self.module = json.loads((path / ".cookiecutter.json").read_text(encoding="utf-8"))[
            "cookiecutter"
        ]["module_name"]
        self.python = path / ".venv" / "bin" / "python"

    def make(self, *targets: str, check=True, env=None) -> subprocess.CompletedProcess:
        return run(["make", *targets], cwd=self.path, check=check, env=env)


_set_up: dict[str, SetUpProject] = {}


@pytest.fixture(scope="session")
def set_up_project(tmp_path_factory):
    """Bake one project per framework and run its `make setup`, once a session.

    Tests that only read share it; a test that changes the project must
    leave the tree as it found it (commit nothing, remove what it adds).
    """

    def get(framework: str = "scikit-learn") -> SetUpProject:
        if framework not in _set_up:
            out = tmp_path_factory.mktemp(f"project-{framework}")
            done = bake_cli(out, f"framework={framework}")
            assert done.returncode == 0, done.stderr
            path = out / "digits-classifier"
            run(["make", "setup"], cwd=path)
            _set_up[framework] = SetUpProject(path, framework)
        return _set_up[framework]

    return get


@pytest.fixture(scope="session")
def shared_bakes(tmp_path_factory, worker_id):
    """Bake an option combination once for the whole test run, across workers.

    The fast tier reads each combination from many tests, spread over xdist
    workers; a lock per combination in a folder all workers share makes the
    first worker that needs it bake it and the others reuse it.
    """
    base = tmp_path_factory.getbasetemp()
    root = (base if worker_id == "master" else base.parent) / "shared-bakes"
    root.mkdir(exist_ok=True)

    def get(key: str, answers: dict) -> Path:
        out = root / key
        with FileLock(str(root / f"{key}.lock")):
            done = out / "done"
            if not done.exists():
                if out.exists():
                    shutil.rmtree(out)
                with contextlib.redirect_stdout(io.StringIO()):
                    project = cookiecutter(
                        str(TEMPLATE), no_input=True, extra_context=answers, output_dir=str(out)
                    )
                done.write_text(Path(project).name, encoding="utf-8")
            return out / done.read_text(encoding="utf-8")

    return get


@pytest.fixture
def small_project(tmp_path):
    """A folder with one package, for running the post-gen hook alone."""
    project = tmp_path / "proj"
    (project / "src" / "demo").mkdir(parents=True)
    (project / "src" / "demo" / "__init__.py").write_text('"""Demo."""\n', encoding="utf-8")
    return project


@pytest.fixture
def no_git_path(tmp_path):
    """A PATH on which python runs but git cannot be found."""
    bindir = tmp_path / "bin-without-git"
    bindir.mkdir()
    for tool in ("python3", "python"):
        real = shutil.which(tool)
        if real:
            (bindir / tool).symlink_to(real)
    return str(bindir)
