"""Get the data files that stay out of git, and accept only the recorded bytes.

Usage: python -m <module> fetch-data [FILE ...]   (or ``make fetch-data``)

A data file over 1 MB stays out of git (see add_data): its ``<file>.sha256``
is committed, and ``<file>.url`` says where the file itself lives: an
``https://`` or ``http://`` address, a ``file://`` address, or a path (a
shared drive).  This command gets every such file that is missing, and the
registered one of configs/train.toml, checks the bytes against the committed
checksum, and only then puts the file in place.  A file that is already there
with other bytes is never replaced: it may be somebody's only copy.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import os
import sys
import tempfile
import tomllib
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

from . import artifacts, cli, data, paths
from .errors import ProjectError, run_command

COMMAND = "fetch-data"
# How long one read from an address may wait, in seconds.
TIMEOUT = 60
SCHEMES = ("https://", "http://", "file://")
BLOCK = 1 << 20


def url_file(path: Path) -> Path:
    return path.with_name(path.name + ".url")


def check_address(address: str, where: str) -> str:
    """The address, stripped, or a refusal naming what is accepted."""
    address = address.strip()
    if not address:
        raise ProjectError(
            f"{where}: no address; give an https:// or http:// address, a file:// address, "
            "or a path"
        )
    if "://" in address and not address.lower().startswith(SCHEMES):
        scheme = address.partition("://")[0]
        raise ProjectError(
            f"{where}: {scheme}:// addresses are not fetched; give an https:// or http:// "
            "address (a public or pre-signed link), a file:// address, or a path"
        )
    return address


def read_address(path: Path, shown: str) -> str | None:
    """The address in ``<file>.url`` (its one line that is not a # comment), if any."""
    try:
        text = url_file(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        raise ProjectError(
            f"{shown}.url cannot be read as text ({getattr(error, 'strerror', None) or error}); "
            "it holds one line: the file's address"
        ) from None
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]
    if len(lines) > 1:
        raise ProjectError(
            f"{shown}.url holds {len(lines)} addresses; keep the one to fetch from "
            "(lines starting with # are comments)"
        )
    return check_address(lines[0] if lines else "", f"{shown}.url")


def wanted(files: Sequence[Path]) -> list[Path]:
    """The files named, or the registered data file and every file with a .url in data/."""
    if files:
        return [file.absolute() for file in files]
    config = paths.ROOT / "configs" / "train.toml"
    try:
        registered = tomllib.loads(config.read_text(encoding="utf-8"))["data"]["path"]
    except (OSError, ValueError) as error:  # ValueError: not TOML, or not text
        problem = f"cannot be read ({getattr(error, 'strerror', None) or error})"
    except (KeyError, TypeError):
        problem = "names no data file ([data] path)"
    else:
        problem = ""
    if problem:
        raise ProjectError(
            f"configs/train.toml {problem}; restore it: git checkout -- configs/train.toml, "
            "or name the files: fetch-data FILE ..."
        )
    found = {paths.ROOT / str(registered)}
    for record in paths.ROOT.joinpath("data").rglob("*.url"):
        found.add(record.with_name(record.name.removesuffix(".url")))
    return sorted(found)


def recorded_sha256(path: Path, shown: str) -> str:
    checksum = data.checksum_file(path)
    try:
        return checksum.read_text(encoding="utf-8").split()[0].lower()
    except (OSError, ValueError, IndexError):
        raise ProjectError(
            f"{shown}: no checksum in {shown}.sha256, so nothing could tell its bytes from "
            f"others'; restore it (git checkout -- {shown}.sha256), or register the file: "
            f"make add-data FILE={shown}"
        ) from None


def reading(address: str, shown: str) -> Iterator[bytes]:
    """The bytes at ``address`` (a URL, or a path on this machine), block by block."""
    try:
        if address.lower().startswith(SCHEMES):
            source = urllib.request.urlopen(address, timeout=TIMEOUT)
        else:
            local = Path(address).expanduser()
            source = (local if local.is_absolute() else paths.ROOT / local).open("rb")
        with source:
            while block := source.read(BLOCK):
                yield block
    except (OSError, ValueError, http.client.HTTPException) as error:
        if isinstance(error, urllib.error.HTTPError):
            reason = str(error)
        else:
            reason = getattr(error, "reason", None) or getattr(error, "strerror", None) or error
        raise ProjectError(
            f"cannot fetch {shown} from {address}: {reason}; check the address in "
            f"{shown}.url, or copy the file into place as data/README.md says"
        ) from None


def download(address: str, path: Path, expected: str, shown: str) -> int:
    """Copy the bytes at ``address`` beside ``path``; rename them into place if they match."""
    digest = hashlib.sha256()
    size = 0
    temporary = None
    try:
        try:
            handle, name = tempfile.mkstemp(
                dir=path.parent, prefix=f".{path.name}.", suffix=".partial"
            )
            temporary = Path(name)
            with os.fdopen(handle, "wb") as sink:
                for block in reading(address, shown):
                    digest.update(block)
                    size += len(block)
                    sink.write(block)
                sink.flush()
                os.fsync(sink.fileno())
        except OSError as error:
            raise ProjectError(
                f"cannot write {shown}: {error.strerror or error}; check that "
                f"{path.parent.name or '.'} is a writable folder with free space"
            ) from None
        found = digest.hexdigest()
        if found != expected:
            raise ProjectError(
                f"{address} holds other data than {shown} (sha256 {found[:12]}..., recorded "
                f"{expected[:12]}... in {shown}.sha256); nothing was written. Fix the "
                f"address in {shown}.url, or if the data changed on purpose, get the new "
                f"file and record it: make add-data FILE={shown}"
            )
        # mkstemp makes the file private; give it the permissions of a normal new file.
        umask = os.umask(0)
        os.umask(umask)
        temporary.chmod(0o666 & ~umask)
        temporary.replace(path)
    finally:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
    return size


def fetch(path: Path) -> str:
    """Get one file in place, or say that it is there; raise what stands in the way."""
    shown = paths.relative(path, "data file")
    expected = recorded_sha256(path, shown)
    if path.exists():
        try:
            found = artifacts.sha256_file(path)
        except OSError as error:
            raise ProjectError(
                f"{shown} is there but cannot be read ({error.strerror or error}); "
                "fetch-data never replaces it: move it aside and run it again"
            ) from None
        if found == expected:
            return f"{shown}: present, sha256 matches {shown}.sha256"
        raise ProjectError(
            f"{shown} is there with other bytes (sha256 {found[:12]}..., recorded "
            f"{expected[:12]}...); fetch-data never replaces a file: move it aside and run "
            f"it again, or if you changed it on purpose, record it: make add-data FILE={shown}"
        )
    address = read_address(path, shown)
    if address is None:
        raise ProjectError(
            f"{shown} is missing, and no {shown}.url says where it lives: copy it into "
            f"place as data/README.md says, or write its address (https://..., file://... "
            f"or a path) in {shown}.url and commit that file"
        )
    size = download(address, path, expected, shown)
    return f"fetched {shown} from {address}: {size} bytes, sha256 matches {shown}.sha256"


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=cli.prog(COMMAND), description=cli.summary(COMMAND))
    parser.add_argument(
        "files",
        nargs="*",
        type=Path,
        metavar="FILE",
        help="data files to get (default: the registered one and each with a .url in data/)",
    )
    return parser.parse_args(argv)


def fetch_all(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    paths.check_running_here()
    failed = 0
    for path in wanted(args.files):
        try:
            print(fetch(path))
        except ProjectError as error:
            print(f"{COMMAND}: error: {error}", file=sys.stderr)
            failed += 1
    return int(failed > 0)


def main() -> int:
    return run_command(COMMAND, fetch_all, sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
