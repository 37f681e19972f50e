"""A Jinja extension that makes cookiecutter's rendering of answers safer.

cookiecutter renders every answer given with ``--no-input`` or
``extra_context`` as a Jinja template, in an environment that is not
sandboxed.  Loaded through ``_extensions`` in cookiecutter.json, this
extension does five things in cookiecutter's own process:

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

Every refusal prints one line per problem and exits with status 1.
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
from pathlib import Path

from jinja2.ext import Extension
from jinja2.sandbox import SandboxedEnvironment, safe_range

from hooks.pre_gen_project import TEMPLATE_MARKERS, check_extensions, report, validate

TEMPLATE_JSON = Path(__file__).resolve().parent.parent / "cookiecutter.json"


def _refuse(problems: list[str]) -> None:
    report(problems)
    raise SystemExit(1)


def _field_being_prompted() -> tuple[str | None, dict]:
    """Name the answer cookiecutter is rendering now, if it is rendering one.

    cookiecutter gives an extension no context, so look at the caller:
    ``prompt_for_config`` holds the current key in a local variable.
    """
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "prompt_for_config":
            return frame.f_locals.get("key"), frame.f_locals
        frame = frame.f_back
    return None, {}


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


class AnswerGuard(Extension):
    def __init__(self, environment):
        super().__init__(environment)
        self._defaults = _template_defaults()
        _sandbox(environment)
        environment.filters["check_answers"] = _check_answers
        environment.filters["quoted"] = quoted
        environment.globals["extensions_checked"] = lambda: _extensions_checked(environment)
        hook_logger = logging.getLogger("cookiecutter.hooks")
        if not any(isinstance(f, _StripHookTraceback) for f in hook_logger.filters):
            hook_logger.addFilter(_StripHookTraceback())

    def preprocess(self, source, name, filename=None):
        # Template files have names; answers are rendered from strings.
        if name is None and any(marker in source for marker in TEMPLATE_MARKERS):
            field, _ = _field_being_prompted()
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


def _output_dir_problem() -> str | None:
    """Refuse an output folder that cannot be written, before anything is made.

    cookiecutter would otherwise fail half-way with a traceback.  Its
    ``cookiecutter()`` function holds the folder in a local variable; other
    callers (cruft, for one) choose their own folder and are not checked.
    """
    frame = sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        if code.co_name == "cookiecutter" and "output_dir" in frame.f_locals:
            break
        frame = frame.f_back
    else:
        return None
    target = Path(frame.f_locals["output_dir"] or ".").resolve()
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
    loaded = [
        name for name in environment.extensions if not name.startswith("cookiecutter.extensions.")
    ]
    problem = check_extensions(loaded)
    if problem:
        _refuse([problem])
    return "yes"


def _check_answers(answers) -> str:
    problems = validate(dict(answers))
    output_problem = _output_dir_problem()
    if output_problem:
        problems.append(output_problem)
    if problems:
        _refuse(problems)
    return "yes"


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
