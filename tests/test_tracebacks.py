"""Fast tier: input that used to end in a traceback gets one line, and nothing is made."""

from __future__ import annotations

import json
import sys

import pytest

from conftest import BIN, TEMPLATE, bake_cli, run


def _one_line(done, field: str, words: str) -> None:
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "Traceback" not in output, output
    errors = [line for line in done.stderr.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1, output
    assert errors[0].startswith(f"ERROR: {field}") and words in errors[0], errors


@pytest.mark.parametrize("kind", ["file", "dangling-link", "link-to-folder"])
def test_something_other_than_a_folder_at_the_project_path_is_refused(tmp_path, kind):
    out = tmp_path / "out"
    out.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    path = out / "digits-classifier"
    if kind == "file":
        path.write_text("mine\n", encoding="utf-8")
    else:
        path.symlink_to(elsewhere if kind == "link-to-folder" else tmp_path / "gone")
    # -f would otherwise write through the link, or fail half-way.
    done = bake_cli(out, "-f")
    _one_line(done, "project_slug", "not a folder")
    assert [p.name for p in out.iterdir()] == ["digits-classifier"]
    assert list(elsewhere.iterdir()) == []


def _replay_file(tmp_path, **changes) -> str:
    answers = json.loads((TEMPLATE / "cookiecutter.json").read_text(encoding="utf-8"))
    answers = {k: v[0] if isinstance(v, list) else v for k, v in answers.items()}
    answers = {k: v for k, v in answers.items() if not k.startswith("_")}
    answers.update(project_slug="digits-classifier", module_name="digits_classifier")
    answers.update(copyright_year="2026", __answers_checked="yes", **changes)
    path = tmp_path / "answers.json"
    path.write_text(json.dumps({"cookiecutter": answers}), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("project_slug", "s" * 300, "at most 55"),
        ("project_slug", "digits\x00classifier", "lowercase ASCII"),
        ("project_name", "Digits\x00Classifier", "control character"),
    ],
    ids=["long-slug", "nul-slug", "nul-name"],
)
def test_a_bad_answer_in_a_replay_file_gets_one_line(tmp_path, field, value, words):
    out = tmp_path / "out"
    out.mkdir()
    replay = _replay_file(tmp_path, **{field: value})
    done = run(
        [BIN / "cookiecutter", "--replay-file", replay, "--output-dir", out, TEMPLATE],
        cwd=tmp_path,
        check=False,
    )
    _one_line(done, field, words)
    assert list(out.iterdir()) == []


def test_a_number_python_cannot_print_in_extra_context_gets_one_line(tmp_path):
    code = (
        "import sys\n"
        "from cookiecutter.main import cookiecutter\n"
        "cookiecutter(sys.argv[1], no_input=True, output_dir=sys.argv[2],\n"
        "             extra_context={'seed': 10**5000})\n"
    )
    done = run([sys.executable, "-c", code, TEMPLATE, tmp_path], cwd=tmp_path, check=False)
    _one_line(done, "seed", "thousands of digits")
    assert list(tmp_path.iterdir()) == []


def test_the_hook_traceback_filter_leaves_cookiecutters_other_log_lines_alone(tmp_path):
    # It drops the traceback of a failed hook only; --verbose still shows the rest.
    done = bake_cli(tmp_path, "--verbose")
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "DEBUG cookiecutter.hooks: Running hook pre_gen_project" in output
    assert "DEBUG cookiecutter.hooks: Running hook post_gen_project" in output
