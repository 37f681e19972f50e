"""The parts of make reproduce that run before and after training, each on its own.

How far apart two models are, which recorded settings differ, the commit and
data checks, and the environment built from an older commit's locks.  The
whole command, training included, is tested in test_reproduce.py.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from {{ cookiecutter.module_name }} import (
    artifacts,
    paths,
    reproduce,
)
from {{ cookiecutter.module_name }}.errors import ProjectError

from conftest import MODULE, TINY, Trained, command, git, make_workdir, project_env


@pytest.fixture(scope="module")
def others(tmp_path_factory) -> dict[str, Trained]:
    """Two more tiny models of the same data and split: one with another learning rate,
    one a unit wider."""
    folder = make_workdir(tmp_path_factory.mktemp("others") / "work")
    models = {}
    for name, option in (("other", "lr=0.05"), ("wider", "hidden=9")):
        output = folder / "models" / name
        done = command("train", *TINY, "--set", option, "--models-dir", str(output), cwd=folder)
        assert done.returncode == 0, done.stderr
        (manifest_path,) = output.glob("*.json")
        models[name] = Trained(folder, manifest_path, done.stdout)
    return models


def predictions(model: Trained, output: Path) -> list[str]:
    """What the predict command says for each held-out row."""
    done = command(
        "predict", "--model", str(model.manifest_path), "--output", str(output), cwd=model.folder
    )
    assert done.returncode == 0, done.stderr
    with output.open(encoding="utf-8", newline="") as file:
        return [row["prediction"] for row in csv.DictReader(file)]


# In a process of its own: some frameworks fix their thread settings for good
# once loaded, and the seed tests set them again.
DISTANCE = f"""
import json
import sys
from pathlib import Path

from {MODULE} import backends, reproduce

first, first_weights, second, second_weights = map(Path, sys.argv[1:])
backend = backends.load()
pairs = list(zip(backend.weight_arrays(first_weights.read_bytes()),
                 backend.weight_arrays(second_weights.read_bytes())))
largest = None
if all(a.shape == b.shape for a, b in pairs):
    largest = max(float(abs(a.astype("float64") - b.astype("float64")).max()) for a, b in pairs)
manifests = [json.loads(path.read_text(encoding="utf-8")) for path in (first, second)]
lines = reproduce.distance(first, manifests[0], second, manifests[1])
print(json.dumps(dict(lines=lines, largest=largest)))
"""


def distance(first: Trained, second: Trained) -> tuple[list[str], float | None]:
    """What reproduce says of two models, and their largest weight difference."""
    arguments = (first.manifest_path, first.weights_path, second.manifest_path, second.weights_path)
    done = subprocess.run(
        [sys.executable, "-c", DISTANCE, *map(str, arguments)],
        cwd=first.folder,
        env=project_env(first.folder),
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.splitlines()[-1])
    return found["lines"], found["largest"]


@pytest.mark.slow
def test_distance_gives_the_share_of_rows_predicted_alike_and_the_largest_weight_change(
    trained, others, tmp_path
):
    other = others["other"]
    first = predictions(trained, tmp_path / "first.csv")
    second = predictions(other, tmp_path / "second.csv")
    alike = sum(a == b for a, b in zip(first, second, strict=True)) / len(first)
    lines, largest = distance(trained, other)
    assert largest > 0
    assert lines == [
        f"identical held-out predictions: {100 * alike:.2f}%",
        f"largest weight difference: {largest:.3g}",
    ]


@pytest.mark.slow
def test_distance_of_a_model_to_itself_is_nothing(trained):
    lines, _ = distance(trained, trained)
    assert lines == ["identical held-out predictions: 100.00%", "largest weight difference: 0"]


@pytest.mark.slow
def test_distance_names_weights_of_other_shapes_instead_of_comparing_them(trained, others):
    lines, largest = distance(trained, others["wider"])
    assert largest is None
    assert lines == ["the two models have weights of different shapes"]


def manifest_with(section: str, **values) -> dict:
    return {section: values}


def python_version_reasons(before: str, after: str) -> list[str]:
    return reproduce.likely_reasons(
        manifest_with("python", version=before), manifest_with("python", version=after)
    )


def test_likely_reasons_show_short_values_and_point_to_the_manifests_for_long_ones():
    assert python_version_reasons("3.11.7", "3.11.7") == []
    assert python_version_reasons("3.11.7", "3.12.1") == [
        "the Python version (python.version): 3.11.7 -> 3.12.1"
    ]
    # Shown while both values, as JSON, take fewer than 160 characters.
    before, after = "a" * 77, "b" * 78  # 79 + 80 characters with their quotes
    assert python_version_reasons(before, after) == [
        f"the Python version (python.version): {before} -> {after}"
    ]
    assert python_version_reasons(before + "a", after) == [
        "the Python version (python.version): see both manifests"
    ]


@pytest.mark.parametrize("commit", [None, "", 7], ids=["none", "empty", "not-text"])
def test_a_manifest_without_a_commit_is_refused_as_trained_outside_git(commit):
    with pytest.raises(ProjectError, match=r"records no commit \(it was trained outside git\)"):
        reproduce._check_commit(manifest_with("git", commit=commit), Path("models/m.json"))


def test_a_commit_missing_here_is_named_by_its_first_twelve_digits():
    commit = "0123456789abcdef" * 2 + "01234567"
    with pytest.raises(ProjectError) as refused:
        reproduce._check_commit(manifest_with("git", commit=commit), Path("models/m.json"))
    assert str(refused.value).startswith(
        "commit 0123456789ab of models/m.json is not in this repository; "
    )


def test_reproduce_without_git_says_to_install_it(trained, tmp_path):
    no_git = tmp_path / "bin-without-git"
    no_git.mkdir()
    done = command(
        "reproduce",
        "--model",
        str(trained.manifest_path),
        cwd=trained.folder,
        env={"PATH": str(no_git)},
    )
    assert done.returncode == 1
    assert done.stderr == "reproduce: error: git was not found; install git to re-create a model\n"


def test_the_recorded_data_and_its_checksum_are_placed_in_the_tree(trained, tmp_path):
    name = trained.manifest["data"]["file"]
    # A tree without the data folder, and one that has it already.
    for tree, has_folder in ((tmp_path / "bare", False), (tmp_path / "with-folder", True)):
        if has_folder:
            (tree / name).parent.mkdir(parents=True)
        reproduce._place_data(trained.manifest, tree)
        copied = tree / name
        assert artifacts.sha256_file(copied) == trained.manifest["data"]["sha256"]
        checksum = paths.ROOT / (name + ".sha256")
        assert checksum.is_file(), "the project's data keeps a checksum beside it"
        assert (tree / (name + ".sha256")).read_bytes() == checksum.read_bytes()


def test_data_other_than_the_recorded_is_refused_with_both_checksums(trained, tmp_path):
    name = trained.manifest["data"]["file"]
    real = trained.manifest["data"]["sha256"]
    recorded = "0123456789abcdef" * 4
    manifest = {**trained.manifest, **manifest_with("data", file=name, sha256=recorded)}
    with pytest.raises(ProjectError) as refused:
        reproduce._place_data(manifest, tmp_path / "tree")
    assert str(refused.value) == (
        f"data file {paths.in_project(name)} has sha256 {real[:12]}..., but the model was "
        "trained on sha256 0123456789ab...; get the recorded data (make fetch-data, "
        "data/README.md) and try again"
    )
    manifest["data"] = {"file": "data/absent.csv", "sha256": recorded}
    with pytest.raises(ProjectError, match=r"^data file \S*absent.csv is missing, but the model"):
        reproduce._place_data(manifest, tmp_path / "tree")
    assert not (tmp_path / "tree").exists()


# Stands in for an older commit's scripts/setup_venv.py: it says what it was
# given and, as set-ups before INSTALL_GIT_HOOK did, installs the git hook.
OLD_SETUP = """
import json, os, subprocess, sys
with open("setup-was-given.json", "w", encoding="utf-8") as file:
    json.dump({name: os.environ.get(name) for name in ("VENV", "INSTALL_GIT_HOOK")}, file)
print("set-up says this on stdout")
print("set-up says this on stderr", file=sys.stderr)
if os.environ.get("WRITE_HOOK"):
    hooks = subprocess.run(["git", "rev-parse", "--git-path", "hooks"],
                           capture_output=True, text=True, check=True).stdout.strip()
    os.makedirs(hooks, exist_ok=True)
    with open(os.path.join(hooks, "pre-commit"), "w", encoding="utf-8") as file:
        file.write("#!/bin/sh\\nexec /a/temporary/venv/bin/pre-commit\\n")
sys.exit(int(os.environ.get("EXIT_CODE", "0")))
"""

PYTHON_FOR = f"""
import sys
from pathlib import Path
from {MODULE} import reproduce
from {MODULE}.errors import run_command


def body(argv):
    print("python:", reproduce._python_for(Path(argv[0])))
    return 0


sys.exit(run_command("reproduce", body, sys.argv[1:]))
"""


@pytest.fixture
def older_commit(workdir: Path, tmp_path: Path) -> Path:
    """A worktree of the project at a commit whose locks differ from this venv."""
    tree = tmp_path / "tree"
    git(workdir, "worktree", "add", "--detach", "--quiet", str(tree))
    lock = tree / "requirements.txt"
    lock.write_text(lock.read_text(encoding="utf-8") + "an-older-pin==0.1\n", encoding="utf-8")
    (tree / "scripts").mkdir()
    (tree / "scripts" / "setup_venv.py").write_text(OLD_SETUP, encoding="utf-8")
    return tree


def python_for(workdir: Path, tree: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", PYTHON_FOR, str(tree)],
        cwd=workdir,
        env=project_env(workdir, env),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def hook_file(workdir: Path) -> Path:
    return workdir / git(workdir, "rev-parse", "--git-path", "hooks") / "pre-commit"


def test_this_venv_is_used_when_it_holds_exactly_the_commits_locks(workdir, tmp_path):
    tree = tmp_path / "tree"
    git(workdir, "worktree", "add", "--detach", "--quiet", str(tree))
    done = python_for(workdir, tree)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "environment: this project's .venv holds exactly that commit's locks",
        f"python: {sys.executable}",
    ]


@pytest.mark.parametrize("hook", ["none", "mine"])
def test_other_locks_get_a_venv_of_their_own_and_the_git_hook_is_put_back(
    workdir, older_commit, hook
):
    installed = hook_file(workdir)
    if hook == "mine":
        installed.write_text("#!/bin/sh\necho my own hook\n", encoding="utf-8")
    before = installed.read_bytes() if installed.exists() else None
    done = python_for(workdir, older_commit, WRITE_HOOK="1")
    assert done.returncode == 0, done.stderr
    venv = older_commit / ".venv"
    assert done.stdout.splitlines() == [
        "environment: the commit's locks differ from .venv; building a venv from them...",
        f"python: {paths.venv_python(venv)}",
    ]
    # The set-up ran in the worktree, for a venv there, told to leave the hook alone.
    given = json.loads((older_commit / "setup-was-given.json").read_text(encoding="utf-8"))
    assert given == {"VENV": str(venv), "INSTALL_GIT_HOOK": "0"}
    assert "set-up says" not in done.stderr
    assert (installed.read_bytes() if installed.exists() else None) == before


def test_a_set_up_that_fails_shows_its_own_output_and_leaves_no_hook(workdir, older_commit):
    installed = hook_file(workdir)
    assert not installed.exists()
    done = python_for(workdir, older_commit, EXIT_CODE="3")
    assert done.returncode == 1
    assert "set-up says this on stdout" in done.stdout
    assert done.stderr.splitlines() == [
        "set-up says this on stderr",
        "reproduce: error: the commit's environment could not be built (its output is above)",
    ]
    assert not installed.exists()


def test_a_missing_lock_gets_a_venv_built_as_well(workdir, tmp_path):
    tree = tmp_path / "tree"
    git(workdir, "worktree", "add", "--detach", "--quiet", str(tree))
    (tree / "requirements-dev.txt").unlink()
    (tree / "scripts").mkdir()
    (tree / "scripts" / "setup_venv.py").write_text(OLD_SETUP, encoding="utf-8")
    done = python_for(workdir, tree)
    assert done.returncode == 0, done.stderr
    assert "building a venv from them" in done.stdout
