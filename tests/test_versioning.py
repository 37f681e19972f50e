"""Fast tier: the template's version, changelog and release tags agree."""

from __future__ import annotations

import re

from conftest import CONTEXT, TEMPLATE

RELEASE_HEADING = re.compile(r"^## (\d+\.\d+\.\d+) - (\d{4}-\d{2}-\d{2})$", re.MULTILINE)


def released_versions() -> list[str]:
    changelog = (TEMPLATE / "CHANGELOG.md").read_text(encoding="utf-8")
    return [version for version, _ in RELEASE_HEADING.findall(changelog)]


def test_template_version_is_the_newest_changelog_release():
    assert CONTEXT["_template_version"] == released_versions()[0]


def test_changelog_lists_releases_newest_first_without_repeats():
    versions = [tuple(map(int, v.split("."))) for v in released_versions()]
    assert versions == sorted(set(versions), reverse=True)


def test_changelog_keeps_an_unreleased_section_above_the_releases():
    changelog = (TEMPLATE / "CHANGELOG.md").read_text(encoding="utf-8")
    unreleased = changelog.index("\n## Unreleased\n")
    assert unreleased < RELEASE_HEADING.search(changelog).start()
