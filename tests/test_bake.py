"""Fast tier: every combination of options bakes a clean, linted project.

A combination is baked once per test run (see ``shared_bakes``) and then
read by each test.
"""

from __future__ import annotations

import itertools
import json
import re
import tomllib
from pathlib import Path

import pytest
import yaml

from conftest import BIN, CONTEXT, DEFAULT_AUTHOR, TEMPLATE, git, run

COMBINATIONS = [
    {"framework": f, "license": lic, "ci": ci, "init_git": init}
    for f, lic, ci, init in itertools.product(
        CONTEXT["framework"], CONTEXT["license"], CONTEXT["ci"], [True, False]
    )
]
# Both ends of the supported Python versions, on the default options.
VERSIONS = CONTEXT["python_version"]
COMBINATIONS += [{"python_version": v} for v in (VERSIONS[0], VERSIONS[-1])]


def combo_id(combo: dict) -> str:
    return "-".join(f"{v}" if not isinstance(v, bool) else f"git{int(v)}" for v in combo.values())


@pytest.fixture
def baked(request, shared_bakes):
    combo = request.param
    return combo, shared_bakes(combo_id(combo), combo)


def parametrize_combinations(test):
    """Over every combination: for checks whose input varies with every option."""
    return pytest.mark.parametrize("baked", COMBINATIONS, ids=combo_id, indirect=True)(test)


def covering(*groups: tuple[str, ...]) -> list[dict]:
    """The fewest combinations, taken in order, in which every value of each group
    of options appears together at least once: for a check whose input varies
    with those options only."""
    chosen, seen = [], set()
    for combo in COMBINATIONS:
        values = {(group, tuple(answer(combo, key) for key in group)) for group in groups}
        if values - seen:
            chosen.append(combo)
            seen |= values
    return chosen


def parametrize_covering(*groups: tuple[str, ...]):
    combos = covering(*groups)
    return lambda test: pytest.mark.parametrize("baked", combos, ids=combo_id, indirect=True)(test)


def answer(combo: dict, key: str):
    value = combo.get(key, CONTEXT[key])
    return value[0] if isinstance(value, list) else value


def expected_files(combo: dict) -> set[str]:
    """The exact set of files a combination must produce, written out by hand."""
    module = "digits_classifier"
    files = {
        ".cookiecutter.json",
        ".gitattributes",
        ".gitignore",
        ".pre-commit-config.yaml",
        "Makefile",
        "README.md",
        "pyproject.toml",
        "requirements.in",
        "requirements.txt",
        "requirements-dev.in",
        "requirements-dev.txt",
        "configs/train.toml",
        "data/README.md",
        "data/digits.csv",
        "data/digits.csv.sha256",
        "docs/confusion-matrix-example.png",
        "models/.gitkeep",
        "scripts/setup_venv.py",
        "scripts/lock.py",
        f"src/{module}/__init__.py",
        f"src/{module}/__main__.py",
        *(
            f"src/{module}/{name}.py"
            for name in [
                "add_data",
                "artifacts",
                "cli",
                "config",
                "data",
                "envcheck",
                "errors",
                "experiments",
                "fetch_data",
                "paths",
                "portable",
                "predict",
                "preprocess",
                "progress",
                "provenance",
                "report",
                "repro_check",
                "reproduce",
                "seed",
                "tools",
                "train",
            ]
        ),
        f"src/{module}/backends/__init__.py",
        "tests/conftest.py",
        "tests/test_cli.py",
        "tests/test_add_data.py",
        "tests/test_config.py",
        "tests/test_data.py",
        "tests/test_envcheck.py",
        "tests/test_experiments.py",
        "tests/test_fetch_data.py",
        "tests/test_own_data.py",
        "tests/test_package.py",
        "tests/test_policy.py",
        "tests/test_portable.py",
        "tests/test_predict.py",
        "tests/test_preprocess.py",
        "tests/test_provenance.py",
        "tests/test_report.py",
        "tests/test_reproduce.py",
        "tests/test_reproduce_parts.py",
        "tests/test_seed.py",
        "tests/test_tools.py",
        "tests/test_train.py",
    }
    backend = {
        "scikit-learn": "sklearn_backend.py",
        "pytorch": "torch_backend.py",
        "tensorflow": "tf_backend.py",
        "numpy": "numpy_backend.py",
    }[answer(combo, "framework")]
    files.add(f"src/{module}/backends/{backend}")
    if answer(combo, "license") != "none":
        files.add("LICENSE")
    ci = answer(combo, "ci")
    if ci == "github":
        files.update({".github/workflows/ci.yml", ".github/dependabot.yml"})
    elif ci == "gitlab":
        files.add(".gitlab-ci.yml")
    if ci != "none":
        files.update({"requirements/cruft.in", "requirements/cruft.txt"})
    return files


def project_files(project: Path) -> set[str]:
    return {
        p.relative_to(project).as_posix()
        for p in project.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(project).parts
    }


# Files that are copied as bytes: the README's example figure.
BINARY_SUFFIXES = (".png",)


def text_files(project: Path) -> set[str]:
    return {name for name in project_files(project) if not name.endswith(BINARY_SUFFIXES)}


@parametrize_combinations
def test_bake_writes_exactly_the_files_of_the_chosen_options(baked):
    combo, project = baked
    assert project_files(project) == expected_files(combo)
    # Nor folders that an unchosen option's files left empty (.github for ci=none).
    empty = [
        p.relative_to(project).as_posix()
        for p in project.rglob("*")
        if p.is_dir() and ".git" not in p.relative_to(project).parts and not any(p.iterdir())
    ]
    assert empty == []


@parametrize_combinations
def test_no_template_syntax_is_left_in_any_file(baked):
    _, project = baked
    markers = re.compile(r"\{\{|\}\}|\{%|%\}")
    leftovers = [
        f"{name}: {match.group()}"
        for name in text_files(project)
        for match in [markers.search((project / name).read_text(encoding="utf-8"))]
        if match
    ]
    # GitHub's own expression syntax is the one allowed use of double braces.
    leftovers = [entry for entry in leftovers if not entry.startswith(".github/")]
    assert leftovers == []


def unrendered_template_files() -> dict[str, bytes]:
    """The project's files that hold no template syntax, by their path in a bake."""
    source = TEMPLATE / "{{cookiecutter.project_slug}}"
    files = {}
    for path in sorted(source.rglob("*")):
        data = path.read_bytes() if path.is_file() else None
        if data is None or re.search(rb"\{\{|\{%|\{#", data):
            continue
        name = path.relative_to(source).as_posix()
        files[name.replace("{{cookiecutter.module_name}}", "digits_classifier")] = data
    return files


def test_files_without_template_syntax_are_the_same_in_every_bake(shared_bakes):
    # What lets the checks of such files read one bake instead of every one.
    unrendered = unrendered_template_files()
    assert ".pre-commit-config.yaml" in unrendered and "requirements-dev.txt" in unrendered
    for combo in COMBINATIONS:
        project = shared_bakes(combo_id(combo), combo)
        changed = [
            name
            for name, data in unrendered.items()
            if (project / name).is_file() and (project / name).read_bytes() != data
        ]
        assert changed == [], combo_id(combo)


@parametrize_combinations
def test_toml_yaml_and_json_files_parse(baked):
    _, project = baked
    parsed = 0
    for name in text_files(project):
        text = (project / name).read_text(encoding="utf-8")
        if name.endswith(".toml"):
            tomllib.loads(text)
        elif name.endswith((".yml", ".yaml")):
            yaml.safe_load(text)
        elif name.endswith(".json"):
            json.loads(text)
        else:
            continue
        parsed += 1
    assert parsed >= 3


def test_ruff_check_and_format_pass_on_every_combination(shared_bakes):
    # One ruff run over every project: each reads its own pyproject.toml.
    projects = [shared_bakes(combo_id(combo), combo) for combo in COMBINATIONS]
    run([BIN / "ruff", "check", "--no-cache", *projects], cwd=projects[0].parent)
    run([BIN / "ruff", "format", "--check", "--no-cache", *projects], cwd=projects[0].parent)


@parametrize_covering(("python_version",), ("license",), ("framework",))
def test_pyproject_requires_the_chosen_python(baked):
    combo, project = baked
    meta = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    assert meta["project"]["requires-python"] == f">={answer(combo, 'python_version')}"
    license_answer = answer(combo, "license")
    assert meta["project"].get("license", "none") == license_answer


# The commit holds the file set, which varies with framework, license and CI,
# each with and without git.
@parametrize_covering(("init_git", "framework"), ("init_git", "license"), ("init_git", "ci"))
def test_git_repository_has_one_clean_commit_on_main(baked):
    combo, project = baked
    if not answer(combo, "init_git"):
        assert not (project / ".git").exists()
        return
    assert git(project, "rev-list", "--count", "HEAD") == "1"
    assert git(project, "status", "--porcelain", "--untracked-files=all") == ""
    assert git(project, "branch", "--show-current") == "main"
    # The session's git has no identity, so the answers sign the commit.
    assert git(project, "log", "-1", "--format=%an <%ae>") == "{} <{}>".format(*DEFAULT_AUTHOR)
    tracked = set(git(project, "ls-files").splitlines())
    assert tracked == expected_files(combo)


def test_answers_are_recorded_for_later_updates(cookies):
    result = cookies.bake(extra_context={"seed": 7, "framework": "numpy"})
    recorded = json.loads((Path(result.project_path) / ".cookiecutter.json").read_text())
    answers = recorded["cookiecutter"]
    assert answers["seed"] == "7"
    assert answers["framework"] == "numpy"
    assert answers["_template_version"] == CONTEXT["_template_version"]
    assert "_output_dir" not in answers


def test_every_question_has_a_prompt():
    questions = [k for k in CONTEXT if not k.startswith("_")]
    assert sorted(CONTEXT["__prompts__"]) == sorted(questions)


def test_non_ascii_project_name_gets_an_ascii_slug(cookies):
    result = cookies.bake(extra_context={"project_name": "Классификатор цифр"})
    assert result.exit_code == 0, result.exception
    project = Path(result.project_path)
    assert project.name == "klassifikator-tsifr"
    assert (project / "src" / "klassifikator_tsifr" / "__init__.py").is_file()
    readme = (project / "README.md").read_text(encoding="utf-8")
    assert readme.startswith("# Классификатор цифр\n")
