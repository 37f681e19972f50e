"""Fast tier: a refusal at the prompt keeps the good answers and speaks the prompt's language."""

from __future__ import annotations

import json
import shlex
import subprocess

import pytest

from conftest import BIN, TEMPLATE, run

QUESTIONS = 13  # every prompt cookiecutter asks of this template


@pytest.mark.parametrize("elsewhere", [False, True], ids=["here", "output-dir"])
def test_a_refused_answer_at_the_prompt_keeps_the_others_in_one_command(tmp_path, elsewhere):
    # Enter for every question but two: a name of our own, and a bad seed.
    typed = ["Leaf Counter"] + [""] * (QUESTIONS - 2) + ["abc"]
    out = tmp_path / "projects" if elsewhere else tmp_path
    out.mkdir(exist_ok=True)
    output = ["--output-dir", str(out)] if elsewhere else []
    done = subprocess.run(
        [BIN / "cookiecutter", *output, TEMPLATE],
        cwd=tmp_path,
        input="\n".join(typed) + "\n",
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    (error,) = [line for line in done.stderr.splitlines() if line.startswith("ERROR:")]
    # Worded for the prompt: the value to type, not the command line's seed=42.
    assert "for example 42" in error and "seed=42" not in error
    (kept,) = [line for line in done.stderr.splitlines() if line.startswith("Your other answers")]
    command = shlex.split(kept.split(" run ", 1)[1])
    assert "project_name=Leaf Counter" in command
    assert not any(arg.startswith("seed=") for arg in command)
    # The output folder too, when it was not the current one.
    if elsewhere:
        assert command[1:3] == ["--output-dir", str(out)]
    else:
        assert "--output-dir" not in command
    assert list(out.iterdir()) == []

    # The command gives back every kept answer; only the seed is asked again.
    run([BIN / "cookiecutter", *command[1:], "--no-input", "seed=7"], cwd=tmp_path)
    record = json.loads((out / "leaf-counter" / ".cookiecutter.json").read_text("utf-8"))
    assert record["cookiecutter"]["project_name"] == "Leaf Counter"
    assert record["cookiecutter"]["seed"] == "7"
