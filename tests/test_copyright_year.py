"""Fast tier: the LICENSE year is an answer, so the same answers give the same files."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from conftest import BIN, TEMPLATE, bake_cli, default_answers, import_hook, run


@pytest.mark.parametrize("license_name", ["MIT", "BSD-3-Clause", "Apache-2.0"])
def test_the_license_carries_the_year_answered(tmp_path, license_name):
    done = bake_cli(tmp_path, "copyright_year=2031", f"license={license_name}", "init_git=no")
    assert done.returncode == 0, done.stderr
    project = tmp_path / "digits-classifier"
    assert "Copyright" in (project / "LICENSE").read_text(encoding="utf-8")
    assert "2031" in (project / "LICENSE").read_text(encoding="utf-8")
    assert str(datetime.now(UTC).year) not in (project / "LICENSE").read_text(encoding="utf-8")


def test_the_default_year_is_recorded_and_a_replay_keeps_it(tmp_path):
    first = tmp_path / "first"
    first.mkdir()
    assert bake_cli(first, "init_git=no").returncode == 0
    record = first / "digits-classifier" / ".cookiecutter.json"
    answers = json.loads(record.read_text(encoding="utf-8"))
    assert answers["cookiecutter"]["copyright_year"] == str(datetime.now(UTC).year)
    # A replay next decade: the recorded year, not the year of the replay.
    answers["cookiecutter"]["copyright_year"] = "2019"
    record.write_text(json.dumps(answers), encoding="utf-8")
    again = tmp_path / "again"
    again.mkdir()
    run(
        [BIN / "cookiecutter", "--replay-file", record, "--output-dir", again, TEMPLATE],
        cwd=tmp_path,
    )
    license_text = (again / "digits-classifier" / "LICENSE").read_text(encoding="utf-8")
    assert "Copyright (c) 2019 Ada Lovelace" in license_text


@pytest.mark.parametrize("year", ["26", "1969", "3000", "two thousand"])
def test_a_year_that_is_not_one_is_refused(tmp_path, year):
    pre_gen = import_hook("pre_gen_project", default_answers(), tmp_path)
    (problem,) = pre_gen.validate(default_answers(copyright_year=year))
    assert problem.startswith("copyright_year") and "four digits" in problem


def test_the_command_line_refuses_a_bad_year_with_one_line(tmp_path):
    done = bake_cli(tmp_path, "copyright_year=26")
    assert done.returncode == 1
    assert "ERROR: copyright_year '26'" in done.stderr
    assert "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []
