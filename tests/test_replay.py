"""Fast tier: a project's recorded answers bake the same project again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import BIN, TEMPLATE, run

# Answers away from every default, with the characters that break quoting.
ANSWERS = {
    "project_name": "Zoë's Lab",
    "description": 'Counts "digits" at $5, `fast`, #1 and C:\\data.',
    "author_name": "Zoë O'Brien",
    "framework": "numpy",
    "license": "BSD-3-Clause",
    "ci": "gitlab",
    "seed": "0",
}


def tree(project: Path) -> dict[str, bytes]:
    """Every file of a project but its git repository, with its bytes."""
    return {
        path.relative_to(project).as_posix(): path.read_bytes()
        for path in sorted(project.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(project).parts
    }


@pytest.fixture
def config_file(tmp_path):
    """A cookiecutter config whose replay folder belongs to this test alone."""
    config = tmp_path / "cookiecutter-config.yaml"
    config.write_text(
        f"replay_dir: {json.dumps(str(tmp_path / 'replay'))}\n"
        f"cookiecutters_dir: {json.dumps(str(tmp_path / 'cookiecutters'))}\n",
        encoding="utf-8",
    )
    return config


def cookiecutter(output: Path, config_file: Path, *args: str):
    output.mkdir()
    run(
        [BIN / "cookiecutter", "--config-file", config_file, "--output-dir", output, *args],
        cwd=output,
    )
    (project,) = output.iterdir()
    return project


@pytest.fixture
def baked(tmp_path, config_file):
    answers = [f"{key}={value}" for key, value in ANSWERS.items()]
    return cookiecutter(tmp_path / "first", config_file, "--no-input", TEMPLATE, *answers)


def test_replay_bakes_the_same_files(tmp_path, config_file, baked):
    again = cookiecutter(tmp_path / "again", config_file, "--replay", TEMPLATE)
    assert again.name == baked.name
    assert tree(again) == tree(baked)


def test_replay_file_from_the_project_bakes_the_same_files(tmp_path, config_file, baked):
    record = baked / ".cookiecutter.json"
    again = cookiecutter(tmp_path / "again", config_file, "--replay-file", record, TEMPLATE)
    assert tree(again) == tree(baked)
    recorded = json.loads(record.read_text(encoding="utf-8"))["cookiecutter"]
    assert {key: recorded[key] for key in ANSWERS} == ANSWERS


def test_record_holds_the_answers_and_the_release_but_nothing_of_the_run(baked):
    recorded = json.loads((baked / ".cookiecutter.json").read_text(encoding="utf-8"))
    private = {key for key in recorded["cookiecutter"] if key.startswith("_")}
    assert private == {"_template_version", "__answers_checked"}
    text = (baked / ".cookiecutter.json").read_text(encoding="utf-8")
    assert str(TEMPLATE) not in text
    assert str(baked.parent) not in text
    # Readable and stable: names as they were typed, keys in one order.
    assert '"author_name": "Zoë O\'Brien"' in text
    assert list(recorded["cookiecutter"]) == sorted(recorded["cookiecutter"])
    assert text.startswith('{\n  "cookiecutter": {\n    "__answers_checked": ')


def test_a_bad_answer_in_a_replay_file_is_refused_in_one_line(tmp_path, config_file, baked):
    # A replay skips the questions, so the pre-generation hook is what refuses it.
    record = json.loads((baked / ".cookiecutter.json").read_text(encoding="utf-8"))
    record["cookiecutter"]["module_name"] = "class"
    replay = tmp_path / "edited.json"
    replay.write_text(json.dumps(record), encoding="utf-8")
    output = tmp_path / "again"
    output.mkdir()
    args = ["--config-file", config_file, "--output-dir", output, "--replay-file", replay]
    done = run([BIN / "cookiecutter", *args, TEMPLATE], cwd=output, check=False)
    assert done.returncode == 1
    assert "ERROR: module_name 'class' is a Python keyword" in done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert list(output.iterdir()) == []
