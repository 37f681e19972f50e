"""Fast tier: the hooks, rendered and imported, and bad answers end to end."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import (
    BIN,
    CONTEXT,
    TEMPLATE,
    bake_cli,
    default_answers,
    git,
    import_hook,
    render_hook,
    run,
)

# (field, bad value, words the one-line message must hold)
BAD_ANSWERS = [
    ("module_name", "my-proj", "letters, digits and _"),
    ("module_name", "3d_model", "starting with a letter"),
    ("module_name", "my proj", "letters, digits and _"),
    ("module_name", "class", "Python keyword"),
    ("module_name", "match", "Python keyword"),
    ("module_name", "random", "shadow"),
    ("module_name", "test", "shadow"),
    ("module_name", "numpy", "shadow"),
    ("module_name", "torch", "shadow"),
    ("module_name", "", "empty"),
    ("module_name", "a" * 56, "at most 55"),
    ("project_slug", "My Project", "lowercase ASCII letters"),
    ("project_slug", "-proj", "starting and ending"),
    ("project_slug", "my--proj", "single hyphens"),
    ("project_slug", "a/b", "lowercase ASCII letters"),
    ("project_slug", "..", "lowercase ASCII letters"),
    ("project_slug", "con", "reserved device name"),
    ("project_slug", "", "empty"),
    ("project_name", "", "empty"),
    ("project_name", "x" * 101, "at most 100"),
    ("project_name", "two\nlines", "one line"),
    ("description", "   ", "empty"),
    ("author_name", "", "empty"),
    ("author_email", "ada", "name@domain.tld"),
    ("author_email", "ada@localhost", "name@domain.tld"),
    ("author_email", "a b@example.org", "name@domain.tld"),
    ("python_version", "3.9", "3.11, 3.12, 3.13"),
    ("framework", "jax", "scikit-learn, pytorch, tensorflow, numpy"),
    ("license", "GPL", "MIT, BSD-3-Clause, Apache-2.0, none"),
    ("ci", "jenkins", "github, gitlab, none"),
    ("seed", "abc", "whole number from 0 to 4294967295"),
    ("seed", "-1", "whole number from 0 to 4294967295"),
    ("seed", "1.5", "whole number from 0 to 4294967295"),
    ("seed", str(2**32), "too large"),
    ("init_git", "maybe", "yes or no"),
    ("project_name", "{{ 7*7 }}", "template syntax"),
    ("description", "{% if x %}", "template syntax"),
]


@pytest.fixture
def pre_gen(tmp_path):
    return import_hook("pre_gen_project", default_answers(), tmp_path)


def test_default_answers_pass_validation(pre_gen):
    assert pre_gen.validate(default_answers()) == []


def test_seed_zero_and_the_largest_seed_are_valid(pre_gen):
    assert pre_gen.validate(default_answers(seed="0")) == []
    assert pre_gen.validate(default_answers(seed=str(2**32 - 1))) == []


@pytest.mark.parametrize(
    ("value", "example"),
    [
        ("My-Module", "my_module"),
        ("My_Module", "my_module"),  # an identifier, but not a lowercase one
        ("2fast", "ml_2fast"),
        ("--", "ml"),
        ("Q" * 50, "q" * 40),
    ],
)
def test_a_bad_module_name_gets_an_example_made_from_it(pre_gen, value, example):
    (problem,) = pre_gen.validate(default_answers(module_name=value))
    assert problem.endswith(f"(for example {example})"), problem


@pytest.mark.parametrize(
    ("value", "example"), [("My_Project", "my-project"), ("_", "my-project"), ("Q" * 50, "q" * 40)]
)
def test_a_bad_slug_gets_an_example_made_from_it(pre_gen, value, example):
    answers = default_answers(project_slug=value, module_name="digits_classifier")
    (problem,) = pre_gen.validate(answers)
    assert problem.endswith(f"(for example {example})"), problem


# COM1-9 and LPT1-9 name devices; COM0 and LPT0 do not (git for Windows
# tested it: it creates com0.c), so a project may have those names.
@pytest.mark.parametrize("slug", ["con", "prn", "aux", "nul", "com1", "com9", "lpt1", "lpt9"])
def test_a_windows_device_name_is_refused_as_slug(pre_gen, slug):
    (problem,) = pre_gen.validate(default_answers(project_slug=slug, module_name="digits"))
    assert problem.startswith(f"project_slug '{slug}' is a reserved device name on Windows")


@pytest.mark.parametrize("slug", ["com0", "lpt0", "com10", "lpt10", "console"])
def test_names_that_only_look_like_windows_devices_are_accepted(pre_gen, slug):
    assert pre_gen.validate(default_answers(project_slug=slug, module_name="digits")) == []


@pytest.mark.parametrize(
    ("length", "shown"),
    [
        (100, "'" + "x" * 56 + "...'"),
        (57, "'" + "x" * 56 + "...'"),  # 61 characters quoted: one too many
        (56, "'" + "x" * 56 + "\\n'"),  # 60 characters quoted: shown whole
    ],
)
def test_a_long_answer_is_cut_short_in_its_error_line(pre_gen, length, shown):
    (problem,) = pre_gen.validate(default_answers(description="x" * length + "\n"))
    assert problem.startswith(f"description {shown} holds a line break"), problem


def test_a_description_at_its_length_limit_is_accepted_and_one_more_is_not(pre_gen):
    assert pre_gen.validate(default_answers(description="x" * 300)) == []
    (problem,) = pre_gen.validate(default_answers(description="x" * 301))
    assert problem.startswith("description is 301 characters long"), problem


def test_single_braces_and_percent_signs_are_plain_text(pre_gen):
    assert (
        pre_gen.validate(default_answers(description="Sizes {small, large} at 50% # of runs")) == []
    )


def test_a_bad_choice_is_answered_with_the_first_choice_as_example(pre_gen):
    (problem,) = pre_gen.validate(default_answers(framework="jax"))
    assert problem.endswith("(for example framework=scikit-learn)"), problem


def test_a_number_too_long_to_print_is_named_not_printed(pre_gen):
    # A config file may give one; Python refuses to turn it into text.
    (problem,) = pre_gen.validate(default_answers(license=10**5000))
    assert problem.startswith("license a number with thousands of digits: choose one of"), problem


# Each Jinja delimiter on its own is refused, not only a whole expression.
@pytest.mark.parametrize("marker", ["{{", "}}", "{%", "%}", "{#", "#}"])
def test_any_one_template_delimiter_in_an_answer_is_refused(pre_gen, marker):
    (problem,) = pre_gen.validate(default_answers(description=f"a {marker} b"))
    assert problem.startswith("description") and "template syntax" in problem, problem


@pytest.mark.parametrize(("field", "value", "words"), BAD_ANSWERS)
def test_each_bad_answer_gets_one_line_naming_the_field(pre_gen, field, value, words):
    problems = pre_gen.validate(default_answers(**{field: value}))
    assert len(problems) == 1, problems
    assert problems[0].startswith(field)
    assert words in problems[0]
    assert "\n" not in problems[0]


def test_hook_choices_match_cookiecutter_json(pre_gen):
    from conftest import CONTEXT

    assert list(pre_gen.FRAMEWORKS) == CONTEXT["framework"]
    assert list(pre_gen.PYTHON_VERSIONS) == CONTEXT["python_version"]
    assert list(pre_gen.LICENSES) == CONTEXT["license"]
    assert list(pre_gen.CI_CHOICES) == CONTEXT["ci"]


def test_rendered_pre_gen_script_exits_nonzero_with_every_problem(tmp_path):
    answers = default_answers(module_name="class", seed="x")
    script = render_hook("pre_gen_project", answers, tmp_path)
    # Run where cookiecutter runs it: in the project folder, here one that -f reuses.
    project = tmp_path / "digits-classifier"
    project.mkdir()
    (project / "mine.txt").write_text("kept\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, script], cwd=project, capture_output=True, text=True, check=False
    )
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("ERROR:")]
    assert [e.split()[1] for e in errors] == ["module_name", "seed"]
    assert "Traceback" not in done.stderr
    # Refused answers leave the folder as it was: nothing is set aside.
    assert [p.name for p in project.iterdir()] == ["mine.txt"]


# End to end, through cookiecutter's command line.
@pytest.mark.parametrize(
    ("answer", "field"),
    [
        ("module_name=import", "module_name"),
        ("project_slug=a/b", "project_slug"),
        ("project_slug=my--proj", "project_slug"),
        ("author_email=nobody", "author_email"),
        ("seed=4294967296", "seed"),
        ("project_name=🙂", "project_slug"),
        ("project_name={{ 7*7 }}", "project_name"),
        ("description={{ cycler.__init__.__globals__.os.getcwd() }}", "description"),
    ],
)
def test_bad_answer_on_the_command_line_leaves_nothing_behind(tmp_path, answer, field):
    done = bake_cli(tmp_path, answer)
    assert done.returncode == 1
    output = done.stdout + done.stderr
    assert f"ERROR: {field}" in output
    assert "Traceback" not in output
    assert list(tmp_path.iterdir()) == []


def test_unknown_choice_is_refused_before_anything_is_written(tmp_path):
    # cookiecutter itself checks choices given on the command line, before any
    # template code runs, and reports them with a ValueError of its own.
    done = bake_cli(tmp_path, "python_version=3.99")
    assert done.returncode == 1
    assert "python_version" in done.stderr
    assert "'3.11', '3.12', '3.13'" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_sandbox_refuses_unsafe_attributes_with_one_line(capsys):
    from cookiecutter.environment import StrictEnvironment

    env = StrictEnvironment(context={"cookiecutter": {"_extensions": ["hooks.guard.AnswerGuard"]}})
    with pytest.raises(SystemExit) as stopped:
        env.from_string("{{ cycler.__init__.__globals__ }}").render()
    assert stopped.value.code == 1
    assert "__init__" in capsys.readouterr().err


def test_template_syntax_in_an_answer_is_refused_before_it_runs(tmp_path):
    marker = tmp_path / "pwned"
    payload = "{{ cycler.__init__.__globals__.os.system('touch " + str(marker) + "') }}"
    done = bake_cli(tmp_path, "project_slug=" + payload)
    assert done.returncode == 1
    assert "ERROR: project_slug" in done.stderr
    # Refused in-process, as the answer comes in, not later by the pre-gen hook.
    shown = f"project_slug {payload[:60]!r} contains template syntax, which cookiecutter would"
    assert shown in done.stderr
    assert not marker.exists()
    assert "Traceback" not in done.stdout + done.stderr


def test_sandbox_stops_a_default_that_reaches_python_internals(tmp_path):
    # The template's own defaults may hold template syntax, so the answer check
    # lets them through: only the sandbox stands between them and Python.
    template = tmp_path / "template"
    shutil.copytree(
        TEMPLATE, template, ignore=shutil.ignore_patterns(".git", ".venv", "*.pyc", "build")
    )
    marker = tmp_path / "pwned"
    context = dict(CONTEXT)
    context["description"] = (
        "{{ cycler.__init__.__globals__.os.system('touch " + str(marker) + "') }}"
    )
    (template / "cookiecutter.json").write_text(json.dumps(context), encoding="utf-8")
    output = tmp_path / "out"
    output.mkdir()
    done = run(
        [BIN / "cookiecutter", "--no-input", "--output-dir", output, template],
        cwd=output,
        check=False,
    )
    assert done.returncode == 1
    assert not marker.exists()
    assert "ERROR: an answer tried to reach" in done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert list(output.iterdir()) == []


# The post-gen hook, run on its own.
@pytest.fixture
def fake_project(tmp_path):
    project = tmp_path / "proj"
    (project / "src" / "demo").mkdir(parents=True)
    (project / "src" / "demo" / "__init__.py").write_text('"""Demo."""\n')
    (project / "README.md").write_text("# Demo\n")
    return project


def run_post_gen(project: Path, answers: dict, env=None):
    script = render_hook("post_gen_project", answers, project.parent)
    return run([sys.executable, script], cwd=project, env=env, check=False)


def test_post_gen_commits_with_the_answers_when_git_has_no_identity(fake_project):
    answers = default_answers(
        module_name="demo", author_name="Grace Hopper", author_email="grace@example.org"
    )
    done = run_post_gen(fake_project, answers)
    assert done.returncode == 0, done.stderr
    assert git(fake_project, "log", "-1", "--format=%an <%ae>|%cn <%ce>") == (
        "Grace Hopper <grace@example.org>|Grace Hopper <grace@example.org>"
    )
    commit = git(fake_project, "rev-parse", "--short", "HEAD")
    assert f"Created git repository on branch main with first commit {commit}." in done.stdout
    # Only the environment carried the identity: no config file was written.
    assert git(fake_project, "config", "--list", "--local").find("user.") == -1


def test_post_gen_keeps_a_configured_identity(fake_project, tmp_path, monkeypatch):
    config = tmp_path / "user.gitconfig"
    config.write_text("[user]\n\tname = Configured Person\n\temail = configured@example.org\n")
    before = config.read_text()
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    done = run_post_gen(fake_project, default_answers(module_name="demo"))
    assert done.returncode == 0, done.stderr
    assert git(fake_project, "log", "-1", "--format=%an <%ae>") == (
        "Configured Person <configured@example.org>"
    )
    assert config.read_text() == before


def test_post_gen_fills_in_only_the_half_of_the_identity_git_lacks(
    fake_project, tmp_path, monkeypatch
):
    config = tmp_path / "user.gitconfig"
    config.write_text("[user]\n\tname = Configured Person\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    answers = default_answers(module_name="demo", author_email="grace@example.org")
    done = run_post_gen(fake_project, answers)
    assert done.returncode == 0, done.stderr
    assert git(fake_project, "log", "-1", "--format=%an <%ae>") == (
        "Configured Person <grace@example.org>"
    )


def test_post_gen_without_git_explains_and_leaves_no_repository(fake_project, no_git_path):
    env = {"PATH": no_git_path, "HOME": str(fake_project.parent)}
    done = run_post_gen(fake_project, default_answers(module_name="demo"), env=env)
    assert done.returncode == 0
    assert "git was not found" in done.stderr
    assert not (fake_project / ".git").exists()
    assert (fake_project / ".cookiecutter.json").is_file()


def test_post_gen_failing_commit_leaves_no_half_made_repository(
    fake_project, tmp_path, monkeypatch
):
    # A signing program that does not exist makes `git commit` fail after `git init`.
    config = tmp_path / "signing.gitconfig"
    config.write_text("[commit]\n\tgpgsign = true\n[gpg]\n\tprogram = /nonexistent/gpg\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    done = run_post_gen(fake_project, default_answers(module_name="demo"))
    assert done.returncode == 0
    assert "WARNING: git commit failed" in done.stderr
    assert not (fake_project / ".git").exists()


def test_bake_into_an_existing_repository_leaves_its_history_as_it_is(tmp_path):
    # cookiecutter --overwrite-if-exists writes into a folder that may be a repository.
    project = tmp_path / "digits-classifier"
    project.mkdir()
    git(project, "init", "--quiet")
    identity = ("-c", "user.name=Owner", "-c", "user.email=owner@example.org")
    git(project, *identity, "commit", "--quiet", "--allow-empty", "--message", "Mine")
    before = (git(project, "rev-parse", "HEAD"), git(project, "symbolic-ref", "HEAD"))
    done = bake_cli(tmp_path, "--overwrite-if-exists")
    assert done.returncode == 0, done.stderr
    assert "already a git repository; left as it is" in done.stdout
    assert (git(project, "rev-parse", "HEAD"), git(project, "symbolic-ref", "HEAD")) == before
    assert git(project, "rev-list", "--count", "HEAD") == "1"
    assert "?? pyproject.toml" in git(project, "status", "--porcelain")


def test_post_gen_respects_init_git_false(fake_project):
    done = run_post_gen(fake_project, default_answers(module_name="demo", init_git=False))
    assert done.returncode == 0
    assert not (fake_project / ".git").exists()


def test_bake_without_git_on_path_still_succeeds(tmp_path, no_git_path):
    from conftest import BIN

    env = {"PATH": f"{no_git_path}", "HOME": str(tmp_path)}
    out = tmp_path / "out"
    out.mkdir()
    done = run(
        [BIN / "cookiecutter", "--no-input", "--output-dir", out, Path(__file__).parents[1]],
        cwd=tmp_path,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    project = out / "digits-classifier"
    assert (project / "pyproject.toml").is_file()
    assert not (project / ".git").exists()
    assert "git was not found" in done.stderr + done.stdout


def test_post_gen_drops_bytecode_a_template_checkout_may_hold(fake_project):
    cache = fake_project / "src" / "demo" / "__pycache__"
    cache.mkdir()
    (cache / "demo.cpython-311.pyc").write_bytes(b"\xa7\r\r\n")
    (fake_project / "stray.pyc").write_bytes(b"\xa7\r\r\n")
    done = run_post_gen(fake_project, default_answers(module_name="demo"))
    assert done.returncode == 0, done.stderr
    assert not cache.exists()
    assert not (fake_project / "stray.pyc").exists()
    assert "pyc" not in git(fake_project, "ls-files")
