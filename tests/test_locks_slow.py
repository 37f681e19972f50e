"""Slow tier: `make setup` builds exactly the lock, and nothing else.

Read-only checks use the session's set-up project of each framework.  The
destructive ones (a tampered hash, a package installed by hand, a second
installer) bake their own small NumPy project.
"""

from __future__ import annotations

import glob
import json
import os
import pwd
import re
import shutil
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


def uv_setup(project: Path, *variables: str, env=None) -> str:
    """Run `make setup` with uv, and return what it printed."""
    command = ["make", "setup", "INSTALLER=uv", f"UV={BIN / 'uv'}", *variables]
    return run(command, cwd=project, env=env).stdout


def interpreter(python) -> tuple[str, str]:
    """What a venv made by this python runs: its version and base installation."""
    code = "import sys; print(sys.version); print(sys.base_prefix)"
    lines = run([python, "-c", code], cwd=Path(str(python)).parent).stdout.splitlines()
    return "\n".join(lines[:-1]), lines[-1]


def another_python(than: tuple[str, str]) -> str | None:
    """A Python 3.11 or newer that runs and is not the interpreter `than`."""
    home = pwd.getpwuid(os.getuid()).pw_dir
    pyenv = os.environ.get("PYENV_ROOT", os.path.join(home, ".pyenv"))
    names = [f"python3.{minor}" for minor in range(11, 15)]
    candidates = [shutil.which(name) for name in names]
    found = glob.glob(os.path.join(pyenv, "versions", "3.*", "bin", "python3.*"))
    candidates += sorted(found, reverse=True)
    for candidate in filter(None, candidates):
        if not re.fullmatch(r"python3\.\d+", os.path.basename(candidate)):
            continue
        check = "import sys, venv; sys.exit(sys.version_info < (3, 11))"
        if run([candidate, "-c", check], cwd=home, check=False).returncode != 0:
            continue
        if interpreter(candidate) != than:
            return candidate
    return None


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


@pytest.mark.xdist_group("numpy")
def test_a_copied_project_is_set_up_afresh_for_its_own_folder(tmp_path):
    project = fresh_project(tmp_path)
    uv_setup(project)
    copy = tmp_path / "copy" / project.name
    copy.parent.mkdir()
    # A user's copy: the whole folder, .venv and .git with it.
    run(["cp", "-a", project, copy], cwd=tmp_path)

    # With the copied venv activated, as a user's shell may have it.
    activated = {
        **os.environ,
        "VIRTUAL_ENV": str(copy / ".venv"),
        "PATH": f"{copy / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}",
    }
    done = uv_setup(copy, env=activated)
    assert "Up to date" not in done
    assert "Ready:" in done
    module = project.name.replace("-", "_")
    code = f"import {module}; print({module}.__file__)"
    where = run([copy / ".venv" / "bin" / "python", "-c", code], cwd=tmp_path).stdout.strip()
    assert Path(where).resolve().is_relative_to(copy.resolve())
    # Rebuilt, not repaired: the venv's scripts start the copy's Python.
    script = (copy / ".venv" / "bin" / "pre-commit").read_text(encoding="utf-8")
    assert str(copy / ".venv") in script
    assert str(project / ".venv") not in script
    # So does the git hook pre-commit made for the original.
    hook = (copy / ".git" / "hooks" / "pre-commit").read_text(encoding="utf-8")
    assert f"INSTALL_PYTHON={copy / '.venv' / 'bin' / 'python'}\n" in hook
    # Both are up to date now, each for its own folder.
    assert "nothing to do" in uv_setup(copy)
    assert "nothing to do" in uv_setup(project)


@pytest.mark.xdist_group("numpy")
def test_setup_with_another_python_rebuilds_the_venv_with_it(tmp_path):
    project = fresh_project(tmp_path)
    uv_setup(project)
    venv_python = project / ".venv" / "bin" / "python"
    first = interpreter(venv_python)
    other = another_python(first)
    if other is None:
        pytest.skip("no second Python 3.11+ interpreter runs on this machine")

    done = uv_setup(project, f"PYTHON={other}")
    assert "nothing to do" not in done
    assert interpreter(venv_python) == interpreter(other) != first
    assert run(["make", "check-env"], cwd=project).stdout.startswith("OK:")
    # Asked again for the same interpreter, or for none, there is nothing to do.
    assert "nothing to do" in uv_setup(project, f"PYTHON={other}")
    assert "nothing to do" in uv_setup(project)
    assert interpreter(venv_python) == interpreter(other)


@pytest.mark.xdist_group("numpy")
def test_no_git_hook_in_a_worktree_nor_with_install_git_hook_0(tmp_path):
    project = fresh_project(tmp_path)
    hook = project / ".git" / "hooks" / "pre-commit"
    worktree = tmp_path / "worktree"
    run(["git", "worktree", "add", "--detach", worktree, "HEAD"], cwd=project)
    # In a worktree .git is a file; pre-commit would write the main repository's hook.
    uv_setup(worktree)
    assert not hook.exists()
    uv_setup(project, "INSTALL_GIT_HOOK=0")
    assert not hook.exists()
    # Without the variable, a set-up installs the hook, even when up to date.
    assert "nothing to do" in uv_setup(project)
    assert hook.exists()


@pytest.mark.xdist_group("numpy")
def test_manifest_lists_no_installer_tools_the_locks_do_not_name(set_up_project, tmp_path):
    project = set_up_project("numpy")
    python = project.python
    raw = run(
        [BIN / "python", "-m", "pip", "--python", python, "freeze", "--all"], cwd=project.path
    ).stdout
    # `python -m venv` put pip there; the locks do not name it.
    assert re.search(r"^pip==", raw, re.M)
    unlocked_tools = INSTALLER_TOOLS - expected_pins(project.path).keys()
    assert "pip" in unlocked_tools
    module = project.module
    run([python, "-m", f"{module}.train", "--models-dir", tmp_path], cwd=project.path)
    (manifest,) = tmp_path.glob("*.json")
    packages = json.loads(manifest.read_text(encoding="utf-8"))["packages"]
    assert packages.keys() & unlocked_tools == set()
    assert packages == frozen(project.path)
    predict = [python, "-m", f"{module}.predict", "--models-dir", tmp_path]
    done = run([*predict, "--output", tmp_path / "predictions.csv"], cwd=project.path)
    assert "installed packages differ" not in done.stderr
