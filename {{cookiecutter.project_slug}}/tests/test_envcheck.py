"""The locks are fresh, the venv holds exactly what they pin, and the check can tell."""

import hashlib
import os
import re
import subprocess
import sys
from types import SimpleNamespace

import pytest
from packaging.markers import default_environment

from {{ cookiecutter.module_name }} import cli, envcheck

from conftest import MODULE, ROOT, command


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


def test_installed_versions_skip_this_project_and_unlocked_tools_and_keep_the_first_copy(
    tmp_path, monkeypatch
):
    # sys.path order: first, then second, then third; each skipped one comes first.
    for folder in ("third", "second", "first"):
        monkeypatch.syspath_prepend(str(tmp_path / folder))
    fake_distribution(tmp_path / "first", envcheck.PROJECT, "9.9")
    fake_distribution(tmp_path / "first", "wheel", "0.0.1")
    fake_distribution(tmp_path / "second", "Zz_Fake.Dist", "1.0")
    fake_distribution(tmp_path / "third", "zz-fake-dist", "2.0")

    found = envcheck.installed_versions([])
    assert found["zz-fake-dist"] == "1.0"
    assert envcheck.canonical(envcheck.PROJECT) not in found
    assert "wheel" not in found

    # A lock that cannot be read names no installer tool, and is no error here.
    assert "wheel" not in envcheck.installed_versions([tmp_path / "no-such-lock.txt"])


def test_marker_environment_has_the_values_packaging_uses():
    env = envcheck.marker_environment()
    expected = default_environment()
    assert env["extra"] == ""
    assert {k: v for k, v in env.items() if k != "extra"} == {
        k: expected[k] for k in env if k != "extra"
    }


def test_marker_environment_spells_a_prerelease_python_as_pep_440_does(monkeypatch):
    version = SimpleNamespace(major=3, minor=15, micro=0, releaselevel="beta", serial=2)
    monkeypatch.setattr(sys, "implementation", SimpleNamespace(name="cpython", version=version))
    assert envcheck.marker_environment()["implementation_version"] == "3.15.0b2"


# A fixed interpreter, so that every marker below has one answer on any machine.
MARKER_ENV = {
    **dict.fromkeys(envcheck.marker_environment(), ""),
    "python_version": "3.11",
    "python_full_version": "3.11.4",
    "sys_platform": "linux",
}


@pytest.mark.parametrize(
    ("marker", "holds"),
    [
        ("python_version == '3.11'", True),
        ("python_version == '3.11.0'", True),
        ("python_version == '3.12'", False),
        ("python_version != '3.11'", False),
        ("python_version != '3.12'", True),
        ("python_version < '3.11'", False),
        ("python_version < '3.12'", True),
        ("python_version <= '3.10'", False),
        ("python_version <= '3.11'", True),
        ("python_version > '3.11'", False),
        ("python_version > '3.10'", True),
        ("python_version >= '3.12'", False),
        ("python_version >= '3.11'", True),
        ("'3.12' > python_version", True),
        ("python_full_version ~= '3.11.4'", True),
        ("python_full_version ~= '3.11.2'", True),
        ("python_full_version ~= '3.11.5'", False),
        ("python_full_version ~= '3.10.4'", False),
        ("python_version ~= '3.10'", True),
        ("python_version ~= '2.7'", False),
        ("python_full_version === '3.11.4'", True),
        ("python_version === '3.11.0'", False),
        ("sys_platform == 'linux'", True),
        ('sys_platform != "linux"', False),
        ("sys_platform < 'win32'", False),
        ("python_version < 'win32'", False),
        ("python_version != 'win32'", True),
        ("'lin' in sys_platform", True),
        ("'win' in sys_platform", False),
        ("'win'  not   in sys_platform", True),
        ("'lin' not in sys_platform", False),
        ("sys_platform == 'linux' and python_version < '3'", False),
        ("sys_platform == 'linux' and python_version >= '3'", True),
        ("sys_platform == 'win32' or python_version >= '3'", True),
        ("sys_platform == 'win32' or python_version < '3'", False),
        ("sys_platform == 'linux' or sys_platform == 'win32' and python_version < '3'", True),
        ("(sys_platform == 'linux' or sys_platform == 'win32') and python_version < '3'", False),
        ("python_version >= '3' and python_version >= '3.11' and python_version < '3.12'", True),
    ],
)
def test_marker_holds_as_pep_508_says(marker, holds):
    assert envcheck.marker_holds(marker, MARKER_ENV) is holds


def test_a_shorter_version_in_a_marker_is_padded_with_zeros():
    env = {**MARKER_ENV, "python_full_version": "3.11.0"}
    assert envcheck.marker_holds("python_full_version == '3.11'", env)
    assert not envcheck.marker_holds("python_full_version > '3.11'", env)


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ("python_version @ '3'", "cannot read the marker \"python_version @ '3'\""),
        ("python_version ==", "the marker 'python_version ==' ends too early"),
        # Cut short where a new condition should start.
        (
            "python_version >= '3' and",
            "the marker \"python_version >= '3' and\" ends too early",
        ),
        ("python_version >= '3' or", "the marker \"python_version >= '3' or\" ends too early"),
        ("(", "the marker '(' ends too early"),
        (
            "python_versio == '3'",
            "unknown marker variable 'python_versio' in \"python_versio == '3'\"",
        ),
        (
            "(python_version == '3.11' 'x'",
            "unbalanced parentheses in \"(python_version == '3.11' 'x'\"",
        ),
        (
            "python_version == '3.11' )",
            "unexpected ')' in the marker \"python_version == '3.11' )\"",
        ),
    ],
)
def test_a_marker_that_cannot_be_read_is_refused_with_what_is_wrong(marker, message):
    with pytest.raises(ValueError) as refused:
        envcheck.marker_holds(marker, MARKER_ENV)
    assert str(refused.value) == message


def test_a_lock_is_read_across_comments_continuations_blank_lines_and_extras():
    text = (
        "# a comment\n"
        "\n"
        "alpha==1.0 \\\n"
        "    --hash=sha256:" + "0" * 64 + " \\\n"
        "    --hash=sha256:" + "1" * 64 + "\n"
        "    # via beta\n"
        "Beta_Two[extra]==2.0  # why\n"
        "gamma==3.0 ; sys_platform == 'linux' \\\n"
        "    --hash=sha256:" + "2" * 64 + "\n"
        "delta==4.0 ; sys_platform == 'win32'\n"
    )
    assert envcheck.parse_lock(text, "lock.txt", MARKER_ENV) == {
        "alpha": "1.0",
        "beta-two": "2.0",
        "gamma": "3.0",
    }


def test_a_lock_whose_last_line_ends_in_a_backslash_keeps_its_last_pin():
    assert envcheck.parse_lock("alpha==1.0 \\\n", "lock.txt", MARKER_ENV) == {"alpha": "1.0"}


def check_env(*args, cwd):
    """check-env as `make check-env` runs it, with this project's code."""
    return command("envcheck", *args, cwd=cwd, env={"PYTHONPATH": str(ROOT / "src")})


def test_check_env_with_the_project_locks_says_ok_and_names_them(tmp_path):
    done = check_env(cwd=tmp_path)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == f"OK: the environment matches {', '.join(envcheck.LOCKS)}\n"


def write_pins(path, pins):
    path.write_text("".join(f"{name}=={version}\n" for name, version in pins.items()), "utf-8")


def test_check_env_lists_every_difference_and_the_fix_and_fails(tmp_path):
    installed = envcheck.installed_versions([])
    extra, other, *rest = sorted(installed)
    pins = {name: installed[name] for name in rest}
    write_pins(tmp_path / "a.txt", {other: "0.0.0.1", **pins})
    write_pins(tmp_path / "b.txt", {"zz-not-installed": "1.0"})
    done = check_env("a.txt", "b.txt", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr.splitlines() == [
        "The environment differs from a.txt, b.txt:",
        f"  extra: {extra}=={installed[extra]} is installed but not in the lock",
        f"  other version: {other}=={installed[other]} is installed, the lock has 0.0.0.1",
        "  missing: zz-not-installed==1.0 is in the lock but not installed",
        "Fix: run `make setup`; to start clean: rm -rf .venv && make setup",
    ]

    write_pins(tmp_path / "a.txt", installed)
    done = check_env("a.txt", cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (
        0,
        "OK: the environment matches a.txt\n",
        "",
    )


def test_check_env_extras_prints_only_the_unlocked_packages_sorted(tmp_path):
    installed = envcheck.installed_versions([])
    first, second, *rest = sorted(installed)
    pins = dict.fromkeys(rest, "0")
    write_pins(tmp_path / "lock.txt", {"zz-not-installed": "1.0", **pins})
    done = check_env("--extras", "lock.txt", cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, f"{first}\n{second}\n", "")


@pytest.mark.parametrize("extras", [[], ["--extras"]])
def test_check_env_refuses_a_missing_or_malformed_lock_naming_file_line_and_fix(tmp_path, extras):
    done = check_env(*extras, "missing.txt", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        "ERROR: missing.txt: cannot read the lock (No such file or directory); run `make lock`\n"
    )

    (tmp_path / "bad.txt").write_text(
        "# made by hand\nalpha==1.0 \\\n    --hash=sha256:" + "0" * 64 + "\n\nbeta>=2\n",
        encoding="utf-8",
    )
    done = check_env(*extras, "bad.txt", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        "ERROR: bad.txt:5: 'beta>=2' is not an exact pin (name==version); "
        "regenerate the lock with `make lock`\n"
    )

    (tmp_path / "bad.txt").write_text("alpha==1.0\nbeta==2 ; python_versio < '3'\n", "utf-8")
    done = check_env(*extras, "bad.txt", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        "ERROR: bad.txt:2: unknown marker variable 'python_versio' in \"python_versio < '3'\"\n"
    )


def usage_of(help_text):
    """The usage line of a --help, joined again where argparse wrapped a long one."""
    return " ".join(help_text.split("\n\n", 1)[0].split())


def test_check_env_names_a_lock_line_whose_marker_is_cut_short(tmp_path):
    (tmp_path / "bad.txt").write_text("alpha==1.0 ; python_version >= '3' and\n", "utf-8")
    done = check_env("bad.txt", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (
        2,
        "ERROR: bad.txt:1: the marker \"python_version >= '3' and\" ends too early\n",
    )


def test_check_env_usage_names_the_command_as_it_was_typed(tmp_path):
    done = check_env("--help", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert usage_of(done.stdout) == (
        f"usage: python -m {MODULE} check-env [-h] [--extras] [locks ...]"
    )
    assert f"lock files (default: {' and '.join(envcheck.LOCKS)})" in " ".join(done.stdout.split())

    script = (
        "import sys\n"
        f"from {MODULE} import cli\n"
        "sys.argv[0] = sys.argv[1]\n"
        "sys.exit(cli.main(['check-env', '--help']))\n"
    )
    env = {**os.environ, **cli.SETTINGS, "PYTHONPATH": str(ROOT / "src")}
    for typed in (cli.PROJECT, f"python -m {MODULE}"):
        done = subprocess.run(
            [sys.executable, "-c", script, typed],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert usage_of(done.stdout) == f"usage: {typed} check-env [-h] [--extras] [locks ...]"
