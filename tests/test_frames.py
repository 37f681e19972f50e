"""Fast tier: what hooks/frames.py reads is still where it reads it.

Every reader runs inside a real cookiecutter and a real cruft, from a small
template whose Jinja extension records what each reader found.  When a
release moves a local variable or renames a function, the assertion names
the reader and the installed version.
"""

from __future__ import annotations

import json
import os
from importlib.metadata import version

from conftest import BIN, TEMPLATE, run

PROBE = """
import json, os
from jinja2.ext import Extension
from hooks import frames

def _record(name, value):
    path = os.environ["FRAMES_PROBE_OUT"]
    found = json.load(open(path)) if os.path.exists(path) else {}
    found[name] = value
    json.dump(found, open(path, "w"))
    return "x"

def _cookiecutter_call():
    call = frames.cookiecutter_call()
    if call is None:
        return None
    return {key: key in call for key in ("output_dir", "replay", "context")}

def _cruft():
    found = frames.cruft_command()
    if found is None:
        return None
    name, local = found
    return [name, sorted(key for key in frames.CRUFT_CREATE_LOCALS if key in local)]

READERS = {
    "probe_prompt": ("prompted_field", frames.prompted_field),
    "probe_call": ("cookiecutter_call", _cookiecutter_call),
    "probe_cli": ("from_command_line", frames.from_command_line),
    "probe_cruft": ("cruft_command", _cruft),
    "probe_call_in_file": ("cookiecutter_call_in_file", _cookiecutter_call),
}

class Probe(Extension):
    def __init__(self, environment):
        super().__init__(environment)
        for name, (reader, read) in READERS.items():
            environment.globals[name] = lambda reader=reader, read=read: _record(reader, read())
"""


def _probe_template(tmp_path):
    template = tmp_path / "probe-template"
    (template / "{{cookiecutter.name}}").mkdir(parents=True)
    (template / "probe.py").write_text(PROBE, encoding="utf-8")
    context = {
        "name": "probe{{ probe_prompt() }}{{ probe_call() }}{{ probe_cli() }}",
        "_extensions": ["probe.Probe"],
    }
    (template / "cookiecutter.json").write_text(json.dumps(context), encoding="utf-8")
    # Rendered while generate_files(), which has an output_dir too, is on the stack.
    file_text = "{{ probe_cruft() }}{{ probe_call_in_file() }}\n"
    (template / "{{cookiecutter.name}}" / "f.txt").write_text(file_text, "utf-8")
    return template


def _env(tmp_path, out):
    return {**os.environ, "FRAMES_PROBE_OUT": str(out), "PYTHONPATH": str(TEMPLATE)}


def test_the_readers_find_cookiecutters_frames(tmp_path):
    template = _probe_template(tmp_path)
    out = tmp_path / "found.json"
    run(
        [BIN / "cookiecutter", "--no-input", "--output-dir", tmp_path / "o", template],
        cwd=tmp_path,
        env=_env(tmp_path, out),
    )
    found = json.loads(out.read_text(encoding="utf-8"))
    where = f"cookiecutter {version('cookiecutter')} moved what hooks/frames.py reads"
    assert found["prompted_field"] == "name", f"{where}: prompted_field: {found}"
    every = dict.fromkeys(("output_dir", "replay", "context"), True)
    assert found["cookiecutter_call"] == every, f"{where}: cookiecutter_call: {found}"
    assert found["cookiecutter_call_in_file"] == every, f"{where}: cookiecutter_call: {found}"
    assert found["from_command_line"] is True, f"{where}: from_command_line: {found}"
    assert found["cruft_command"] is None, f"{where}: cruft_command outside cruft: {found}"


def test_the_readers_find_crufts_frames(tmp_path):
    template = _probe_template(tmp_path)
    for args in (
        ["init", "--quiet"],
        ["add", "-A"],
        ["-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "probe"],
    ):
        run(["git", *args], cwd=template)
    out = tmp_path / "found.json"
    run(
        [BIN / "cruft", "create", "--no-input", "--output-dir", tmp_path / "o", template],
        cwd=tmp_path,
        env=_env(tmp_path, out),
    )
    found = json.loads(out.read_text(encoding="utf-8"))
    expected = [
        "create",
        sorted(("template_git_url", "last_commit", "checkout", "context", "directory")),
    ]
    # cruft calls cookiecutter from Python, not from cookiecutter's command line.
    assert found["from_command_line"] is False, f"from_command_line under cruft: {found}"
    assert found["cruft_command"] == expected, (
        f"cruft {version('cruft')} moved what hooks/frames.py reads: cruft_command: {found}"
    )
