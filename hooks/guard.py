"""A Jinja extension that makes cookiecutter's rendering of answers safer.

cookiecutter renders every answer given with ``--no-input`` or
``extra_context`` as a Jinja template, in an environment that is not
sandboxed.  Loaded through ``_extensions`` in cookiecutter.json, this
extension does seven things in cookiecutter's own process:

1. It turns the environment into a Jinja sandbox before anything is compiled,
   so an answer cannot reach Python internals (``cycler.__init__.__globals__``).
2. It refuses an answer that holds template syntax before it is rendered.
3. It provides the ``check_answers`` filter.  cookiecutter.json applies it to
   the complete answers as its last rendered key, so the rules of
   ``pre_gen_project.py`` run before a directory is created, together with
   a check that the output folder can be written at all.
4. It provides the ``quoted`` filter, which writes an answer as a string
   literal that every generated format reads back as the literal text.
5. It drops the traceback cookiecutter logs when a hook fails: the hook has
   already said what is wrong.
6. It provides ``extensions_checked``, which the first key of
   cookiecutter.json calls before any answer is rendered: it refuses a run
   whose answers replaced ``_extensions``.  Where the answers dropped this
   extension, that key stops the run itself (it is plain Jinja then).
7. Under cookiecutter's command line, it watches the bake: a bake that does
   not finish (a full disk, Ctrl-C, SIGTERM) removes the project folder it
   made and says so in one line, so the next run does not find a half-made
   project in its way.

Every refusal prints one line per problem and exits with status 1.
"""

from __future__ import annotations

import atexit
import errno
import json
import logging
import os
import re
import shlex
import shutil
import signal
import sys
import tempfile
from pathlib import Path

from jinja2.ext import Extension
from jinja2.sandbox import SandboxedEnvironment, safe_range

from hooks.frames import cookiecutter_call, from_command_line, prompted_field
from hooks.pre_gen_project import (
    EXTENSIONS,
    TEMPLATE_MARKERS,
    check_extensions,
    check_printable_numbers,
    report,
    validate,
)

TEMPLATE_JSON = Path(__file__).resolve().parent.parent / "cookiecutter.json"


def _refuse(problems: list[str]) -> None:
    report(problems)
    raise SystemExit(1)


def _template_defaults() -> set[str]:
    """The raw values of cookiecutter.json: the only templated answers allowed."""
    try:
        data = json.loads(TEMPLATE_JSON.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    return {value for value in data.values() if isinstance(value, str)}


class _StripHookTraceback(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if "hook script didn't exit successfully" in str(record.msg):
            record.exc_info = None
            record.exc_text = None
        return True


# The oldest cookiecutter the fast tier bakes with (tests/test_cookiecutter_versions.py);
# 2.1 cannot read yes/no questions.
OLDEST_COOKIECUTTER = (2, 2)


def _require_cookiecutter() -> None:
    from cookiecutter import __version__

    if tuple(int(part) for part in re.findall(r"[0-9]+", __version__)[:2]) < OLDEST_COOKIECUTTER:
        oldest = ".".join(map(str, OLDEST_COOKIECUTTER))
        _refuse(
            [
                f"cookiecutter {__version__} is too old for this template: it needs "
                f"cookiecutter {oldest} or newer (pip install 'cookiecutter>={oldest}')"
            ]
        )


class AnswerGuard(Extension):
    def __init__(self, environment):
        super().__init__(environment)
        _require_cookiecutter()
        self._defaults = _template_defaults()
        _sandbox(environment)
        environment.filters["check_answers"] = _check_answers
        environment.filters["quoted"] = quoted
        environment.globals["extensions_checked"] = lambda: _extensions_checked(environment)
        # The post-gen hook removes this file when the project is complete.
        environment.globals["bake_token"] = _BAKE.get("token", "")
        hook_logger = logging.getLogger("cookiecutter.hooks")
        if not any(isinstance(f, _StripHookTraceback) for f in hook_logger.filters):
            hook_logger.addFilter(_StripHookTraceback())

    def preprocess(self, source, name, filename=None):
        # Template files have names; answers are rendered from strings.
        if name is None and any(marker in source for marker in TEMPLATE_MARKERS):
            field = prompted_field()
            if field is not None and source not in self._defaults:
                _refuse(
                    [
                        f"{field} {source[:60]!r} contains template syntax, which cookiecutter "
                        "would run as code: write plain text, without the braces"
                    ]
                )
        return source


def quoted(value) -> str:
    """A double-quoted string literal that TOML, YAML, JSON and Python all read.

    The answers are checked to hold printable characters only, so escaping
    the quote and the backslash is all it takes; non-ASCII letters stay as
    they are.
    """
    return json.dumps(str(value), ensure_ascii=False)


def _output_dir_problem(target: Path | None) -> str | None:
    """Refuse an output folder that cannot be written, before anything is made.

    cookiecutter would otherwise fail half-way with a traceback.
    """
    if target is None:
        return None
    existing = target
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        reason = error.strerror or str(error)
        return (
            f"output folder {str(target)!r} cannot be written ({reason}): "
            "choose another with --output-dir, or make it writable"
        )
    return None


def _extensions_checked(environment) -> str:
    """Refuse extensions other than the template's: answers replaced them."""
    call = cookiecutter_call()
    # All of the template's must be loaded (cookiecutter adds its own) ...
    problem = check_extensions([name for name in EXTENSIONS if name in environment.extensions])
    if not problem and call is not None:
        # ... and the answers must not name others.
        problem = check_extensions(call["context"]["cookiecutter"].get("_extensions"))
    if problem:
        _refuse([problem])
    if call is not None:
        answers = dict(call["context"]["cookiecutter"])
        if call.get("replay"):
            # A replay's answers are not rendered, so check_answers does not
            # see them: check them here, before a folder is made from them.
            _check_and_watch(answers)
        elif problems := check_printable_numbers(answers):
            # cookiecutter would fail on these as it renders them.
            _refuse(problems)
    return "yes"


def _check_answers(answers) -> str:
    _check_and_watch(dict(answers))
    return "yes"


def _check_and_watch(answers: dict) -> None:
    """Check complete answers and the place they will be written; watch the bake."""
    problems = validate(answers)
    call = cookiecutter_call()
    target = Path(call["output_dir"] or ".").resolve() if call is not None else None
    if target is not None:
        # The project's path is only safe to look at once the slug is valid.
        path_problem = None if problems else _project_path_problem(target, answers["project_slug"])
        problems += [p for p in (_output_dir_problem(target), path_problem) if p]
    if problems:
        if call is not None and not call.get("no_input") and not call.get("replay"):
            _refuse_at_the_prompt(problems, answers, call)
        _refuse(problems)
    if target is not None and from_command_line():
        _watch_bake(target / answers["project_slug"])


def _refuse_at_the_prompt(problems: list[str], answers: dict, call: dict) -> None:
    """Refuse answers typed at the prompt, and keep the good ones in a command.

    The hints are worded for the prompt (``42``, not ``seed=42``), and the
    command asks again only what was refused: the other answers become its
    defaults, so Enter accepts each.
    """
    refused = {problem.split(" ", 1)[0] for problem in problems}
    kept = [
        f"{field}={value}"
        for field, value in answers.items()
        if not field.startswith("_") and field not in refused
    ]
    output = [] if call.get("output_dir") in (None, ".") else ["--output-dir", call["output_dir"]]
    command = shlex.join(["cookiecutter", *map(str, output), str(call["template"]), *kept])
    report([re.sub(r"for example [a-z_]+=", "for example ", problem) for problem in problems])
    print(f"Your other answers are kept: run {command}", file=sys.stderr)
    raise SystemExit(1)


def _project_path_problem(target: Path, slug: str) -> str | None:
    """Refuse a project path that holds something other than a folder, or a
    folder (reused with -f) that cannot be written."""
    project = target / slug
    if project.is_symlink():
        kind = "a symbolic link"
    elif project.exists() and not project.is_dir():
        kind = "a file"
    else:
        return _unwritable_folder_problem(project, slug) if project.is_dir() else None
    return (
        f"project_slug {slug!r}: {project} is {kind}, not a folder: move it away, "
        "or choose another project_slug"
    )


def _unwritable_folder_problem(project: Path, slug: str) -> str | None:
    """Refuse a project folder that -f would reuse but cannot be written:
    cookiecutter would stop half-way with a traceback."""
    try:
        with tempfile.TemporaryFile(dir=project):
            pass
    except OSError as error:
        return (
            f"project_slug {slug!r}: the folder {project} cannot be written "
            f"({error.strerror or error}): make it writable, or choose another --output-dir"
        )
    return None


# The bake being watched: its project folder, whether this bake makes that
# folder, and a token file that the post-gen hook removes as its last step.
_BAKE: dict = {}
_DISK_FULL = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)


def _watch_bake(project: Path) -> None:
    if _BAKE:
        return
    handle, token = tempfile.mkstemp(prefix="repro-template-bake-")
    os.close(handle)
    _BAKE.update(project=project, made_here=not project.exists(), token=token, reason=None)
    atexit.register(_clean_up_unfinished_bake)
    # SIGTERM would end the process without running atexit; make it an exit.
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    previous_hook = sys.excepthook

    def disk_full_in_one_line(kind, error, trace):
        if isinstance(error, OSError) and error.errno in _DISK_FULL:
            _BAKE["reason"] = f"there is no space left to write the project ({error.strerror})"
            return
        previous_hook(kind, error, trace)

    sys.excepthook = disk_full_in_one_line


def _clean_up_unfinished_bake() -> None:
    token = Path(_BAKE["token"])
    if not token.exists():  # the post-gen hook finished
        return
    token.unlink()
    project = _BAKE["project"]
    reason = _BAKE["reason"] or "the bake was interrupted"
    if _BAKE["made_here"] and project.exists():
        shutil.rmtree(project, ignore_errors=True)
        print(
            f"ERROR: {reason}, so the half-made project {project} was removed: "
            "run cookiecutter again",
            file=sys.stderr,
        )
    elif _BAKE["reason"]:
        print(f"ERROR: {reason}: free some space and run cookiecutter again", file=sys.stderr)


def _sandbox(environment) -> None:
    """Make an existing environment behave like jinja2's SandboxedEnvironment.

    cookiecutter builds its own environment class, so mix the sandbox into
    that class.  This must happen before the first template is compiled: the
    compiler reads ``sandboxed`` to decide whether to emit the checks.
    """
    cls = type(environment)
    if not issubclass(cls, SandboxedEnvironment):
        environment.__class__ = type(
            f"Sandboxed{cls.__name__}",
            (_RefusingSandbox, cls),
            {},
        )
    environment.globals["range"] = safe_range
    environment.binop_table = SandboxedEnvironment.default_binop_table.copy()
    environment.unop_table = SandboxedEnvironment.default_unop_table.copy()


class _RefusingSandbox(SandboxedEnvironment):
    """A sandbox that stops the run with one line instead of a traceback."""

    def unsafe_undefined(self, obj, attribute):
        _refuse(
            [
                f"an answer tried to reach {type(obj).__name__}.{attribute}, which is "
                "not allowed: answers must be plain text"
            ]
        )

    def call(self, __context, __obj, *args, **kwargs):
        if not self.is_safe_callable(__obj):
            _refuse(["an answer tried to call an unsafe function: answers must be plain text"])
        return super().call(__context, __obj, *args, **kwargs)
