"""Check every answer before cookiecutter writes a single file.

cookiecutter runs this file as a script after rendering the one Jinja
expression below.  The same rules also run in-process while the answers are
collected (see ``hooks/guard.py``), so a bad answer is refused before any
directory exists; running them here again covers replays and other callers.

Each broken rule prints one line: the field, what is allowed, and an example
of a value that works.  Nothing else in this file is templated, so it lints
and imports like any module.
"""

from __future__ import annotations

import json
import keyword
import re
import sys
from pathlib import Path

ANSWERS_JSON = r"""{{ cookiecutter | tojson }}"""

FRAMEWORKS = ("scikit-learn", "pytorch", "tensorflow", "numpy")
PYTHON_VERSIONS = ("3.11", "3.12", "3.13")
LICENSES = ("MIT", "BSD-3-Clause", "Apache-2.0", "none")
CI_CHOICES = ("github", "gitlab", "none")
SEED_MAX = 2**32 - 1
MAX_NAME_LENGTH = 100
# The slug and the module name appear in generated Python lines (imports,
# `PROJECT = "..."`); at this length the longest still fits the project's
# own line limit of 100, so a fresh project passes its own ruff.
MAX_IDENTIFIER_LENGTH = 55
MAX_TEXT_LENGTH = 300

# Import names a project module must not take: each would hide, or be hidden
# by, a package of the same name in the project's venv (every framework's lock
# and the dev tools: pytest, pre-commit, ruff, uv), and "conftest" is what
# pytest names the tests' shared module.  The slow tier checks that every
# top-level name installed in a set-up project's venv is here.
SHADOWED_PACKAGES = frozenset(
    {
        "absl",
        "astunparse",
        "certifi",
        "cfgv",
        "charset_normalizer",
        "clang",
        "cloudpickle",
        "conftest",
        "contourpy",
        "cycler",
        "dateutil",
        "distlib",
        "filelock",
        "flatbuffers",
        "flit_core",
        "fsspec",
        "functorch",
        "gast",
        "google",
        "grpc",
        "h5py",
        "identify",
        "idna",
        "iniconfig",
        "isympy",
        "jax",
        "jinja2",
        "joblib",
        "keras",
        "kiwisolver",
        "markdown_it",
        "markupsafe",
        "matplotlib",
        "mdurl",
        "ml_dtypes",
        "mpl_toolkits",
        "mpmath",
        "namex",
        "narwhals",
        "networkx",
        "nodeenv",
        "numpy",
        "opt_einsum",
        "optree",
        "packaging",
        "pandas",
        "pasta",
        "pip",
        "pkg_resources",
        "platformdirs",
        "pluggy",
        "pre_commit",
        "prettytable",
        "py",
        "pygments",
        "pylab",
        "pyparsing",
        "pytest",
        "python_discovery",
        "requests",
        "rich",
        "ruff",
        "safetensors",
        "scipy",
        "setuptools",
        "six",
        "sklearn",
        "skops",
        "sympy",
        "tensorflow",
        "termcolor",
        "test",
        "tests",
        "threadpoolctl",
        "torch",
        "torchgen",
        "typing_extensions",
        "tzdata",
        "urllib3",
        "uv",
        "virtualenv",
        "wcwidth",
        "wheel",
        "wrapt",
        "yaml",
    }
)

# The Jinja extensions of cookiecutter.json, which check and sandbox the
# answers.  cookiecutter lets answers replace them (default_context in a
# config file, extra_context, a replay file); a test keeps this list equal to
# cookiecutter.json's.
EXTENSIONS = ("hooks.cruft_state.CruftState", "hooks.guard.AnswerGuard")

# Names Windows reserves for devices; a folder with one of them cannot be made there.
WINDOWS_RESERVED = frozenset(
    {"con", "prn", "aux", "nul"}
    | {f"com{i}" for i in range(1, 10)}
    | {f"lpt{i}" for i in range(1, 10)}
)

# Jinja's delimiters, spelled in halves because this file is itself a template.
_OPEN, _CLOSE = "{", "}"
TEMPLATE_MARKERS = (_OPEN * 2, _CLOSE * 2, _OPEN + "%", "%" + _CLOSE, _OPEN + "#", "#" + _CLOSE)
SLUG_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")
MODULE_RE = re.compile(r"[a-z][a-z0-9_]*")
EMAIL_RE = re.compile(r"[^@\s\"'<>(),;:]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# Anything but printable characters: control characters and line breaks would
# break one-line fields (package metadata, YAML, TOML), and lone surrogates
# cannot be written as UTF-8.
CONTROL_RE = re.compile(
    r"[^\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|[\u2028\u2029\ufeff]"
)


def _shown(value: object) -> str:
    """Quote a value for an error line, keeping that line one line long."""
    try:
        text = repr(value)
    except ValueError:  # Python prints no whole number of over 4300 digits
        return "a number with thousands of digits"
    return text if len(text) <= 60 else text[:57] + "...'"


def _example_identifier(value: str) -> str:
    cleaned = re.sub(r"[^a-z0-9]+", "_", value.lower()).strip("_")
    if not cleaned or not cleaned[0].isalpha():
        cleaned = "ml_" + cleaned
    return cleaned[:40].rstrip("_") or "my_project"


def _example_slug(value: str) -> str:
    cleaned = re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")
    return cleaned[:40].strip("-") or "my-project"


def check_text(field: str, value: object, *, limit: int) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return f"{field} is empty: give some text, for example {field}='My value'"
    if len(value) > limit:
        return f"{field} is {len(value)} characters long: use at most {limit}"
    if CONTROL_RE.search(value):
        return (
            f"{field} {_shown(value)} holds a line break or control character: "
            "keep it on one line (package metadata allows no line breaks)"
        )
    return None


def check_template_syntax(field: str, value: object) -> str | None:
    if isinstance(value, str) and any(marker in value for marker in TEMPLATE_MARKERS):
        return (
            f"{field} {_shown(value)} contains template syntax (double braces or a "
            "brace with % or #): write plain text, for example without the braces"
        )
    return None


def check_slug(value: object) -> str | None:
    if not isinstance(value, str) or not value:
        return (
            "project_slug is empty (the project name has no letters that map to "
            "ASCII): give one, for example project_slug=my-project"
        )
    if len(value) > MAX_IDENTIFIER_LENGTH:
        return f"project_slug is {len(value)} characters long: use at most {MAX_IDENTIFIER_LENGTH}"
    if not SLUG_RE.fullmatch(value) or "--" in value:
        return (
            f"project_slug {_shown(value)}: use lowercase ASCII letters, digits and "
            f"single hyphens, starting and ending with a letter or digit "
            f"(for example {_example_slug(value)})"
        )
    if value in WINDOWS_RESERVED:
        return (
            f"project_slug {_shown(value)} is a reserved device name on Windows: "
            f"choose another, for example {value}-project"
        )
    return None


def check_module(value: object) -> str | None:
    if not isinstance(value, str) or not value:
        return "module_name is empty: give one, for example module_name=my_project"
    if len(value) > MAX_IDENTIFIER_LENGTH:
        return f"module_name is {len(value)} characters long: use at most {MAX_IDENTIFIER_LENGTH}"
    if not MODULE_RE.fullmatch(value) or not value.isidentifier():
        return (
            f"module_name {_shown(value)}: use lowercase ASCII letters, digits and _, "
            f"starting with a letter (for example {_example_identifier(value)})"
        )
    if keyword.iskeyword(value) or keyword.issoftkeyword(value):
        return (
            f"module_name {_shown(value)} is a Python keyword: "
            f"choose another, for example {value}_model"
        )
    if value in sys.stdlib_module_names or value in SHADOWED_PACKAGES:
        return (
            f"module_name {_shown(value)} would shadow the package of the same name: "
            f"choose another, for example {value}_model"
        )
    if value in WINDOWS_RESERVED:
        return (
            f"module_name {_shown(value)} is a reserved device name on Windows: "
            f"choose another, for example {value}_model"
        )
    return None


def check_email(value: object) -> str | None:
    if not isinstance(value, str) or not EMAIL_RE.fullmatch(value):
        return (
            f"author_email {_shown(value)}: use the shape name@domain.tld, "
            "for example ada@example.org"
        )
    return None


def check_choice(field: str, value: object, allowed: tuple[str, ...]) -> str | None:
    if value not in allowed:
        return (
            f"{field} {_shown(value)}: choose one of {', '.join(allowed)} "
            f"(for example {field}={allowed[0]})"
        )
    return None


def check_printable_numbers(answers: dict) -> list[str]:
    """Refuse whole numbers too long for Python to turn into text.

    cookiecutter renders every answer as text, and fails with a traceback on
    such a number; only a Python caller's extra_context can pass one.
    """
    problems = []
    for field, value in answers.items():
        try:
            str(value)
        except ValueError:
            problems.append(
                f"{field} is a whole number with thousands of digits: give a value that fits "
                "the question (the seed runs from 0 to 4294967295)"
            )
    return problems


def check_seed(value: object) -> str | None:
    if problems := check_printable_numbers({"seed": value}):
        return problems[0]
    text = str(value)
    if isinstance(value, bool) or not re.fullmatch(r"[0-9]+", text):
        return f"seed {_shown(value)}: use a whole number from 0 to {SEED_MAX}, for example seed=42"
    if len(text) > len(str(SEED_MAX)):
        # Checked before int(): Python refuses to convert very long digit strings.
        return f"seed {_shown(text)} is too large: use a whole number from 0 to {SEED_MAX}"
    if len(text) > 1 and text.startswith("0"):
        return (
            f"seed {text} has a leading zero, which configs/train.toml (TOML) does not "
            f"allow: write it as {int(text)}"
        )
    if int(text) > SEED_MAX:
        return f"seed {text} is too large: use a whole number from 0 to {SEED_MAX}"
    return None


def check_year(value: object) -> str | None:
    if not re.fullmatch(r"(19[7-9][0-9]|2[0-9]{3})", str(value)):
        return (
            f"copyright_year {_shown(value)}: use a year of four digits from 1970 to 2999, "
            "for example copyright_year=2026"
        )
    return None


def check_init_git(value: object) -> str | None:
    if not isinstance(value, bool):
        return f"init_git {_shown(value)}: answer yes or no (true or false)"
    return None


def check_extensions(value: object) -> str | None:
    if value is not None and sorted(value) != sorted(EXTENSIONS):
        return (
            f"_extensions {_shown(value)} replaces the template's own (through default_context "
            "in a config file, extra_context or a replay file), which switches off the checks "
            "of every answer: remove _extensions from your answers"
        )
    return None


def validate(answers: dict) -> list[str]:
    """Return one error line for each answer that breaks a rule."""
    if problem := check_extensions(answers.get("_extensions")):
        # Without the template's extensions, no other check can be trusted.
        return [problem]
    problems: list[str | None] = []
    for field, value in answers.items():
        if not field.startswith("_"):
            problems.append(check_template_syntax(field, value))
    if problems := [p for p in problems if p]:
        # Rendered template syntax makes every other message misleading.
        return problems

    problems.append(check_text("project_name", answers.get("project_name"), limit=MAX_NAME_LENGTH))
    problems.append(check_text("description", answers.get("description"), limit=MAX_TEXT_LENGTH))
    problems.append(check_text("author_name", answers.get("author_name"), limit=MAX_NAME_LENGTH))
    problems.append(check_slug(answers.get("project_slug")))
    problems.append(check_module(answers.get("module_name")))
    problems.append(check_email(answers.get("author_email")))
    problems.append(check_year(answers.get("copyright_year")))
    problems.append(check_choice("framework", answers.get("framework"), FRAMEWORKS))
    problems.append(check_choice("python_version", answers.get("python_version"), PYTHON_VERSIONS))
    problems.append(check_choice("license", answers.get("license"), LICENSES))
    problems.append(check_choice("ci", answers.get("ci"), CI_CHOICES))
    problems.append(check_seed(answers.get("seed")))
    problems.append(check_init_git(answers.get("init_git")))
    return [p for p in problems if p]


def report(problems: list[str]) -> None:
    for problem in problems:
        print(f"ERROR: {problem}", file=sys.stderr)
    print(
        "Nothing was written. Fix the lines above and run cookiecutter again.",
        file=sys.stderr,
    )


# With cookiecutter -f the project folder may already hold the user's files.
# They wait here while the template is written, so that pruning the unchosen
# files (post_gen_project.py) removes only what this bake wrote; the post-gen
# hook puts them back.  The same name is in post_gen_project.py.
SET_ASIDE = ".cookiecutter-set-aside"


def set_aside_existing(project: Path) -> str | None:
    """Move what the folder holds into SET_ASIDE; return a problem, or None."""
    entries = sorted(project.iterdir())
    if not entries:
        return None
    kept = project / SET_ASIDE
    if kept.exists() or kept.is_symlink():
        return (
            f"{kept} holds files an interrupted bake set aside: move them back into "
            f"{project.name}, remove that folder, then run cookiecutter again"
        )
    kept.mkdir()
    for entry in entries:
        entry.replace(kept / entry.name)
    return None


def main() -> int:
    problems = validate(json.loads(ANSWERS_JSON))
    if not problems:
        problem = set_aside_existing(Path.cwd())
        problems = [problem] if problem else []
    if problems:
        report(problems)
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)  # cookiecutter itself says the run was interrupted
