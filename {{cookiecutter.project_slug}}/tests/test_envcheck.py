"""The venv holds exactly what the locks pin, and the check can tell when not."""

from {{ cookiecutter.module_name }} import envcheck


def test_environment_matches_the_locks():
    locks = [envcheck.ROOT / name for name in envcheck.LOCKS]
    assert envcheck.drift(locks) == [], "run `make setup`, or `make check-env` for details"


def test_differences_name_missing_extra_and_other_versions():
    lines = envcheck.differences(
        {"numpy": "2.4.6", "Typing_Extensions": "4.16.0", "scipy": "1.17.1"},
        {"numpy": "2.4.5", "typing-extensions": "4.16.0", "six": "1.17.0"},
    )
    assert lines == [
        "other version: numpy==2.4.5 is installed, the lock pins 2.4.6",
        "missing: scipy==1.17.1 is locked but not installed",
        "extra: six==1.17.0 is installed but not locked",
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
