"""Fast tier: the committed locks match their inputs, on every platform.

A lock is stale when its requirements.in changed after `make lock` ran.  The
check is by content: each lock records the sha256 of the .in it was made
from, and every requirement in the .in must be met by the lock's pins on
every platform and Python version the project supports.
"""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement

from conftest import CONTEXT, FRAMEWORKS, TEMPLATE

PROJECT = TEMPLATE / "{{cookiecutter.project_slug}}"
ENVCHECK_SOURCE = PROJECT / "src" / "{{cookiecutter.module_name}}" / "envcheck.py"

# (input, lock) as the template ships them; the baked project renames the
# chosen framework's pair to requirements.in / requirements.txt.
LOCK_PAIRS = {
    **{
        fw: (PROJECT / "requirements" / f"{fw}.in", PROJECT / "requirements" / f"{fw}.txt")
        for fw in FRAMEWORKS
    },
    "dev": (PROJECT / "requirements-dev.in", PROJECT / "requirements-dev.txt"),
}

PLATFORMS = {
    "linux-x86_64": {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix",
                     "platform_machine": "x86_64"},
    "linux-aarch64": {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix",
                      "platform_machine": "aarch64"},
    "macos-arm64": {"sys_platform": "darwin", "platform_system": "Darwin", "os_name": "posix",
                    "platform_machine": "arm64"},
    "windows-amd64": {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt",
                      "platform_machine": "AMD64"},
}  # fmt: skip


def marker_environments():
    """Every platform users run, with every Python version the project offers."""
    for (name, platform), version in itertools.product(
        PLATFORMS.items(), CONTEXT["python_version"]
    ):
        env = {
            "implementation_name": "cpython",
            "implementation_version": f"{version}.1",
            "platform_python_implementation": "CPython",
            "platform_release": "",
            "platform_version": "",
            "python_full_version": f"{version}.1",
            "python_version": version,
            "extra": "",
            **platform,
        }
        yield f"{name}-py{version}", env


ENVIRONMENTS = dict(marker_environments())


def load_envcheck():
    spec = importlib.util.spec_from_file_location("template_envcheck", ENVCHECK_SOURCE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


envcheck = load_envcheck()


def lock_problems(in_name: str, in_text: str, lock_text: str) -> list[str]:
    """Why a lock does not belong to its input; empty when it does."""
    problems = []
    digest = hashlib.sha256(in_text.encode("utf-8")).hexdigest()
    recorded = re.search(rf"^# {re.escape(in_name)} sha256: ([0-9a-f]{{64}})$", lock_text, re.M)
    if not recorded:
        problems.append(f"the lock records no digest of {in_name}")
    elif recorded.group(1) != digest:
        problems.append(f"the lock was made from another {in_name} (sha256 {recorded.group(1)})")
    requirements = [
        Requirement(line.split("#", 1)[0])
        for line in in_text.splitlines()
        if line.split("#", 1)[0].strip()
    ]
    for env_name, env in ENVIRONMENTS.items():
        pins = envcheck.parse_lock(lock_text, "lock", env)
        for req in requirements:
            if req.marker and not req.marker.evaluate(env):
                continue
            name = envcheck.canonical(req.name)
            if name not in pins:
                problems.append(f"{env_name}: {req} has no pin")
            elif not req.specifier.contains(pins[name], prereleases=True):
                problems.append(f"{env_name}: {req} is not met by the pin {name}=={pins[name]}")
    return problems


@pytest.mark.parametrize("key", LOCK_PAIRS)
def test_every_lock_was_made_from_its_current_requirements_in(key):
    source, lock = LOCK_PAIRS[key]
    in_name = "requirements-dev.in" if key == "dev" else "requirements.in"
    problems = lock_problems(
        in_name, source.read_text(encoding="utf-8"), lock.read_text(encoding="utf-8")
    )
    assert problems == [], "run `make lock`: " + "; ".join(problems)


def test_a_changed_requirements_in_makes_its_lock_stale():
    source, lock = LOCK_PAIRS["numpy"]
    in_text, lock_text = source.read_text(encoding="utf-8"), lock.read_text(encoding="utf-8")
    assert lock_problems("requirements.in", in_text, lock_text) == []
    # A new package, and a narrowed range the pin no longer meets.
    edited = in_text + "requests>=2\n"
    problems = lock_problems("requirements.in", edited, lock_text)
    assert any("made from another requirements.in" in p for p in problems)
    assert any("requests>=2 has no pin" in p for p in problems)
    narrowed = re.sub(r"^numpy.*$", "numpy>=99", in_text, flags=re.M)
    problems = lock_problems("requirements.in", narrowed, lock_text)
    assert any("numpy>=99 is not met by the pin numpy==" in p for p in problems)


@pytest.mark.parametrize("key", LOCK_PAIRS)
def test_every_pin_is_exact_and_hashed_and_names_no_machine(key):
    lock = LOCK_PAIRS[key][1]
    text = lock.read_text(encoding="utf-8")
    entries = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 4)[4])
    assert len(entries) >= 2
    for entry in entries:
        assert re.match(r"^[A-Za-z0-9][\w.-]*==\S+", entry), entry.splitlines()[0]
        assert re.search(r"--hash=sha256:[0-9a-f]{64}", entry), entry.splitlines()[0]
    # Index URLs, find-links and local paths belong to the machine that locked.
    assert not re.search(r"^\s*-(-index-url|-extra-index-url|-find-links|f|i)\b", text, re.M)
    assert "file:" not in text
    assert not re.search(r"(^|\s)/[\w.-]+/", text)


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_torch_is_locked_to_its_cpu_build_on_every_platform(env_name):
    env = ENVIRONMENTS[env_name]
    pins = envcheck.read_lock(LOCK_PAIRS["pytorch"][1], env)
    # PyTorch labels its CPU builds +cpu, except on macOS where every build is one.
    _, _, label = pins["torch"].partition("+")
    assert label == ("" if env["sys_platform"] == "darwin" else "cpu")
    assert not [name for name in pins if name.startswith(("nvidia-", "triton"))]


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_tensorflow_lock_has_a_build_for_every_platform(env_name):
    env = ENVIRONMENTS[env_name]
    pins = envcheck.read_lock(LOCK_PAIRS["tensorflow"][1], env)
    builds = {name for name in pins if name in ("tensorflow", "tensorflow-cpu")}
    # tensorflow-cpu publishes wheels for x86-64 Linux and Windows only.
    cpu_only = env["sys_platform"] != "darwin" and env["platform_machine"] in ("x86_64", "AMD64")
    assert builds == ({"tensorflow-cpu"} if cpu_only else {"tensorflow"})


def all_lock_markers() -> list[str]:
    markers = set()
    for _, lock in LOCK_PAIRS.values():
        for line in lock.read_text(encoding="utf-8").splitlines():
            if "==" in line and ";" in line:
                markers.add(line.split(";", 1)[1].rstrip(" \\").strip())
    return sorted(markers)


def test_envcheck_reads_every_lock_marker_as_packaging_does():
    markers = all_lock_markers()
    assert len(markers) >= 4
    extra = [
        "python_version >= '3.12' and (os_name == 'nt' or platform_machine != 'arm64')",
        "python_full_version ~= '3.11.0'",
        "'arm' in platform_machine",
        "platform_machine not in 'x86_64 AMD64'",
    ]
    disagreements = [
        f"{env_name}: {marker}"
        for marker in markers + extra
        for env_name, env in ENVIRONMENTS.items()
        if envcheck.marker_holds(marker, env) != Marker(marker).evaluate(env)
    ]
    assert disagreements == []


def test_differences_names_missing_extra_and_other_versions():
    lines = envcheck.differences(
        {"NumPy": "2.4.6", "scipy": "1.17.1", "typing_extensions": "4.16.0"},
        {"numpy": "2.4.6", "scipy": "1.16.0", "typing-extensions": "4.16.0", "six": "1.17.0"},
    )
    assert lines == [
        "other version: scipy==1.16.0 is installed, the lock has 1.17.1",
        "extra: six==1.17.0 is installed but not in the lock",
    ]
    missing = envcheck.differences({"a": "1"}, {})
    assert missing == ["missing: a==1 is in the lock but not installed"]
    assert envcheck.differences({"a": "1"}, {"A": "1"}) == []


def test_installed_versions_lists_what_is_installed_here():
    found = envcheck.installed_versions()
    assert found["pytest"] == pytest.__version__
    assert all(name == envcheck.canonical(name) for name in found)


def run_envcheck(*args, cwd):
    return subprocess.run(
        [sys.executable, ENVCHECK_SOURCE, *args], cwd=cwd, capture_output=True, text=True
    )


def test_envcheck_command_passes_on_a_matching_lock_and_fails_on_drift(tmp_path):
    lock = tmp_path / "requirements.txt"
    installed = envcheck.installed_versions()
    lines = [f"{name}=={version} --hash=sha256:{'0' * 64}" for name, version in installed.items()]
    lock.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = run_envcheck(lock, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("OK:")

    drifted = [line.replace(f"pytest=={pytest.__version__}", "pytest==0.1") for line in lines]
    drifted.append("not-installed-anywhere==1.0 ; python_version >= '3'")
    drifted.append("windows-only==1.0 ; sys_platform == 'win32'")
    lock.write_text("\n".join(drifted) + "\n", encoding="utf-8")
    done = run_envcheck(lock, cwd=tmp_path)
    assert done.returncode == 1
    assert f"other version: pytest=={pytest.__version__} is installed" in done.stderr
    assert "missing: not-installed-anywhere==1.0" in done.stderr
    assert "windows-only" not in done.stderr


def test_envcheck_refuses_a_lock_that_is_not_a_lock_with_one_line(tmp_path):
    lock = tmp_path / "requirements.txt"
    lock.write_text("# a comment\nnumpy>=2\n", encoding="utf-8")
    done = run_envcheck(lock, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"ERROR: {lock}:2: 'numpy>=2' is not an exact pin (name==version); "
        "regenerate the lock with `make lock`"
    ]
    done = run_envcheck(tmp_path / "absent.txt", cwd=tmp_path)
    assert done.returncode == 2
    assert "absent.txt: cannot read the lock" in done.stderr
    assert "Traceback" not in done.stderr


def test_setup_names_the_python_it_needs_when_none_is_found(cookies, tmp_path):
    result = cookies.bake(extra_context={"python_version": CONTEXT["python_version"][-1]})
    project = Path(result.project_path)
    # A PATH whose only Python is older than the one the project asks for.
    bindir = tmp_path / "bin"
    bindir.mkdir()
    old = Path(sys.executable)
    if sys.version_info[:2] >= tuple(map(int, CONTEXT["python_version"][-1].split("."))):
        pytest.skip("the test interpreter is as new as the newest supported Python")
    (bindir / "python3").symlink_to(old)

    def setup(**env):
        return subprocess.run(
            [old, "scripts/setup_venv.py"],
            cwd=project,
            env={"PATH": str(bindir), "HOME": str(tmp_path), **env},
            capture_output=True,
            text=True,
        )

    needed = CONTEXT["python_version"][-1]
    done = setup()
    assert done.returncode == 1
    assert done.stderr.startswith(f"ERROR: this project needs Python {needed} or newer")
    assert len(done.stderr.splitlines()) == 1
    # A Python named by hand that is too old is refused by name, not passed over.
    done = setup(PYTHON=str(old))
    assert done.returncode == 1
    assert done.stderr.startswith(f"ERROR: PYTHON={old} is not Python {needed} or newer")
    assert not (project / ".venv").exists()


def test_lock_without_uv_says_how_to_get_one(cookies, tmp_path):
    project = Path(cookies.bake(extra_context={"framework": "numpy"}).project_path)
    before = (project / "requirements.txt").read_bytes()
    missing = tmp_path / "no-uv-here"
    done = subprocess.run(
        [sys.executable, "scripts/lock.py"],
        cwd=project,
        env={**os.environ, "UV": str(missing)},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert done.stderr == (
        f"ERROR: uv not found at {missing}: run `make setup` first, "
        "or give one: make lock UV=/path/to/uv\n"
    )
    assert (project / "requirements.txt").read_bytes() == before
