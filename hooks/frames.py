"""Everything the template reads from cookiecutter's and cruft's call frames.

cookiecutter hands a Jinja extension no context: not the field being
prompted, not the output folder, not whether this is a replay.  cruft does
not say which of its commands is rendering.  The template finds out by
walking the call stack and reading the local variables of these functions,
none of which is a public interface:

- ``cookiecutter.prompt.prompt_for_config``: ``key``, the field rendered now;
- ``cookiecutter.main.cookiecutter``: ``output_dir``, ``replay`` and
  ``context`` (for a replay, the replay file's answers while the rest are
  prompted);
- the module ``cookiecutter.cli`` on the stack: run from the command line;
- a function of a ``cruft._commands.<name>`` module: the cruft command, and
  for ``create`` its locals ``template_git_url``, ``last_commit``,
  ``checkout``, ``context``, ``directory`` and ``skip``.

Nothing else in the template reads frames.  tests/test_frames.py runs every
reader under the installed cookiecutter and cruft, and fails naming the
reader and the version when a release moves what it reads.
"""

from __future__ import annotations

import sys
from types import FrameType

CRUFT_COMMANDS = "cruft._commands."
CRUFT_UTILS = "cruft._commands.utils"
CRUFT_CREATE_LOCALS = ("template_git_url", "last_commit", "checkout", "context", "directory")


def _frames() -> list[FrameType]:
    frames = []
    frame = sys._getframe(2)
    while frame is not None:
        frames.append(frame)
        frame = frame.f_back
    return frames


def prompted_field() -> str | None:
    """The answer cookiecutter is rendering now, if it is rendering one."""
    for frame in _frames():
        if frame.f_code.co_name == "prompt_for_config":
            return frame.f_locals.get("key")
    return None


def cookiecutter_call() -> dict | None:
    """The locals of the running ``cookiecutter()`` call, or None for other callers."""
    for frame in _frames():
        if frame.f_code.co_name == "cookiecutter" and "output_dir" in frame.f_locals:
            return frame.f_locals
    return None


def from_command_line() -> bool:
    return any(frame.f_globals.get("__name__") == "cookiecutter.cli" for frame in _frames())


def cruft_command() -> tuple[str, dict] | None:
    """The running cruft command's name and locals, or None outside cruft."""
    for frame in _frames():
        module = frame.f_globals.get("__name__", "")
        if module.startswith(CRUFT_COMMANDS) and not module.startswith(CRUFT_UTILS):
            return frame.f_code.co_name, dict(frame.f_locals)
    return None
