"""Fast tier: the post-gen hook does what each kind of cruft run needs.

The real cruft runs are in test_cruft_slow.py; here the hook is rendered with
each value the ``cruft_run`` global can take, and run on a small project.
"""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pytest
from jinja2 import Environment

from conftest import default_answers, git, render_hook, run
from hooks.cruft_state import CruftState, _predicted_state, cruft_run


def run_post_gen(project: Path, cruft_state: dict, **answer_changes):
    answers = default_answers(module_name="demo", **answer_changes)
    script = render_hook("post_gen_project", answers, project.parent, cruft_run=cruft_state)
    return run([sys.executable, script], cwd=project)


def test_cruft_create_record_is_in_the_first_commit_byte_for_byte(small_project):
    # Non-ASCII text and no trailing newline: the bytes must come through untouched.
    state = json.dumps({"template": "lab/repro-template", "context": {"name": 'Zoë \\ "x"'}})
    run_post_gen(small_project, {"command": "create", "state": state})
    assert (small_project / ".cruft.json").read_bytes() == state.encode()
    committed = run(["git", "show", "HEAD:.cruft.json"], cwd=small_project).stdout
    assert committed == state
    assert git(small_project, "status", "--porcelain", "--untracked-files=all") == ""


@pytest.mark.parametrize("command", ["update", "diff"])
def test_cruft_throwaway_render_gets_no_repository_and_no_record(small_project, command):
    run_post_gen(small_project, {"command": command})
    assert not (small_project / ".git").exists()
    assert not (small_project / ".cruft.json").exists()
    # The answers file is part of the rendered project, so cruft diffs it too.
    assert (small_project / ".cookiecutter.json").is_file()


def test_cruft_create_with_an_unreadable_record_leaves_the_commit_to_the_user(small_project):
    done = run_post_gen(small_project, {"command": "create", "state": None})
    assert not (small_project / ".git").exists()
    assert "git init && git add -A && git commit" in done.stderr


def test_cruft_create_without_git_says_what_any_bake_without_git_says(small_project):
    done = run_post_gen(small_project, {"command": "create", "state": None}, init_git=False)
    assert not (small_project / ".git").exists()
    assert "no git repository was made (init_git is no)" in done.stderr
    assert "could not be predicted" not in done.stderr


def test_plain_cookiecutter_gets_an_empty_cruft_run():
    assert cruft_run() == {}


def _call_as_cruft(command: str, body: str):
    """Run ``body`` inside a function named like a cruft command, in a cruft-named module."""
    namespace = {
        "__name__": f"cruft._commands.{command}",
        "cruft_run": cruft_run,
        "CruftState": CruftState,
        "Environment": Environment,
    }
    exec(f"def {command}(template_git_url, last_commit):\n    {body}\n", namespace)
    return namespace[command]("lab/repro-template", "0" * 40)


def test_cruft_create_whose_values_cannot_be_read_yields_no_state():
    assert _call_as_cruft("create", "return cruft_run()") == {"command": "create", "state": None}


def test_any_other_cruft_command_is_a_throwaway_render():
    assert _call_as_cruft("update", "return cruft_run()") == {"command": "update"}


def _create_locals(**extra) -> dict:
    return dict(
        template_git_url="lab/repro-template",
        last_commit="0" * 40,
        checkout=None,
        context={"cookiecutter": {"project_slug": "demo"}},
        directory=None,
        **extra,
    )


def test_the_predicted_record_holds_skip_only_when_cruft_was_given_one():
    plain = json.loads(_predicted_state(_create_locals(skip=None)))
    assert "skip" not in plain and plain["commit"] == "0" * 40
    skipping = json.loads(_predicted_state(_create_locals(skip=["data/"])))
    assert skipping["skip"] == ["data/"]


def test_under_cruft_the_other_template_modules_are_imported_afresh(monkeypatch):
    # An extension module an older release left in this process, as cruft update does.
    monkeypatch.setitem(sys.modules, "hooks.left_from_the_old_release", types.ModuleType("old"))
    _call_as_cruft("update", "return CruftState(Environment())")
    assert "hooks.left_from_the_old_release" not in sys.modules
    assert "hooks.cruft_state" in sys.modules and "json" in sys.modules
