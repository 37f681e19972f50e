"""A Jinja extension that tells the post-gen hook whether cruft is running it.

cruft runs cookiecutter's ``generate_files`` itself, in its own process, for
three different purposes:

- ``cruft create`` makes the real project, and writes ``.cruft.json`` only
  after ``generate_files`` returns, that is after the post-gen hook has made
  the first commit.  Left alone, every cruft-made project would start with an
  untracked ``.cruft.json`` and a dirty tree, which training refuses.
- ``cruft update`` and ``cruft diff`` render the template twice into
  throwaway folders and diff them.  A git repository in those folders would
  end up in the diff and make it fail.

A hook is a separate process and cannot see which of these is happening, so
this extension, which cookiecutter loads in cruft's own process, finds out by
looking for cruft's command function on the call stack (hooks/frames.py), and
hands the result to the hook through the template global ``cruft_run``:

- ``{}``: not cruft (plain cookiecutter, or a test);
- ``{"command": "create", "state": TEXT}``: the exact ``.cruft.json`` that
  cruft will write, made from cruft's own values with cruft's own serializer,
  so the first commit can hold it and cruft's later write changes no byte;
- ``{"command": "create", "state": None}``: cruft create, but its values
  could not be read (another cruft version); the hook then leaves the first
  commit to the user rather than commit a tree cruft is about to change;
- ``{"command": NAME}``: any other cruft command, a throwaway render.

It also keeps ``cruft update`` working across a release that changes the
template's other extension modules.  cruft renders the old and the new
release in one process from one folder, and Python would reuse the modules it
imported for the old release, so a new filter in ``hooks/guard.py`` would be
missing from the new render.  Under cruft, this extension (listed first in
``_extensions``) makes Python import the others afresh from the files on disk.
"""

from __future__ import annotations

import sys

from jinja2.ext import Extension

from hooks.frames import cruft_command


def _predicted_state(create_locals: dict) -> str | None:
    """The text ``cruft create`` writes to ``.cruft.json``, or None if unknown.

    Mirrors cruft 2.16's ``create``: the same keys in the same order, and
    cruft's own ``json_dumps`` for the bytes.
    """
    try:
        from cruft._commands.utils.cruft import json_dumps

        state = {
            "template": create_locals["template_git_url"],
            "commit": create_locals["last_commit"],
            "checkout": create_locals["checkout"],
            "context": create_locals["context"],
            "directory": create_locals["directory"],
        }
        if create_locals.get("skip"):
            state["skip"] = create_locals["skip"]
        return json_dumps(state)
    except (ImportError, KeyError, TypeError, ValueError):
        return None


def cruft_run() -> dict:
    found = cruft_command()
    if found is None:
        return {}
    command, command_locals = found
    if command != "create":
        return {"command": command}
    return {"command": "create", "state": _predicted_state(command_locals)}


def _forget_other_template_modules() -> None:
    package = __name__.rpartition(".")[0]
    for name in [n for n in sys.modules if n.startswith(f"{package}.") and n != __name__]:
        del sys.modules[name]


class CruftState(Extension):
    def __init__(self, environment):
        super().__init__(environment)
        # cookiecutter builds a new environment for every hook it renders, so
        # this is computed when the post-gen hook is rendered, by which time
        # cruft create holds every value it will write.
        run = cruft_run()
        environment.globals["cruft_run"] = run
        if run:
            _forget_other_template_modules()
