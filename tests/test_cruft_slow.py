"""Slow tier: a lab keeps its projects in step with the template through cruft.

Every test works on its own git copy of the template, the way a lab holds its
fork, and drives the real cruft command line against it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import BIN, TEMPLATE, SetUpProject, git, run

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("cruft")]

SLUG = "lab-digits"
MODULE = "lab_digits"
# Text answers with non-ASCII letters, quotes and a backslash: .cruft.json and
# the first commit must agree on every byte of them.
ANSWERS = {
    "project_name": "Lab Digits",
    "author_name": "Zoë O'Brien",
    "description": 'Reads "digits" from C:\\data, in the lab.',
    "framework": "numpy",
    "seed": "7",
}
TEMPLATE_DIR = "{{cookiecutter.project_slug}}"
RELEASED = json.loads((TEMPLATE / "cookiecutter.json").read_text(encoding="utf-8"))[
    "_template_version"
]


def commit_all(repo: Path, message: str) -> None:
    """Commit every change, signed by a lab member (the tests' git has no identity)."""
    git(repo, "add", "--all")
    git(repo, "-c", "user.name=Lab Member", "-c", "user.email=member@example.org",
        "commit", "--quiet", "--no-verify", "--message", message)  # fmt: skip


def template_copy(destination: Path) -> Path:
    """A git repository holding the template's working tree, tagged as its release."""
    listed = run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=TEMPLATE
    ).stdout.split("\0")
    for name in filter(None, listed):
        source = TEMPLATE / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
            target.chmod(source.stat().st_mode)
    git(destination, "init", "--quiet")
    commit_all(destination, "Release the template")
    git(destination, "tag", f"v{RELEASED}")
    return destination


def cruft(*args, cwd: Path, check=True):
    return run([BIN / "cruft", *args], cwd=cwd, check=check)


def cruft_create(template: Path, output: Path, *options: str) -> Path:
    output.mkdir()
    cruft(
        "create", "--no-input", "--output-dir", output, "--extra-context", json.dumps(ANSWERS),
        *options, template, cwd=output,
    )  # fmt: skip
    return output / SLUG


def untracked_or_changed(project: Path) -> str:
    return git(project, "status", "--porcelain", "--untracked-files=all")


def test_cruft_create_commits_its_record_and_leaves_a_clean_tree(tmp_path):
    template = template_copy(tmp_path / "template")
    version = git(template, "describe", "--tags")
    project = cruft_create(template, tmp_path / "out", "--checkout", version)

    assert untracked_or_changed(project) == ""
    assert git(project, "rev-list", "--count", "HEAD") == "1"
    # The first commit holds .cruft.json exactly as cruft left it on disk.
    assert git(project, "show", "HEAD:.cruft.json") + "\n" == (project / ".cruft.json").read_text(
        encoding="utf-8"
    )
    state = json.loads((project / ".cruft.json").read_text(encoding="utf-8"))
    assert state["checkout"] == version
    assert state["commit"] == git(template, "rev-parse", "HEAD")
    assert state["context"]["cookiecutter"]["framework"] == "numpy"
    # The record of answers is the same file plain cookiecutter writes.
    recorded = json.loads((project / ".cookiecutter.json").read_text(encoding="utf-8"))
    assert recorded["cookiecutter"]["framework"] == "numpy"
    assert not {"_template", "_commit", "_checkout"} & set(recorded["cookiecutter"])
    assert "SUCCESS" in cruft("check", cwd=project).stdout


def test_cruft_update_brings_template_changes_and_keeps_the_projects_own_work(tmp_path):
    template = template_copy(tmp_path / "template")
    project = cruft_create(template, tmp_path / "out")

    # The project's own work: a changed setting and a module of its own.
    config = project / "configs" / "train.toml"
    own_config, replaced = re.subn(
        r"^seed = \d+$", "seed = 20240601", config.read_text(encoding="utf-8"), flags=re.M
    )
    assert replaced == 1
    config.write_text(own_config, encoding="utf-8")
    commit_all(project, "Train with the lab's agreed seed")
    own_module = project / "src" / MODULE / "lab_metrics.py"
    own_module.write_text('"""Metrics the lab reports."""\n\nTOP_K = 3\n', encoding="utf-8")
    commit_all(project, "Add the lab's metrics")

    # The template moves on: a file the project changed, one it did not, and a new one.
    upstream = template / TEMPLATE_DIR
    template_config = upstream / "configs" / "train.toml"
    template_config.write_text(
        "# Settings are read strictly: an unknown key is an error.\n"
        + template_config.read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    with (upstream / ".gitignore").open("a", encoding="utf-8") as gitignore:
        gitignore.write("\n# Scratch space for quick experiments.\nscratch/\n")
    (upstream / "docs").mkdir(exist_ok=True)  # the template may already have one
    (upstream / "docs" / "LAB.md").write_text(
        "# {{ cookiecutter.project_name }} in the lab\n", encoding="utf-8"
    )
    template_json = template / "cookiecutter.json"
    template_json.write_text(
        template_json.read_text(encoding="utf-8").replace(
            f'"_template_version": "{RELEASED}"', '"_template_version": "99.0.0"'
        ),
        encoding="utf-8",
    )
    commit_all(template, "Document strict settings, ignore scratch/, add lab notes")
    git(template, "tag", "v99.0.0")

    outdated = cruft("check", cwd=project, check=False)
    assert outdated.returncode != 0
    assert "out of date" in outdated.stdout

    cruft("update", "-y", "--checkout", "v99.0.0", cwd=project)
    commit_all(project, "Update from the template")

    assert untracked_or_changed(project) == ""
    assert list(project.rglob("*.rej")) == []
    merged_config = config.read_text(encoding="utf-8")
    assert merged_config.startswith("# Settings are read strictly")
    assert "seed = 20240601\n" in merged_config
    assert "<<<<<<<" not in merged_config
    assert "scratch/\n" in (project / ".gitignore").read_text(encoding="utf-8")
    assert (project / "docs" / "LAB.md").read_text(encoding="utf-8") == "# Lab Digits in the lab\n"
    assert own_module.is_file()
    history = git(project, "log", "--format=%s").splitlines()
    assert "Train with the lab's agreed seed" in history
    assert "Add the lab's metrics" in history
    state = json.loads((project / ".cruft.json").read_text(encoding="utf-8"))
    assert state["commit"] == git(template, "rev-parse", "HEAD")
    assert state["checkout"] == "v99.0.0"
    recorded = json.loads((project / ".cookiecutter.json").read_text(encoding="utf-8"))
    assert recorded["cookiecutter"]["_template_version"] == "99.0.0"

    assert "SUCCESS" in cruft("check", cwd=project).stdout
    updated = SetUpProject(project, "numpy")
    updated.make("setup")
    updated.make("test")
    assert untracked_or_changed(project) == ""


def test_cruft_update_marks_a_conflict_in_a_line_both_sides_changed(tmp_path):
    template = template_copy(tmp_path / "template")
    project = cruft_create(template, tmp_path / "out")

    config = project / "configs" / "train.toml"
    config.write_text(
        re.sub(r"^seed = .*$", "seed = 1", config.read_text(encoding="utf-8"), flags=re.M),
        encoding="utf-8",
    )
    commit_all(project, "Seed 1")
    template_config = template / TEMPLATE_DIR / "configs" / "train.toml"
    template_config.write_text(
        re.sub(
            r"^(seed = .*)$",
            r"\1  # the seed of every run",
            template_config.read_text(encoding="utf-8"),
            flags=re.M,
        ),
        encoding="utf-8",
    )
    commit_all(template, "Explain the seed")

    cruft("update", "-y", cwd=project)

    merged = config.read_text(encoding="utf-8")
    conflict = (
        "<<<<<<< ours\nseed = 1\n=======\nseed = 7  # the seed of every run\n>>>>>>> theirs\n"
    )
    assert conflict in merged
    assert "UU configs/train.toml" in untracked_or_changed(project).splitlines()


def test_cruft_link_adopts_a_cookiecutter_project_with_its_recorded_answers(tmp_path):
    template = template_copy(tmp_path / "template")
    output = tmp_path / "out"
    output.mkdir()
    answers = [f"{key}={value}" for key, value in ANSWERS.items()]
    run([BIN / "cookiecutter", "--no-input", "--output-dir", output, template, *answers], output)
    project = output / SLUG
    record = json.loads((project / ".cookiecutter.json").read_text(encoding="utf-8"))

    cruft(
        "link", "--no-input", "--checkout", f"v{RELEASED}",
        "--extra-context", json.dumps(record["cookiecutter"]), template, cwd=project,
    )  # fmt: skip

    # Linked with the recorded answers, the template renders this very project.
    assert cruft("diff", "--exit-code", cwd=project).stdout == ""
    assert "SUCCESS" in cruft("check", cwd=project).stdout
    assert untracked_or_changed(project) == "?? .cruft.json"


def test_cruft_update_uses_the_new_releases_jinja_extensions(tmp_path):
    template = template_copy(tmp_path / "template")
    project = cruft_create(template, tmp_path / "out")

    # The new release gives the guard extension a filter, and a file uses it.
    extensions = json.loads((template / "cookiecutter.json").read_text(encoding="utf-8"))
    (guard,) = [e for e in extensions["_extensions"] if e.startswith("hooks.guard.")]
    guard_class = guard.rpartition(".")[2]
    with (template / "hooks" / "guard.py").open("a", encoding="utf-8") as source:
        source.write(
            f"\n\n_init_before_shout = {guard_class}.__init__\n\n\n"
            "def _init_with_shout(self, environment):\n"
            "    _init_before_shout(self, environment)\n"
            '    environment.filters["shout"] = str.upper\n\n\n'
            f"{guard_class}.__init__ = _init_with_shout\n"
        )
    (template / TEMPLATE_DIR / "SHOUT.md").write_text(
        "{{ cookiecutter.project_name | shout }}\n", encoding="utf-8"
    )
    commit_all(template, "Add a filter and use it")

    cruft("update", "-y", cwd=project)

    assert (project / "SHOUT.md").read_text(encoding="utf-8") == "LAB DIGITS\n"
