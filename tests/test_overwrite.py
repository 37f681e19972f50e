"""Fast tier: baking with -f into a folder that holds the user's own files."""

from __future__ import annotations

import pytest

from conftest import bake_cli, git

# Where the pre-gen hook keeps the user's files while cookiecutter writes.
SET_ASIDE = ".cookiecutter-set-aside"

USERS_FILES = {
    ".github/workflows/deploy.yml": "name: deploy\n",
    ".github/CODEOWNERS": "* @ada\n",
    "LICENSE": "All mine.\n",
    "notes/ideas.md": "keep me\n",
}


def _users_folder(tmp_path):
    project = tmp_path / "digits-classifier"
    for relative, text in USERS_FILES.items():
        path = project / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return project


def test_overwrite_keeps_the_users_files_at_unchosen_paths(tmp_path):
    project = _users_folder(tmp_path)
    done = bake_cli(tmp_path, "-f", "license=none", "ci=gitlab", "init_git=no")
    assert done.returncode == 0, done.stderr
    for relative, text in USERS_FILES.items():
        assert (project / relative).read_text(encoding="utf-8") == text, relative
    # What this bake chose is there; what it did not choose, it did not leave.
    assert (project / ".gitlab-ci.yml").is_file()
    assert sorted(p.name for p in (project / ".github" / "workflows").iterdir()) == ["deploy.yml"]
    assert sorted(p.name for p in (project / "requirements").iterdir()) == ["cruft.in", "cruft.txt"]
    assert not (project / SET_ASIDE).exists(), "the set-aside folder must be gone"


def test_overwrite_replaces_what_the_template_writes_and_keeps_the_rest(tmp_path):
    project = _users_folder(tmp_path)
    done = bake_cli(tmp_path, "-f", "license=MIT", "ci=github")
    assert done.returncode == 0, done.stderr
    # Overwriting is what -f asks for, where this bake writes a file ...
    assert "MIT" in (project / "LICENSE").read_text(encoding="utf-8")
    # ... and nothing else of the user's is touched.
    assert (project / ".github/workflows/deploy.yml").read_text(encoding="utf-8") == (
        "name: deploy\n"
    )
    assert (project / "notes/ideas.md").read_text(encoding="utf-8") == "keep me\n"
    assert (project / ".github/workflows/ci.yml").is_file()
    tracked = git(project, "ls-files").splitlines()
    assert "notes/ideas.md" in tracked


def test_overwrite_where_a_folder_meets_a_file_takes_what_this_bake_writes(tmp_path):
    project = _users_folder(tmp_path)
    (project / "README.md").mkdir()  # a folder where the bake writes a file
    (project / "README.md" / "draft.md").write_text("draft\n", encoding="utf-8")
    (project / "src").write_text("a file where the bake writes a folder\n", encoding="utf-8")
    done = bake_cli(tmp_path, "-f", "init_git=no")
    assert done.returncode == 0, done.stderr
    assert (project / "README.md").is_file() and (project / "src").is_dir()
    assert (project / "notes/ideas.md").read_text(encoding="utf-8") == "keep me\n"
    assert not (project / SET_ASIDE).exists()


@pytest.mark.parametrize("kind", ["folder", "dangling-link"])
def test_files_an_interrupted_bake_set_aside_are_never_set_aside_again(tmp_path, kind):
    project = _users_folder(tmp_path)
    kept = project / SET_ASIDE
    if kind == "folder":
        kept.mkdir()
        (kept / "notes.md").write_text("from the last bake\n", encoding="utf-8")
    else:
        kept.symlink_to(tmp_path / "gone")
    done = bake_cli(tmp_path, "-f")
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert f"{kept} holds files an interrupted bake set aside" in output
    assert "Traceback" not in output
    for relative, text in USERS_FILES.items():
        assert (project / relative).read_text(encoding="utf-8") == text, relative
