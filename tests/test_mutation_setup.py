"""Fast tier: what `make mutation` mutates and runs is there, and its list of
equivalent mutants names real lines.

The run itself takes an hour and is weekly (tests/mutation.py); these checks
catch a renamed module or test file, a misspelt operator, or a stale entry
before then.
"""

from __future__ import annotations

import re
import subprocess

import mutation
import pytest

from conftest import TEMPLATE

PROJECT = TEMPLATE / "{{cookiecutter.project_slug}}"


@pytest.mark.parametrize("target", mutation.TARGETS, ids=lambda t: t.name)
def test_each_mutated_module_and_its_tests_exist(target):
    assert mutation.template_path(target).is_file()
    folder = PROJECT / "tests" if target.kind == "project" else TEMPLATE / "tests"
    for name in target.tests:
        assert (folder / f"test_{name}.py").is_file(), name


def test_every_module_of_the_default_project_is_mutated_or_says_why_not():
    source = PROJECT / "src" / "{{cookiecutter.module_name}}"
    mutated = {mutation.template_path(t) for t in mutation.TARGETS if t.kind == "project"}
    left = set()
    for path in source.rglob("*.py"):
        if path.parent.name == "backends" and path.name not in (
            "__init__.py",
            "sklearn_backend.py",
        ):
            continue  # the other frameworks' backends are not in the default project
        if path not in mutated:
            left.add(path.relative_to(source).as_posix())
    assert left == {"backends/__init__.py", *mutation.NOT_MUTATED}


def _operators() -> list[str]:
    done = subprocess.run(
        [mutation.BIN / "cosmic-ray", "operators"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.split()


def test_each_counterpart_names_an_operator_cosmic_ray_has():
    operators = _operators()
    for kind, pairs in mutation.COUNTERPARTS.items():
        for pair in pairs.split("|"):
            assert f"core/Replace{kind}Operator_{pair}" in operators, pair
    left_out = re.compile("|".join(mutation.LEFT_OUT))
    kept = [op for op in operators if not left_out.match(op)]
    assert "core/ReplaceComparisonOperator_Lt_LtE" in kept
    assert "core/ReplaceBinaryOperator_Add_LShift" not in kept
    assert "core/NumberReplacer" in kept and "core/AddNot" in kept


def test_each_equivalent_mutant_names_a_line_of_its_module_and_says_why():
    targets = {t.name: t for t in mutation.TARGETS}
    operators = set(_operators())
    entries = mutation.load_equivalent()
    for entry in entries:
        assert set(entry) == {"module", "operator", "code", "why"}, entry
        assert entry["module"] in targets, entry
        assert entry["operator"] in operators or entry["operator"] == "*", entry
        lines = [line.strip() for line in mutation.source_lines(targets[entry["module"]])]
        assert entry["code"] in lines, entry
        why = entry["why"].strip()
        assert why and "\n" not in why, entry
