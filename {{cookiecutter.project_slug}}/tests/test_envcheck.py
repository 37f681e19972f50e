"""The locks are fresh, the venv holds exactly what they pin, and the check can tell."""

import hashlib
import re

import pytest

from {{ cookiecutter.module_name }} import envcheck


@pytest.mark.parametrize("lock", envcheck.LOCKS)
def test_each_lock_was_made_from_its_current_in_file(lock):
    source = (envcheck.ROOT / lock).with_suffix(".in")
    text = (envcheck.ROOT / lock).read_text(encoding="utf-8")
    recorded = re.search(rf"^# {re.escape(source.name)} sha256: (\w+)$", text, re.MULTILINE)
    assert recorded, f"{lock} records no digest of {source.name}: run `make lock`"
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    assert recorded.group(1) == digest, f"{source.name} changed after {lock}: run `make lock`"


def test_environment_matches_the_locks():
    locks = [envcheck.ROOT / name for name in envcheck.LOCKS]
    assert envcheck.drift(locks) == [], "run `make setup`, or `make check-env` for details"


def test_differences_name_missing_extra_and_other_versions():
    lines = envcheck.differences(
        {"numpy": "2.4.6", "Typing_Extensions": "4.16.0", "scipy": "1.17.1"},
        {"numpy": "2.4.5", "typing-extensions": "4.16.0", "six": "1.17.0"},
    )
    assert lines == [
        "other version: numpy==2.4.5 is installed, the lock has 2.4.6",
        "missing: scipy==1.17.1 is in the lock but not installed",
        "extra: six==1.17.0 is installed but not in the lock",
    ]


def test_lock_lines_for_other_platforms_and_pythons_are_skipped(tmp_path):
    lock = tmp_path / "requirements.txt"
    lock.write_text(
        "a==1 ; sys_platform == 'no-such-platform' \\\n"
        "    --hash=sha256:" + "0" * 64 + "\n"
        "    # via -r requirements.in\n"
        "b==2 ; python_full_version >= '3.0' \\\n"
        "    --hash=sha256:" + "1" * 64 + "\n"
        "c==3 ; python_full_version < '3.0'\n",
        encoding="utf-8",
    )
    assert envcheck.read_lock(lock) == {"b": "2"}


def fake_distribution(folder, name, version):
    info = folder / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    text = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    (info / "METADATA").write_text(text, encoding="utf-8")


def test_installed_versions_leave_out_installer_tools_no_lock_names(tmp_path, monkeypatch):
    site = tmp_path / "site"
    for tool in sorted(envcheck.INSTALLER_TOOLS):
        fake_distribution(site, tool, "0.0.1")
    monkeypatch.syspath_prepend(str(site))
    locks = [envcheck.ROOT / name for name in envcheck.LOCKS]
    named = envcheck.locked_versions(locks).keys() & envcheck.INSTALLER_TOOLS
    found = envcheck.installed_versions()
    # The manifest and the drift warning of predict see what check-env sees.
    assert found.keys() & envcheck.INSTALLER_TOOLS == named
    assert {tool: found[tool] for tool in named} == {tool: "0.0.1" for tool in named}

    lock = tmp_path / "requirements.txt"
    lock.write_text("pip==0.0.1\n", encoding="utf-8")
    assert envcheck.installed_versions([lock]).keys() & envcheck.INSTALLER_TOOLS == {"pip"}
