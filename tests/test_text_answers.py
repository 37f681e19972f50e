"""Fast tier: free-text answers reach every file literally, or are refused cleanly.

A property test throws quotes, backslashes, line breaks, `$`, backticks, `#`,
braces and letters from many scripts at the text questions.  Every bake must
either succeed, with each generated file parsing and holding the literal
text, or fail with one-line errors and no folder left behind.
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import tempfile
import tomllib
from pathlib import Path

import yaml
from cookiecutter.main import cookiecutter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import TEMPLATE

AWKWARD = [*"\"'\\$`#{}%<>&;|*~ ", "é", "ß", "Ж", "中", "ع", "🙂", "\u00a0"]
# Characters no one-line field may hold; one is slipped into half the examples.
UNPRINTABLE = ["\n", "\r", "\t", "\x00", "\x7f", "\x85", "\u2028", "\ufeff"]
TEXT_FIELDS = ("project_name", "description", "author_name")

printable_text = st.text(
    alphabet=st.one_of(
        st.sampled_from(AWKWARD),
        st.characters(categories=("L", "M", "N", "P", "S", "Zs"), codec="utf-8"),
    ),
    max_size=30,
)
slipped_in = st.one_of(
    st.none(),
    st.tuples(st.sampled_from(TEXT_FIELDS), st.sampled_from(UNPRINTABLE), st.integers(0, 30)),
)


def bake_in_process(output_dir: Path, answers: dict) -> tuple[int, str, Path | None]:
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        try:
            project = cookiecutter(
                str(TEMPLATE), no_input=True, extra_context=answers, output_dir=str(output_dir)
            )
        except SystemExit as stop:
            return int(stop.code or 0), stderr.getvalue(), None
    return 0, stderr.getvalue(), Path(project)


def assert_literal_everywhere(project: Path, answers: dict) -> None:
    meta = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert meta["description"] == answers["description"]
    assert meta["authors"] == [{"name": answers["author_name"], "email": "ada@example.org"}]
    readme = (project / "README.md").read_text(encoding="utf-8")
    assert readme.startswith(f"# {answers['project_name']}\n")
    assert f"\n{answers['description']}\n" in readme
    assert answers["author_name"] in (project / "LICENSE").read_text(encoding="utf-8")
    recorded = json.loads((project / ".cookiecutter.json").read_text(encoding="utf-8"))
    for key, value in answers.items():
        assert recorded["cookiecutter"][key] == value
    for path in project.rglob("*"):
        if ".git" in path.parts or not path.is_file() or path.suffix == ".png":
            continue
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".py":
            ast.parse(text, filename=str(path))
        elif path.suffix in (".yml", ".yaml"):
            yaml.safe_load(text)
        elif path.suffix == ".toml":
            tomllib.loads(text)
        elif path.suffix == ".json":
            json.loads(text)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
@given(texts=st.tuples(printable_text, printable_text, printable_text), slip=slipped_in)
def test_text_answers_are_written_literally_or_refused_in_one_line(texts, slip):
    answers = dict(zip(TEXT_FIELDS, texts, strict=True))
    if slip is not None:
        field, char, at = slip
        answers[field] = answers[field][:at] + char + answers[field][at:]
    answers["init_git"] = False
    with tempfile.TemporaryDirectory() as tmp:
        output_dir = Path(tmp)
        code, stderr, project = bake_in_process(output_dir, answers)
        if code == 0:
            del answers["init_git"]
            assert_literal_everywhere(project, answers)
            return
        assert code == 1
        lines = stderr.strip().splitlines()
        assert lines[-1].startswith("Nothing was written.")
        assert lines[:-1], stderr
        assert all(line.startswith("ERROR: ") for line in lines[:-1]), stderr
        assert "Traceback" not in stderr
        assert list(output_dir.iterdir()) == []


def test_the_awkward_characters_survive_together(tmp_path):
    answers = {
        "project_name": 'Ål\'s "Quoted" $HOME `ls` #1 \\ 中文',
        "description": "Back\\slash, 'single', \"double\", $(cmd), `tick`, # hash, é",
        "author_name": 'O\'Brien "Ó" Łukasz $USER',
    }
    code, stderr, project = bake_in_process(tmp_path, answers)
    assert code == 0, stderr
    assert_literal_everywhere(project, answers)
