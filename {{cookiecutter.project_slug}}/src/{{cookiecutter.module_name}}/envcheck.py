"""Compare the installed packages with the locks, and name every difference.

`make check-env` runs this module; it exits 1 when the environment has
drifted from requirements.txt and requirements-dev.txt.  Other commands,
such as inference, can warn about a changed environment with
`installed_versions` and `differences`.

It needs the standard library only: it must work in an environment that is
broken enough to need checking.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import platform
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

MODULE = "{{ cookiecutter.module_name }}"

# This project's own distribution, installed in development mode, is not a
# locked package.
PROJECT = "{{ cookiecutter.project_slug }}"
ROOT = Path(__file__).resolve().parents[2]
LOCKS = ("requirements.txt", "requirements-dev.txt")
# `python -m venv` installs these itself; they count only when a lock names them.
INSTALLER_TOOLS = frozenset({"pip", "setuptools", "wheel"})

_PIN = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*==\s*(?P<version>[^\s;]+)"
    r"\s*(?:;(?P<marker>[^#]*))?$"
)


class LockError(Exception):
    """A lock file that cannot be read; the message names the file and the fix."""


def canonical(name: str) -> str:
    """The normalized form of a distribution name (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_versions(locks: Iterable[Path] | None = None) -> dict[str, str]:
    """Canonical name -> version of every installed distribution but this project.

    Installer tools (pip, setuptools, wheel) count only when one of `locks`
    (default: the project's) names them: `python -m venv` puts its own
    versions there, which differ from one Python to the next.  So check-env,
    a model's manifest and predict's drift warning all see the same list.
    """
    paths = [ROOT / name for name in LOCKS] if locks is None else list(locks)
    try:
        tools = INSTALLER_TOOLS & locked_versions(paths).keys()
    except LockError:
        # An unreadable lock names no tool; check-env reports the lock itself.
        tools = frozenset()
    found: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        if not name or canonical(name) == canonical(PROJECT):
            continue
        if canonical(name) in INSTALLER_TOOLS - tools:
            continue
        # The first on sys.path wins, as it does for imports.
        found.setdefault(canonical(name), dist.version)
    return found


def differences(
    expected: Mapping[str, str],
    installed: Mapping[str, str],
    source: str = "the lock",
) -> list[str]:
    """One line per difference: missing, extra, or another version; sorted by name.

    source names where the expected versions come from, for example the
    lock or the manifest of a model.
    """
    want = {canonical(k): v for k, v in expected.items()}
    have = {canonical(k): v for k, v in installed.items()}
    lines = []
    for name in sorted(want.keys() | have.keys()):
        if name not in have:
            lines.append(f"missing: {name}=={want[name]} is in {source} but not installed")
        elif name not in want:
            lines.append(f"extra: {name}=={have[name]} is installed but not in {source}")
        elif want[name] != have[name]:
            lines.append(
                f"other version: {name}=={have[name]} is installed, {source} has {want[name]}"
            )
    return lines


def marker_environment() -> dict[str, str]:
    """The PEP 508 marker values of the running interpreter."""
    impl = sys.implementation
    version = f"{impl.version.major}.{impl.version.minor}.{impl.version.micro}"
    if impl.version.releaselevel != "final":
        version += impl.version.releaselevel[0] + str(impl.version.serial)
    return {
        "implementation_name": impl.name,
        "implementation_version": version,
        "os_name": os.name,
        "platform_machine": platform.machine(),
        "platform_python_implementation": platform.python_implementation(),
        "platform_release": platform.release(),
        "platform_system": platform.system(),
        "platform_version": platform.version(),
        "python_full_version": platform.python_version(),
        "python_version": ".".join(platform.python_version_tuple()[:2]),
        "sys_platform": sys.platform,
        "extra": "",
    }


_TOKEN = re.compile(r"\s*(\(|\)|'[^']*'|\"[^\"]*\"|===|==|!=|<=|>=|~=|<|>|not\s+in\b|\w+)")


def _release(text: str) -> tuple[int, ...] | None:
    match = re.match(r"^(\d+(?:\.\d+)*)", text)
    return tuple(int(part) for part in match.group(1).split(".")) if match else None


def _compare(left: str, op: str, right: str) -> bool:
    if op == "in":
        return left in right
    if op == "not in":
        return left not in right
    a, b = _release(left), _release(right)
    if a is None or b is None or op == "===":
        return {"==": left == right, "!=": left != right, "===": left == right}.get(op, False)
    if op == "~=":
        return a >= b and a[: len(b) - 1] == b[: len(b) - 1]
    width = max(len(a), len(b))
    a, b = a + (0,) * (width - len(a)), b + (0,) * (width - len(b))
    return {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def marker_holds(marker: str, env: Mapping[str, str]) -> bool:
    """Evaluate a PEP 508 environment marker such as the locks carry."""
    tokens = _TOKEN.findall(marker)
    if "".join(tokens).replace(" ", "") != re.sub(r"\s+", "", marker):
        raise ValueError(f"cannot read the marker {marker!r}")
    tokens = [re.sub(r"\s+", " ", t) for t in tokens]
    position = 0

    def take() -> str:
        nonlocal position
        if position >= len(tokens):
            raise ValueError(f"the marker {marker!r} ends too early")
        position += 1
        return tokens[position - 1]

    def value() -> str:
        token = take()
        if token[0] in "'\"":
            return token[1:-1]
        if token not in env:
            raise ValueError(f"unknown marker variable {token!r} in {marker!r}")
        return env[token]

    def atom() -> bool:
        if position < len(tokens) and tokens[position] == "(":
            take()
            result = either()
            if take() != ")":
                raise ValueError(f"unbalanced parentheses in {marker!r}")
            return result
        left = value()
        op = take()
        return _compare(left, op, value())

    def both() -> bool:
        result = atom()
        while position < len(tokens) and tokens[position] == "and":
            take()
            result = atom() and result
        return result

    def either() -> bool:
        result = both()
        while position < len(tokens) and tokens[position] == "or":
            take()
            result = both() or result
        return result

    result = either()
    if position != len(tokens):
        raise ValueError(f"unexpected {tokens[position]!r} in the marker {marker!r}")
    return result


def read_lock(path: Path, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Canonical name -> pinned version of every lock entry that applies here."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        reason = error.strerror or error
        raise LockError(f"{path}: cannot read the lock ({reason}); run `make lock`") from None
    return parse_lock(text, str(path), env)


def parse_lock(text: str, source: str, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The pins of a lock's text that apply in `env` (default: this interpreter)."""
    env = marker_environment() if env is None else env
    # Join continuation lines, keeping the number of each entry's first line.
    entries: list[tuple[int, str]] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = "" if raw.lstrip().startswith("#") else raw.split(" #", 1)[0].strip()
        if not pending:
            start = number
        pending += " " + line.rstrip("\\").strip()
        if not line.endswith("\\"):
            if pending.strip():
                entries.append((start, pending.strip()))
            pending = ""
    if pending.strip():  # a last line that ends in a backslash still holds its pin
        entries.append((start, pending.strip()))
    pins: dict[str, str] = {}
    for number, entry in entries:
        requirement = entry.split(" --hash", 1)[0].strip()
        match = _PIN.match(requirement)
        if not match:
            raise LockError(
                f"{source}:{number}: {requirement!r} is not an exact pin (name==version); "
                "regenerate the lock with `make lock`"
            )
        marker = (match.group("marker") or "").strip()
        try:
            applies = not marker or marker_holds(marker, env)
        except ValueError as error:
            raise LockError(f"{source}:{number}: {error}") from None
        if applies:
            pins[canonical(match.group("name"))] = match.group("version")
    return pins


def locked_versions(paths: list[Path]) -> dict[str, str]:
    """The pins of every lock that apply to the running interpreter."""
    pins: dict[str, str] = {}
    for path in paths:
        pins.update(read_lock(path))
    return pins


def _compared(paths: list[Path]) -> tuple[dict[str, str], dict[str, str]]:
    """The locks' pins, and what is installed less the unlocked installer tools."""
    return locked_versions(paths), installed_versions(paths)


def drift(paths: list[Path]) -> list[str]:
    """Every difference between this environment and the locks."""
    return differences(*_compared(paths))


def unlocked(paths: list[Path]) -> list[str]:
    """The installed packages that no lock names."""
    expected, installed = _compared(paths)
    return sorted(installed.keys() - expected.keys())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        # Standalone (set-up runs this file before the project is installed),
        # so the usage line is spelled here rather than asked of cli.
        prog=sys.argv[0] if sys.argv[0].endswith(" check-env") else f"python -m {MODULE} check-env",
        description="List every difference between the installed packages and the locks.",
    )
    parser.add_argument(
        "locks", nargs="*", type=Path, help=f"lock files (default: {' and '.join(LOCKS)})"
    )
    parser.add_argument(
        "--extras", action="store_true", help="print only the names of unlocked packages"
    )
    args = parser.parse_args(argv)
    paths = args.locks or [ROOT / name for name in LOCKS]
    try:
        if args.extras:
            for name in unlocked(paths):
                print(name)
            return 0
        found = drift(paths)
    except LockError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 2
    names = ", ".join(path.name for path in paths)
    if not found:
        print(f"OK: the environment matches {names}")
        return 0
    print(f"The environment differs from {names}:", file=sys.stderr)
    for line in found:
        print(f"  {line}", file=sys.stderr)
    print("Fix: run `make setup`; to start clean: rm -rf .venv && make setup", file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
