"""Slow tier: `make setup` builds exactly the lock, and nothing else.

Read-only checks use the session's set-up project of each framework.  The
destructive ones (a tampered hash, a package installed by hand, a second
installer) bake their own small NumPy project.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from packaging.markers import Marker

from conftest import BIN, FRAMEWORKS, bake_cli, run

pytestmark = pytest.mark.slow

LOCKS = ("requirements.txt", "requirements-dev.txt")
# Put there by `python -m venv`; neither pip freeze nor the locks list them.
INSTALLER_TOOLS = {"pip", "setuptools", "wheel"}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def venv_marker_environment(python: Path) -> dict:
    code = (
        "import json, platform, sys; print(json.dumps({'python_version': "
        "'.'.join(platform.python_version_tuple()[:2]), "
        "'python_full_version': platform.python_version(), 'sys_platform': sys.platform, "
        "'platform_machine': platform.machine(), 'platform_system': platform.system()}))"
    )
    return json.loads(run([python, "-c", code], cwd=python.parent).stdout)


def expected_pins(project: Path) -> dict[str, str]:
    """The locks' pins for the venv's interpreter, read with packaging's markers."""
    env = venv_marker_environment(project / ".venv" / "bin" / "python")
    pins = {}
    for name in LOCKS:
        text = (project / name).read_text(encoding="utf-8")
        for entry in re.findall(r"^([A-Za-z0-9][^\s;]*==[^\s;]+)(?: ; ([^\\\n]+))?", text, re.M):
            requirement, marker = entry
            if marker and not Marker(marker.strip()).evaluate(env):
                continue
            package, version = requirement.split("==")
            pins[canonical(package)] = version
    return pins


def frozen(project: Path) -> dict[str, str]:
    """`pip freeze` of the project's venv, less the project itself."""
    python = project / ".venv" / "bin" / "python"
    # The dev venv's pip reads the project's venv, which may have no pip of its own.
    lines = run(
        [BIN / "python", "-m", "pip", "--python", python, "freeze", "--all"], cwd=project
    ).stdout.splitlines()
    found = {}
    for line in lines:
        if line.startswith(("#", "-e ")) or not line.strip():
            continue
        package, version = line.split("==")
        found[canonical(package)] = version
    found.pop(canonical(project.name), None)
    for tool in INSTALLER_TOOLS - expected_pins(project).keys():
        found.pop(tool, None)
    return found


def venv_state(project: Path) -> list[tuple[str, int]]:
    venv = project / ".venv"
    return sorted(
        (p.relative_to(venv).as_posix(), p.stat().st_mtime_ns)
        for p in venv.rglob("*")
        if "__pycache__" not in p.parts
    )


def fresh_project(tmp_path: Path, framework: str = "numpy") -> Path:
    done = bake_cli(tmp_path, f"framework={framework}")
    assert done.returncode == 0, done.stderr
    return tmp_path / "digits-classifier"


def by_framework(test):
    params = [pytest.param(fw, marks=pytest.mark.xdist_group(fw)) for fw in FRAMEWORKS]
    return pytest.mark.parametrize("framework", params)(test)


@by_framework
def test_setup_installs_exactly_the_lock(set_up_project, framework):
    project = set_up_project(framework)
    expected = expected_pins(project.path)
    assert frozen(project.path) == expected
    if framework == "pytorch":
        assert expected["torch"].endswith("+cpu")


@by_framework
def test_second_setup_changes_nothing(set_up_project, framework):
    project = set_up_project(framework)
    before = venv_state(project.path)
    done = project.make("setup")
    assert "nothing to do" in done.stdout
    assert venv_state(project.path) == before


@by_framework
def test_check_env_passes_on_a_fresh_setup(set_up_project, framework):
    project = set_up_project(framework)
    done = project.make("check-env")
    assert done.stdout.startswith("OK: the environment matches requirements.txt")


@pytest.mark.xdist_group("numpy")
def test_tampered_hash_makes_the_install_fail_with_the_hash_error(tmp_path):
    project = fresh_project(tmp_path)
    lock = project / "requirements.txt"
    text = lock.read_text(encoding="utf-8")
    # Every hash of safetensors: whichever wheel pip picks, its digest is wrong.
    head, _, tail = text.partition("\nsafetensors==")
    block, _, rest = tail.partition("# via")
    block = re.sub(r"sha256:([0-9a-f]{64})", lambda m: "sha256:" + m.group(1)[::-1], block)
    lock.write_text(f"{head}\nsafetensors=={block}# via{rest}", encoding="utf-8")

    done = run(["make", "setup", "INSTALLER=pip"], cwd=project, check=False)
    assert done.returncode != 0
    assert "THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE" in done.stderr
    assert "safetensors" in done.stderr
    # A failed set-up is never taken for a finished one.
    assert not (project / ".venv" / ".locks.sha256").exists()

    done = run(["make", "setup", "INSTALLER=uv", f"UV={BIN / 'uv'}"], cwd=project, check=False)
    assert done.returncode != 0
    assert "Hash mismatch for `safetensors" in done.stderr


@pytest.mark.xdist_group("numpy")
def test_check_env_reports_a_package_installed_by_hand_and_setup_removes_it(tmp_path):
    project = fresh_project(tmp_path)
    run(["make", "setup", "INSTALLER=pip"], cwd=project)
    python = project / ".venv" / "bin" / "python"
    run([python, "-m", "pip", "install", "--quiet", "six"], cwd=project)
    six = run([python, "-c", "import six; print(six.__version__)"], cwd=project).stdout.strip()

    done = run(["make", "check-env"], cwd=project, check=False)
    assert done.returncode != 0
    assert f"extra: six=={six} is installed but not in the lock" in done.stderr

    done = run(["make", "setup", "INSTALLER=pip"], cwd=project)
    assert "Ready:" in done.stdout
    assert run(["make", "check-env"], cwd=project).stdout.startswith("OK:")
    assert "six" not in frozen(project)


@pytest.mark.xdist_group("numpy")
def test_uv_and_pip_install_the_same_versions(tmp_path):
    project = fresh_project(tmp_path)
    run(["make", "setup", "INSTALLER=pip"], cwd=project)
    with_pip = frozen(project)
    run(["rm", "-rf", ".venv"], cwd=project)
    done = run(["make", "setup", "INSTALLER=uv", f"UV={BIN / 'uv'}"], cwd=project)
    assert "installed with uv" in done.stdout
    assert frozen(project) == with_pip == expected_pins(project)


@pytest.mark.xdist_group("numpy")
def test_make_lock_reproduces_the_committed_locks(tmp_path):
    project = fresh_project(tmp_path)
    before = {name: (project / name).read_bytes() for name in LOCKS}
    files = sorted(p.name for p in project.iterdir())
    done = run(["make", "lock", f"UV={BIN / 'uv'}"], cwd=project)
    assert "Locked:" in done.stdout
    assert {name: (project / name).read_bytes() for name in LOCKS} == before
    # Nothing half-made is left beside the locks.
    assert sorted(p.name for p in project.iterdir()) == files


@pytest.mark.xdist_group("numpy")
def test_a_lock_that_cannot_be_made_leaves_the_old_one_in_place(tmp_path):
    project = fresh_project(tmp_path)
    source = project / "requirements.in"
    source.write_text(source.read_text(encoding="utf-8") + "numpy>=99\n", encoding="utf-8")
    before = (project / "requirements.txt").read_bytes()
    files = sorted(p.name for p in project.iterdir())
    done = run(["make", "lock", f"UV={BIN / 'uv'}"], cwd=project, check=False)
    assert done.returncode != 0
    assert "ERROR: could not lock requirements.in" in done.stderr
    assert (project / "requirements.txt").read_bytes() == before
    assert sorted(p.name for p in project.iterdir()) == files
