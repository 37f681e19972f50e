"""Fast tier: answers that used to bake a project that then broke."""

from __future__ import annotations

import tomllib

import pytest

from conftest import BIN, bake_cli, default_answers, import_hook, run


def _refused(done, tmp_path, field: str, words: str) -> None:
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "Traceback" not in output
    errors = [line for line in done.stderr.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1, output
    assert errors[0].startswith(f"ERROR: {field}"), errors
    assert words in errors[0], errors
    assert list(tmp_path.iterdir()) == []


# (field, value, words of the one line): each would bake a project that breaks.
BREAKING_ANSWERS = [
    # TOML has no integers with leading zeros: configs/train.toml would not parse.
    ("seed", "007", "leading zero"),
    ("seed", "00", "leading zero"),
    ("seed", "9" * 5000, "too large"),
    *[
        ("module_name", name, "reserved device name on Windows")
        for name in ("con", "nul", "aux", "prn", "com1", "lpt9")
    ],
    *[
        ("module_name", name, "shadow")
        for name in ("packaging", "yaml", "pluggy", "conftest", "iniconfig", "ruff", "sympy")
    ],
]


@pytest.mark.parametrize(("field", "value", "words"), BREAKING_ANSWERS)
def test_an_answer_that_would_break_the_project_is_refused(tmp_path, field, value, words):
    pre_gen = import_hook("pre_gen_project", default_answers(), tmp_path)
    problems = pre_gen.validate(default_answers(**{field: value}))
    assert len(problems) == 1, problems
    assert problems[0].startswith(field) and words in problems[0], problems


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("seed", "007", "leading zero"),
        ("module_name", "con", "Windows"),
        ("module_name", "yaml", "shadow"),
    ],
)
def test_the_command_line_refuses_it_with_one_line(tmp_path, field, value, words):
    _refused(bake_cli(tmp_path, f"{field}={value}"), tmp_path, field, words)


LONGEST_NAME = " ".join(["Recognising"] * 8 + ["Handwritten Digits"])[:100]


@pytest.mark.parametrize(
    "answers",
    [
        [f"project_name={LONGEST_NAME}"],
        [f"project_name={LONGEST_NAME}", "project_slug=" + "s" * 55, "module_name=" + "m" * 55],
    ],
    ids=["derived", "longest-names"],
)
def test_the_longest_names_pass_the_projects_own_ruff(tmp_path, answers):
    done = bake_cli(tmp_path, *answers, "description=" + "d" * 300, "init_git=no")
    assert done.returncode == 0, done.stderr
    (project,) = tmp_path.iterdir()
    run([BIN / "ruff", "check", "--no-cache", project], cwd=project)
    run([BIN / "ruff", "format", "--check", "--no-cache", project], cwd=project)


@pytest.mark.parametrize("field", ["project_slug", "module_name"])
def test_a_name_longer_than_the_generated_code_allows_is_refused(tmp_path, field):
    answers = {"project_slug": "my-project", "module_name": "my_project", field: "n" * 56}
    done = bake_cli(tmp_path, *(f"{key}={value}" for key, value in answers.items()))
    _refused(done, tmp_path, field, "at most 55")


def test_without_git_the_readme_and_the_bake_say_to_make_the_repository(tmp_path):
    done = bake_cli(tmp_path, "init_git=no", "seed=0")
    assert done.returncode == 0, done.stderr
    config = (tmp_path / "digits-classifier" / "configs" / "train.toml").read_text("utf-8")
    assert tomllib.loads(config)["seed"] == 0
    assert "git init" in done.stderr
    readme = (tmp_path / "digits-classifier" / "README.md").read_text(encoding="utf-8")
    assert "started as a git repository" not in readme
    start = readme.split("## Start", 1)[1].split("##", 1)[0]
    assert start.index("git init") < start.index("make setup")


def test_with_git_the_readme_says_the_project_started_as_a_repository(tmp_path):
    done = bake_cli(tmp_path)
    assert done.returncode == 0, done.stderr
    readme = (tmp_path / "digits-classifier" / "README.md").read_text(encoding="utf-8")
    assert "The project started as a git repository. Training" in readme
    assert "git init" not in readme.split("## Start", 1)[1].split("##", 1)[0]
