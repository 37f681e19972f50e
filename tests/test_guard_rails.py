"""Fast tier: the guard rails every project is baked with.

The pre-commit config pins every hook and needs nothing but PyPI; the CI
files validate against their published schemas and run the project's own
checks on every supported Python version, then re-create the newest
committed model.  The slow tier (test_guard_rails_slow.py) runs the hooks for
real.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import test_bake
import yaml

from conftest import BIN, CONTEXT, TEMPLATE, run

# The fast tier's bakes of every option combination, shared with test_bake.
baked = test_bake.baked
parametrize_combinations = test_bake.parametrize_combinations
text_files = test_bake.text_files

VERSIONS = CONTEXT["python_version"]
# The CI files vary with the oldest Python version (the matrix) and with
# PyTorch (its index): each version once, PyTorch once, for both CI services.
CI_VARIANTS = [
    {"ci": ci, "framework": framework, "python_version": version}
    for ci in ("github", "gitlab")
    for framework, version in zip(["scikit-learn", "pytorch", "numpy"], VERSIONS, strict=True)
]
CI_FILE = {"github": ".github/workflows/ci.yml", "gitlab": ".gitlab-ci.yml"}
SCHEMA = {"github": "vendor.github-workflows", "gitlab": "vendor.gitlab-ci"}
STEPS = ["make setup", "make fetch-data", "make lint", "make test-all", "make repro-check"]
# On GitHub the same steps run on Windows and macOS too, with Python alone.
GITHUB_STEPS = [
    "python scripts/setup_venv.py",
    "digits-classifier fetch-data",
    "digits-classifier lint",
    "digits-classifier test-all",
    "digits-classifier repro-check",
]
EXACT_PIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*==[0-9][A-Za-z0-9.+!-]*$")


def variant_id(variant: dict) -> str:
    return "-".join(variant.values())


@pytest.fixture(scope="module")
def default_project(cookies_session) -> Path:
    result = cookies_session.bake()
    assert result.exit_code == 0, result.exception
    return Path(result.project_path)


@pytest.fixture(scope="module")
def ci_projects(cookies_session) -> dict[str, Path]:
    projects = {}
    for variant in CI_VARIANTS:
        result = cookies_session.bake(extra_context=variant)
        assert result.exit_code == 0, result.exception
        projects[variant_id(variant)] = Path(result.project_path)
    return projects


def load_ci(project: Path, ci: str) -> dict:
    return yaml.safe_load((project / CI_FILE[ci]).read_text(encoding="utf-8"))


def pre_commit_hooks(project: Path) -> list[dict]:
    config = yaml.safe_load((project / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    return [hook for repo in config["repos"] for hook in repo["hooks"]]


def notebook_pattern(project: Path) -> re.Pattern:
    (hook,) = [h for h in pre_commit_hooks(project) if h["id"] == "no-notebooks"]
    return re.compile(hook["files"])


@pytest.mark.parametrize("ci", ["github", "gitlab"])
def test_ci_files_depend_only_on_the_answers_the_variants_cover(ci):
    """So the variants below stand for every combination that bakes a CI file."""
    source = (TEMPLATE / "{{cookiecutter.project_slug}}" / CI_FILE[ci]).read_text(encoding="utf-8")
    used = set(re.findall(r"cookiecutter\.(\w+)", source))
    # The slug appears only as the name of the command GitHub's steps run.
    used -= {"project_slug"} if ci == "github" else set()
    assert used == {"python_version", "framework"}
    # The framework matters only as PyTorch or not.
    uses_of_framework = re.findall(r"cookiecutter\.framework[^%}]*", source)
    assert {use.strip() for use in uses_of_framework} == {'cookiecutter.framework == "pytorch"'}
    covered = {(v["framework"] == "pytorch", v["python_version"]) for v in CI_VARIANTS}
    assert {version for _, version in covered} == set(VERSIONS)
    assert {is_pytorch for is_pytorch, _ in covered} == {True, False}


@pytest.mark.parametrize("ci", ["github", "gitlab"])
def test_every_baked_ci_file_validates_against_its_published_schema(ci_projects, ci):
    files = [ci_projects[variant_id(v)] / CI_FILE[ci] for v in CI_VARIANTS if v["ci"] == ci]
    run([BIN / "check-jsonschema", "--builtin-schema", SCHEMA[ci], *files], cwd=files[0].parent)


@pytest.mark.parametrize("variant", CI_VARIANTS, ids=variant_id)
def test_ci_matrix_runs_every_python_from_the_oldest_supported(ci_projects, variant):
    project = ci_projects[variant_id(variant)]
    ci = load_ci(project, variant["ci"])
    if variant["ci"] == "github":
        matrix = ci["jobs"]["check"]["strategy"]["matrix"]
        versions = matrix["python-version"]
        assert matrix["os"] == ["ubuntu-24.04"]
        others = {
            (extra["os"].split("-")[0], extra["python-version"]) for extra in matrix["include"]
        }
        assert others == {
            ("macos", variant["python_version"]),
            ("windows", variant["python_version"]),
        }
    else:
        (entry,) = ci["check"]["parallel"]["matrix"]
        versions = entry["PYTHON_VERSION"]
    assert versions == VERSIONS[VERSIONS.index(variant["python_version"]) :]


@pytest.mark.parametrize("variant", CI_VARIANTS, ids=variant_id)
def test_ci_sets_up_from_the_lock_then_runs_hooks_tests_and_repro_check(ci_projects, variant):
    project = ci_projects[variant_id(variant)]
    ci = load_ci(project, variant["ci"])
    if variant["ci"] == "github":
        steps = ci["jobs"]["check"]["steps"]
        assert [step["run"] for step in steps if "run" in step and "shell" not in step] == (
            GITHUB_STEPS
        )
        # Between set-up and the commands, the venv's programs go first on PATH.
        (put_on_path,) = [step for step in steps if step.get("shell") == "python"]
        assert "GITHUB_PATH" in put_on_path["run"]
    else:
        assert ci["check"]["script"] == STEPS
    # PyTorch's CPU build, which the lock pins, is served only by its own index.
    settings = ci.get("env", {}) if variant["ci"] == "github" else ci["variables"]
    wants_index = variant["framework"] == "pytorch"
    assert ("PIP_EXTRA_INDEX_URL" in settings) == wants_index


def reproduce_job(project: Path, ci: str) -> dict:
    """The job that re-creates the newest committed model (KeyError if it is gone)."""
    pipeline = load_ci(project, ci)
    return (pipeline["jobs"] if ci == "github" else pipeline)["reproduce"]


def reproduce_commands(job: dict, ci: str) -> list[str]:
    if ci == "github":
        return [step["run"] for step in job["steps"] if "run" in step]
    return job["script"]


@pytest.mark.parametrize("variant", CI_VARIANTS, ids=variant_id)
def test_ci_re_creates_the_newest_committed_model_from_full_history(ci_projects, variant):
    ci = variant["ci"]
    job = reproduce_job(ci_projects[variant_id(variant)], ci)
    if ci == "github":
        assert job["needs"] in ("check", ["check"])
        assert job["timeout-minutes"] > 0
        uses = {step["uses"].split("@")[0]: step for step in job["steps"] if "uses" in step}
        checkout, python = uses["actions/checkout"], uses["actions/setup-python"]
        # The manifest's commit is older than the tip: a shallow clone lacks it.
        assert checkout["with"]["fetch-depth"] == 0
        assert python["with"]["python-version"] == variant["python_version"]
        # After merges and by hand, not on every pull request: it trains a model.
        assert set(re.findall(r"github\.event_name == '(\w+)'", job["if"])) == {
            "push",
            "workflow_dispatch",
        }
    else:
        assert job["needs"] == ["check"]
        assert job["timeout"]
        assert job["variables"]["GIT_DEPTH"] == "0"
        assert job["image"] == f"python:{variant['python_version']}"
        sources = re.findall(r'\$CI_PIPELINE_SOURCE == "(\w+)"', str(job["rules"]))
        assert set(sources) == {"push", "web"}
        assert "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH" in str(job["rules"])
    setup, fetch, guarded = reproduce_commands(job, ci)
    assert (setup, fetch) == ("make setup", "make fetch-data")
    assert "git ls-files -- 'models/*.json'" in guarded
    assert "make reproduce" in guarded


@pytest.mark.parametrize("ci", ["github", "gitlab"])
def test_ci_reproduces_only_when_a_manifest_is_committed(ci_projects, ci, tmp_path):
    """Run the job's own shell with a stand-in make, before and after a commit."""
    (variant,) = [v for v in CI_VARIANTS if v["ci"] == ci and v["framework"] == "scikit-learn"]
    job = reproduce_job(ci_projects[variant_id(variant)], ci)
    guarded = reproduce_commands(job, ci)[-1]
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    calls = tmp_path / "make-calls"
    fake_make = fake_bin / "make"
    fake_make.write_text(f'#!/bin/sh\necho "$*" >> "{calls}"\nexit 3\n', encoding="utf-8")
    fake_make.chmod(0o755)
    env = {**os.environ, "PATH": f"{fake_bin}{os.pathsep}{os.environ['PATH']}"}
    repo = tmp_path / "repo"
    (repo / "models").mkdir(parents=True)
    identity = ["-c", "user.name=CI", "-c", "user.email=ci@example.org"]
    run(["git", "init", "--quiet"], cwd=repo)
    (repo / "README.md").write_text("x\n", encoding="utf-8")
    run(["git", "add", "README.md"], cwd=repo)
    run(["git", *identity, "commit", "--quiet", "-m", "start"], cwd=repo)
    # A manifest on disk but not in git is not one the runner can see.
    (repo / "models" / "draft.json").write_text("{}\n", encoding="utf-8")
    shell = ["bash", "-eo", "pipefail", "-c", guarded]

    done = run(shell, cwd=repo, env=env)
    assert "Nothing to reproduce yet" in done.stdout
    assert len(done.stdout.strip().splitlines()) == 1
    assert not calls.exists()

    run(["git", "add", "models/draft.json"], cwd=repo)
    run(["git", *identity, "commit", "--quiet", "-m", "model"], cwd=repo)
    done = run(shell, cwd=repo, env=env, check=False)
    # make reproduce ran, and its failure (different bits) fails the job.
    assert calls.read_text(encoding="utf-8").split() == ["reproduce"]
    assert done.returncode == 3
    assert "Nothing to reproduce yet" not in done.stdout


def test_workflow_pins_every_action_by_full_commit_with_its_version(default_project):
    text = (default_project / CI_FILE["github"]).read_text(encoding="utf-8")
    uses = re.findall(r"^\s*-?\s*uses:\s*(.+)$", text, re.MULTILINE)
    assert uses
    for use in uses:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+", use), use


def test_lint_target_runs_every_hook_on_every_file(default_project):
    makefile = (default_project / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^lint:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE).group(1)
    assert recipe.split() == ["@$(PYTHON)", "-m", "$(MODULE)", "lint"]
    tools = (default_project / "src" / "digits_classifier" / "tools.py").read_text(encoding="utf-8")
    assert '"pre_commit", "run", "--all-files"' in tools


def test_pre_commit_accepts_the_config(default_project):
    done = run([BIN / "pre-commit", "validate-config"], cwd=default_project)
    assert done.stdout.strip() == ""


# The files it reads are the template's, unchanged in every bake (see
# test_bake.test_files_without_template_syntax_are_the_same_in_every_bake).
def test_every_pre_commit_hook_is_local_and_pinned(default_project):
    project = default_project
    config = yaml.safe_load((project / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    assert {repo["repo"] for repo in config["repos"]} == {"local"}
    for hook in pre_commit_hooks(project):
        assert hook["language"] in ("python", "fail"), hook["id"]
        if hook["language"] == "python":
            assert hook["additional_dependencies"], hook["id"]
        for requirement in hook.get("additional_dependencies", []):
            assert EXACT_PIN.match(requirement), f"{hook['id']}: {requirement}"


# The files it reads are the template's, unchanged in every bake (see
# test_bake.test_files_without_template_syntax_are_the_same_in_every_bake).
def test_ruff_hook_uses_the_ruff_version_of_the_dev_lock(default_project):
    project = default_project
    lock = (project / "requirements-dev.txt").read_text(encoding="utf-8")
    (locked,) = re.findall(r"^ruff==(\S+)", lock, re.MULTILINE)
    ruff_hooks = [h for h in pre_commit_hooks(project) if h["entry"].startswith("ruff ")]
    assert {h["entry"].split()[1] for h in ruff_hooks} == {"check", "format"}
    for hook in ruff_hooks:
        assert hook["additional_dependencies"] == [f"ruff=={locked}"]


@pytest.mark.parametrize(
    "name",
    ["nb.ipynb", "sub/dir/Analysis.IPYNB", "explore/Draft.IpYnB", "a b/c.ipynb"],
)
def test_notebook_hook_matches_notebooks_in_any_folder_and_letter_case(default_project, name):
    assert notebook_pattern(default_project).search(name)


@pytest.mark.parametrize(
    "name", ["nb.py", "ipynb.md", "notes/ipynb", "data/results.ipynb.csv", "x.ipynbak"]
)
def test_notebook_hook_leaves_other_files_alone(default_project, name):
    assert not notebook_pattern(default_project).search(name)


def test_notebook_hook_explains_why_and_what_to_do_instead(default_project):
    (hook,) = [h for h in pre_commit_hooks(default_project) if h["id"] == "no-notebooks"]
    assert hook["language"] == "fail"
    message = hook["entry"]
    for words in (
        "Hidden kernel state",
        "cells run out of order",
        "jupyter nbconvert --to script",
        "jupytext --to py:percent",
        "explore/",
    ):
        assert words in message


@parametrize_combinations
def test_every_text_file_ends_with_one_newline_and_no_trailing_whitespace(baked):
    _, project = baked
    problems = []
    for name in sorted(text_files(project)):
        text = (project / name).read_text(encoding="utf-8")
        if not text:
            continue
        if not text.endswith("\n") or text.endswith("\n\n"):
            problems.append(f"{name}: must end with exactly one newline")
        problems += [
            f"{name}:{number}: trailing whitespace"
            for number, line in enumerate(text.split("\n"), 1)
            if line != line.rstrip()
        ]
    assert problems == []


@pytest.mark.parametrize(
    ("ignored", "path"),
    [
        (True, ".venv/bin/python"),
        (True, "src/pkg/__pycache__/x.cpython-311.pyc"),
        (True, ".pytest_cache/v/cache/lastfailed"),
        (True, ".ruff_cache/0.17.6/123"),
        (True, "explore/.ipynb_checkpoints/Draft-checkpoint.ipynb"),
        (True, "models/mlp-seed42-abc1234.safetensors"),
        (True, "model.safetensors"),
        (True, ".cache/pip/http/x"),
        (False, "models/mlp-seed42-abc1234.json"),
        (False, "models/.gitkeep"),
        (False, "data/digits.csv"),
        (False, "explore/baseline.py"),
    ],
)
def test_gitignore_drops_environments_caches_and_weights_but_keeps_manifests(
    default_project, ignored, path
):
    done = run(
        ["git", "check-ignore", "--no-index", "--quiet", path], cwd=default_project, check=False
    )
    assert done.returncode == (0 if ignored else 1), path
