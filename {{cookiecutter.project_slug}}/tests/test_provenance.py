"""The manifest tells the truth wherever training starts, names no folder, replaces no model."""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path

import pytest

from {{ cookiecutter.module_name }} import artifacts, paths, provenance
from {{ cookiecutter.module_name }}.errors import ProjectError

from conftest import CONTRACT, MODULE, TINY, command, files_in, git, project_env


def manifests(folder: Path) -> list[dict]:
    return [
        json.loads(path.read_text(encoding="utf-8"))
        for path in sorted((folder / "models").glob("*.json"))
    ]


def test_training_from_a_subfolder_still_refuses_a_dirty_tree(workdir):
    source = workdir / "src" / MODULE / "train.py"
    source.write_text(source.read_text(encoding="utf-8") + "# an edit\n", encoding="utf-8")
    done = command("train", *TINY, cwd=workdir / "configs", env=project_env(workdir))
    assert done.returncode == 1
    assert f"src/{MODULE}/train.py" in done.stderr
    assert files_in(workdir / "models") == []


@pytest.mark.slow
def test_training_from_inside_another_repository_records_the_projects_commit(workdir, tmp_path):
    other = tmp_path / "other-repository"
    other.mkdir()
    git(other, "init", "--quiet")
    git(other, "commit", "--quiet", "--allow-empty", "--message", "Another project")
    done = command("train", *TINY, cwd=other, env=project_env(workdir))
    assert done.returncode == 0, done.stderr
    (manifest,) = manifests(workdir)
    assert manifest["git"]["commit"] == git(workdir, "rev-parse", "HEAD")
    assert git(other, "status", "--porcelain", "--untracked-files=all") == ""


@pytest.mark.slow
def test_manifest_holds_no_absolute_path_home_or_host_name(workdir):
    absolute = [
        "--config",
        str(workdir / "configs/train.toml"),
        "--data",
        str(workdir / CONTRACT.path),
    ]
    done = command("train", *TINY, *absolute, cwd=workdir)
    assert done.returncode == 0, done.stderr
    (path,) = (workdir / "models").glob("*.json")
    text = path.read_text(encoding="utf-8")
    for leak in (
        str(workdir),
        str(Path.home()),
        str(Path(__file__).parents[1]),
        socket.gethostname(),
    ):
        assert leak not in text
    manifest = json.loads(text)
    assert manifest["config_file"] == "configs/train.toml"
    assert manifest["data"]["file"] == CONTRACT.path
    assert "--config" in manifest["command"] and "configs/train.toml" in manifest["command"]


def test_a_project_in_a_folder_of_a_larger_repository_records_where_it_lies(tmp_path):
    repository = tmp_path / "lab"
    project = repository / "courses" / "ml"
    project.mkdir(parents=True)
    (project / "notes.txt").write_text("one\n", encoding="utf-8")
    git(repository, "init", "--quiet")
    git(repository, "add", "--all")
    git(repository, "commit", "--quiet", "--no-verify", "--message", "Start")
    state = provenance.git_state(project)
    assert state.prefix == "courses/ml/"
    assert (state.commit, state.dirty) == (git(repository, "rev-parse", "HEAD"), False)
    assert provenance.git_state(repository).prefix == ""


def test_a_repository_with_no_commit_yet_counts_as_uncommitted_changes(tmp_path):
    (tmp_path / "notes.txt").write_text("one\n", encoding="utf-8")
    git(tmp_path, "init", "--quiet")
    state = provenance.git_state(tmp_path)
    assert (state.commit, state.dirty) == (None, True)
    assert state.note == "the repository has no commit yet"
    assert state.changes == ["?? notes.txt"]


def test_two_commits_hold_the_same_code_when_only_outputs_differ(workdir):
    first = git(workdir, "rev-parse", "HEAD")
    assert provenance.same_code(workdir, first, first)
    (workdir / "models").mkdir()
    (workdir / "models" / "m.json").write_text("{}\n", encoding="utf-8")
    git(workdir, "add", "--force", "models")
    git(workdir, "commit", "--quiet", "--no-verify", "--message", "Record a model")
    recorded = git(workdir, "rev-parse", "HEAD")
    assert provenance.same_code(workdir, first, recorded)
    (workdir / "configs" / "train.toml").write_text("# changed\n", encoding="utf-8")
    git(workdir, "commit", "--quiet", "--all", "--no-verify", "--message", "Change the config")
    assert not provenance.same_code(workdir, recorded, git(workdir, "rev-parse", "HEAD"))


def test_a_path_into_the_project_through_a_link_is_named_from_the_project(tmp_path):
    link = tmp_path / "shortcut"
    link.symlink_to(paths.ROOT, target_is_directory=True)
    assert paths.relative(link / CONTRACT.path, "data file") == CONTRACT.path


def test_data_outside_the_project_is_refused_naming_the_fix(workdir, tmp_path):
    outside = tmp_path / "elsewhere.csv"
    outside.write_bytes((workdir / CONTRACT.path).read_bytes())
    done = command("train", *TINY, "--data", str(outside), cwd=workdir)
    assert done.returncode == 1
    assert "outside the project folder" in done.stderr
    assert files_in(workdir / "models") == []


@pytest.mark.slow
def test_other_data_under_the_same_name_never_replaces_a_model(workdir):
    # Another file of the same name: the model's name, which names the data by
    # its file name, is the same.
    name = Path(CONTRACT.path).name
    other = workdir / "data" / "v2" / name
    other.parent.mkdir()
    original = (workdir / CONTRACT.path).read_bytes()
    changed = original + original.splitlines(keepends=True)[1]
    other.write_bytes(changed)
    other.with_name(name + ".sha256").write_text(f"{artifacts.sha256_bytes(changed)}  {name}\n")
    git(workdir, "add", "--all")
    git(workdir, "commit", "--quiet", "--no-verify", "--message", "Other data")
    first = command("train", *TINY, cwd=workdir)
    second = command("train", *TINY, "--data", str(other.relative_to(workdir)), cwd=workdir)
    assert first.returncode == second.returncode == 0, second.stderr
    records = manifests(workdir)
    assert len(records) == 2
    assert {record["data"]["file"] for record in records} == {
        CONTRACT.path,
        other.relative_to(workdir).as_posix(),
    }
    for record in records:
        weights = workdir / "models" / record["weights"]["file"]
        assert artifacts.sha256_file(weights) == record["weights"]["sha256"]
    # The same model again rewrites the same bytes under the same name.
    again = command("train", *TINY, cwd=workdir)
    assert again.returncode == 0, again.stderr
    assert len(manifests(workdir)) == 2


def test_weights_and_manifest_appear_together_or_not_at_all(tmp_path):
    weights, manifest = tmp_path / "m.safetensors", tmp_path / "m.json"
    manifest.mkdir()  # the manifest's rename fails: a folder stands at its name
    (manifest / "keep").write_text("", encoding="utf-8")
    with pytest.raises(ProjectError, match="cannot write"):
        artifacts.write_files_atomically({weights: b"weights", manifest: b"{}"})
    assert not weights.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json"]


@pytest.mark.slow
def test_allow_dirty_records_the_change_as_a_patch_that_rebuilds_the_tree(workdir, tmp_path):
    # Earlier predictions (an ignored folder) must not get in the way.
    (workdir / "predictions").mkdir()
    (workdir / "predictions" / "old.csv").write_text("id,prediction\n", encoding="utf-8")
    config = workdir / "configs" / "train.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("lr = 0.01", "lr = 0.02"))
    (workdir / "notes.txt").write_text("an idea\n", encoding="utf-8")
    done = command("train", *TINY, "--allow-dirty", cwd=workdir)
    assert done.returncode == 0, done.stderr
    (manifest,) = manifests(workdir)
    patch = workdir / "models" / manifest["git"]["patch"]["file"]
    assert artifacts.sha256_file(patch) == manifest["git"]["patch"]["sha256"]
    assert "--allow-dirty" in manifest["command"]
    # A clean checkout of the commit plus the patch is the tree the model was trained on.
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(workdir), str(clone)], check=True)
    git(clone, "apply", str(patch))
    assert (clone / "notes.txt").read_text(encoding="utf-8") == "an idea\n"
    assert "lr = 0.02" in (clone / "configs" / "train.toml").read_text(encoding="utf-8")
    # The user's staging area is left as it was.
    assert git(workdir, "diff", "--cached", "--name-only") == ""


def test_a_copied_project_refuses_to_run_the_original_folders_code(workdir):
    # Without PYTHONPATH the installed package is the original project's, as in a
    # copied folder whose venv still points back.
    done = command("train", *TINY, cwd=workdir, env={"PYTHONPATH": ""})
    assert done.returncode == 1
    assert "runs the code in" in done.stderr
    assert "make setup" in done.stderr
    assert files_in(workdir / "models") == []
