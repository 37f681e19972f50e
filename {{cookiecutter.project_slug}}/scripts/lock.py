"""Regenerate the locks from the .in files.

Each lock holds exact versions and sha256 hashes for every package, valid on
Linux, macOS and Windows and for every Python this project supports.  Pins
already in a lock are kept unless UPGRADE=1.  Run it with any Python 3
(`python scripts/lock.py`, or `make lock`); it needs the standard library.

Variables:
  UV=/path/to/uv          the lock tool (default: the venv's uv, pinned in
                          requirements-dev.txt; another version is refused)
  UPGRADE=1               move every pin to the newest version the .in allows
  UPGRADE_PACKAGES="a b"  re-resolve only these packages (and their hashes)
{%- if cookiecutter.framework == "pytorch" %}
  TORCH_INDEX_URL         the index that holds torch's CPU builds (default:
                          PyTorch's CPU index); empty to use only your own indexes
{%- endif %}
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PYTHON_FLOOR = "{{ cookiecutter.python_version }}"
{%- if cookiecutter.framework == "pytorch" %}
TORCH_INDEX_URL = os.environ.get("TORCH_INDEX_URL", "https://download.pytorch.org/whl/cpu")
{%- endif %}


class Failure(Exception):
    """A problem the user can fix: printed as one line, exit code 1."""


def default_uv() -> str:
    """The venv's uv, in either layout: .venv/bin/uv or .venv\\Scripts\\uv.exe."""
    windows = Path(".venv", "Scripts", "uv.exe")
    return str(windows) if windows.is_file() else str(Path(".venv", "bin", "uv"))


def lock(uv: str, version: str, name: str, options: list[str]) -> None:
    """Write name.txt whole or not at all: the work happens in a temporary file."""
    source = Path(f"{name}.in")
    if not source.is_file():
        raise Failure(f"{source} not found: it lists the packages to lock")
    target = Path(f"{name}.txt")
    handle, work_name = tempfile.mkstemp(prefix=f"{target.name}.", dir=".")
    os.close(handle)
    work = Path(work_name)
    try:
        # The current lock seeds the new one, so unchanged pins stay as they are.
        if target.is_file():
            shutil.copyfile(target, work)
        command = [uv, "pip", "compile", *options, str(source), "--output-file", str(work)]
        if subprocess.run(command, check=False).returncode != 0:
            raise Failure(f"could not lock {source}; its requirements are shown above")
        digest = hashlib.sha256(source.read_bytes()).hexdigest()
        header = (
            f"# The lock of {source}, made by `make lock` with uv {version}: every\n"
            "# package pinned with its sha256 hashes, for Linux, macOS and Windows\n"
            f"# and Python >= {PYTHON_FLOOR}.  Edit {source}, never this file.\n"
            f"# {source} sha256: {digest}\n"
        )
        work.write_bytes(header.encode() + work.read_bytes().replace(b"\r\n", b"\n"))
        work.replace(target)
    finally:
        work.unlink(missing_ok=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="lock", description="Regenerate the locks from the .in files."
    )
    parser.add_argument(
        "--upgrade",
        action="store_true",
        default=os.environ.get("UPGRADE", "0") == "1",
        help="move every pin to the newest version the .in allows (or UPGRADE=1)",
    )
    parser.add_argument(
        "--upgrade-package",
        action="append",
        metavar="NAME",
        default=os.environ.get("UPGRADE_PACKAGES", "").split(),
        help="re-resolve only this package, and its hashes (or UPGRADE_PACKAGES)",
    )
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    os.chdir(Path(__file__).resolve().parent.parent)
    uv = os.environ.get("UV") or default_uv()
    options = ["--universal", "--generate-hashes", "--python-version", PYTHON_FLOOR]
    options += ["--no-emit-index-url", "--no-emit-find-links", "--no-header", "--quiet"]
    if args.upgrade:
        options.append("--upgrade")
    for package in args.upgrade_package:
        options += ["--upgrade-package", package]
    try:
        found = shutil.which(uv)
        if found is None:
            raise Failure(
                f"uv not found at {uv}: run `make setup` first, "
                "or give one: make lock UV=/path/to/uv"
            )
        version = subprocess.run(
            [found, "--version"], capture_output=True, text=True, check=True
        ).stdout.split()[1]
        text = Path("requirements-dev.txt").read_text(encoding="utf-8")
        pinned = re.search(r"^uv==([^ ;\\\n]+)", text, re.MULTILINE)
        if pinned and version != pinned.group(1):
            raise Failure(
                f"{uv} is uv {version}, but requirements-dev.txt pins uv {pinned.group(1)}: "
                "run `make setup` to install it"
            )
        requirements = options
{%- if cookiecutter.framework == "pytorch" %}
        if TORCH_INDEX_URL:
            # That index also mirrors some of torch's dependencies, at fewer
            # versions: every index is searched for the best version, as pip does.
            requirements = [*options, "--extra-index-url", TORCH_INDEX_URL]
            requirements += ["--index-strategy", "unsafe-best-match"]
{%- endif %}
        lock(found, version, "requirements", requirements)
        lock(found, version, "requirements-dev", options)
    except Failure as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 1
    print(f"Locked: requirements.txt requirements-dev.txt (uv {version})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
