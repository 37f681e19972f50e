"""Fast tier: answers that try to replace the template's Jinja extensions.

cookiecutter lets a config file's default_context, extra_context and a
replay file set ``_extensions``; without the guard, answers are rendered
without a sandbox and unchecked.
"""

from __future__ import annotations

import json

import pytest

from conftest import BIN, CONTEXT, TEMPLATE, run

PAYLOAD = "{{ 7*7 }}"


def _config(tmp_path, extensions) -> str:
    config = tmp_path / "config.yaml"
    config.write_text(
        f"replay_dir: {json.dumps(str(tmp_path / 'replay'))}\n"
        f"cookiecutters_dir: {json.dumps(str(tmp_path / 'cc'))}\n"
        "default_context:\n"
        f"  _extensions: {json.dumps(extensions)}\n"
        f"  project_name: {json.dumps(PAYLOAD)}\n",
        encoding="utf-8",
    )
    return str(config)


def _one_line_refusal(done, out, *, guard_ran=True) -> None:
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    # Without the guard in cookiecutter's process, only the pre-gen hook can
    # refuse, and cookiecutter prints its own traceback after that hook's line.
    assert ("Traceback" not in output) is guard_ran, output
    errors = [line for line in done.stderr.splitlines() if line.startswith("ERROR: _")]
    assert len(errors) == 1, output
    assert "_extensions" in errors[0]
    assert not [p for p in out.iterdir() if p.name not in ("config.yaml", "replay", "replay.json")]


@pytest.mark.parametrize(
    "extensions",
    [[], ["hooks.cruft_state.CruftState"], ["hooks.guard.AnswerGuard"]],
    ids=["none", "guard-dropped", "cruft-state-dropped"],
)
def test_config_file_cannot_replace_the_extensions(tmp_path, extensions):
    config = _config(tmp_path, extensions)
    command = [BIN / "cookiecutter", "--no-input", "--config-file", config]
    done = run(
        [*command, "--output-dir", tmp_path, TEMPLATE],
        cwd=tmp_path,
        check=False,
    )
    _one_line_refusal(done, tmp_path)
    assert not (tmp_path / "49").exists()


def test_extra_context_cannot_drop_the_guard(tmp_path):
    code = (
        "import sys\n"
        "from cookiecutter.main import cookiecutter\n"
        "cookiecutter(sys.argv[1], no_input=True, output_dir=sys.argv[2],\n"
        "             extra_context={'_extensions': [], 'project_name': sys.argv[3]})\n"
    )
    done = run([BIN / "python", "-c", code, TEMPLATE, tmp_path, PAYLOAD], cwd=tmp_path, check=False)
    _one_line_refusal(done, tmp_path)


def test_the_check_lists_the_extensions_of_cookiecutter_json(tmp_path):
    from hooks.pre_gen_project import EXTENSIONS

    assert list(EXTENSIONS) == CONTEXT["_extensions"]


def _replay(tmp_path, **private) -> str:
    answers = {
        key: value[0] if isinstance(value, list) else value
        for key, value in CONTEXT.items()
        if not key.startswith("_")
    }
    answers.update(
        project_slug="digits-classifier", module_name="digits_classifier", copyright_year="2026"
    )
    answers.update(private)
    path = tmp_path / "replay.json"
    path.write_text(json.dumps({"cookiecutter": answers}), encoding="utf-8")
    return str(path)


def test_replay_file_naming_a_module_is_stopped_before_the_import(tmp_path):
    # Importing `this` prints the Zen of Python: visible proof of the import.
    replay = _replay(tmp_path, _extensions=["this.__doc__"], __answers_checked="yes")
    done = run(
        [BIN / "cookiecutter", "--replay-file", replay, "--output-dir", tmp_path, TEMPLATE],
        cwd=tmp_path,
        check=False,
    )
    assert "Beautiful is better than ugly" not in done.stdout + done.stderr
    _one_line_refusal(done, tmp_path)


def test_replay_file_with_every_key_is_stopped_before_a_file_is_written(tmp_path):
    replay = _replay(
        tmp_path,
        _extensions=["hooks.cruft_state.CruftState"],
        _copy_without_render=CONTEXT["_copy_without_render"],
        _template_version=CONTEXT["_template_version"],
        __answers_checked="yes",
        __extensions_checked="yes",
        __prompts__={},
    )
    done = run(
        [BIN / "cookiecutter", "--replay-file", replay, "--output-dir", tmp_path, TEMPLATE],
        cwd=tmp_path,
        check=False,
    )
    _one_line_refusal(done, tmp_path, guard_ran=False)


def test_replay_file_adding_an_extension_to_the_templates_is_stopped(tmp_path):
    # The template's own are all loaded, so only the answers show the extra one.
    replay = _replay(
        tmp_path, _extensions=[*CONTEXT["_extensions"], "jinja2.ext.debug"], __answers_checked="yes"
    )
    done = run(
        [BIN / "cookiecutter", "--replay-file", replay, "--output-dir", tmp_path, TEMPLATE],
        cwd=tmp_path,
        check=False,
    )
    _one_line_refusal(done, tmp_path)
