"""Register a dataset: record its checksum, write the [data] table, say what to commit.

Usage: python -m <module>.add_data FILE --label COLUMN [--task T] [--id COLUMN]
       [--features A,B,...] [--missing POLICY] [--url ADDRESS]
(or ``make add-data FILE=path LABEL=column``).  Without --label, for the
file already registered, it records the file's new checksum only.

A file outside data/ is copied there first.  A file over 1 MB, the limit of
the commit hook, stays out of git: it is added to .gitignore and only its
checksum is committed.  ``--url`` records where the file lives, in
``<file>.url``, so that ``fetch-data`` can get it on another machine (CI too).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path

from . import artifacts, cli, config, data, fetch_data, paths
from .errors import ProjectError, run_command

COMMAND = "add-data"
# Files above this size are refused by the commit hook (check-added-large-files).
GIT_LIMIT = 1024 * 1024
CONFIG = ("configs", "train.toml")
# Where a label becomes a number to predict rather than a class.
MANY_VALUES = 20


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=cli.prog(COMMAND), description=cli.summary(COMMAND))
    parser.add_argument("file", type=Path, help="the CSV file")
    parser.add_argument(
        "--label",
        help="the column to predict (leave out to record a registered file's new checksum)",
    )
    parser.add_argument("--task", choices=("classification", "regression"), help="default: guessed")
    parser.add_argument("--id", default="", help="a column that names each row")
    parser.add_argument("--features", default="", help="comma-separated columns (default: all)")
    parser.add_argument(
        "--missing", choices=("refuse", "drop", "impute"), default="refuse", help="empty cells"
    )
    parser.add_argument(
        "--url",
        metavar="ADDRESS",
        help="where the file lives (https://..., file://... or a path), for fetch-data",
    )
    return parser.parse_args(argv)


def target_of(source: Path) -> Path:
    """Where the file lives in the project: where it is, or data/ for a file from elsewhere."""
    if not source.is_file():
        raise ProjectError(f"{source} is not a file; give the path of a CSV file")
    try:
        paths.relative(source, "data file")
        return source
    except ProjectError:
        return paths.ROOT / "data" / source.name


def place(source: Path, target: Path) -> None:
    """Copy a file from elsewhere into data/, once it has been read and checked."""
    if target == source:
        return
    if target.exists() and artifacts.sha256_file(target) != artifacts.sha256_file(source):
        raise ProjectError(
            f"data/{source.name} exists and holds other data; rename {source} and try again"
        )
    shutil.copyfile(source, target)
    print(f"copied {source} to data/{source.name}")


def guess_task(labels) -> str:
    """Regression when every label is a number and there are many values, else classes."""
    values = [label for label in labels.tolist() if label]
    if values and all(data.NUMBER.fullmatch(value) for value in values):
        numbers = {float(value) for value in values}
        if len(numbers) > MANY_VALUES or any(not n.is_integer() for n in numbers):
            return "regression"
    return "classification"


# A value as TOML writes it on the right of ``key =``: a quoted string (which
# may hold "#"), an array over any number of lines, or a bare word or number.
VALUE = r"""(?:"(?:[^"\\\n]|\\.)*"|'[^'\n]*'|\[[^\]]*\]|[^#\n]*?)"""


def table_text(path: Path, values: dict[str, object]) -> bytes:
    """The config with each key of its [data] table set, its comments and layout kept."""
    text = path.read_text(encoding="utf-8")
    start = re.search(r"^\[data\][ \t]*(#.*)?$", text, re.M)
    if start is None:
        text = text.rstrip("\n") + "\n\n[data]\n"
        start = re.search(r"^\[data\]$", text, re.M)
    end = re.search(r"^\[", text[start.end() :], re.M)
    head, table = text[: start.end()], text[start.end() :]
    tail = ""
    if end is not None:
        table, tail = table[: end.start()], table[end.start() :]
    for key, value in values.items():
        rendered = json.dumps(value, ensure_ascii=False)
        line = re.compile(rf"^({re.escape(key)}[ \t]*=[ \t]*)({VALUE})([ \t]*#.*)?$", re.M)
        if line.search(table):
            table = line.sub(
                lambda m, new=rendered: f"{m.group(1)}{new}{m.group(3) or ''}", table, count=1
            )
        else:
            table = table.rstrip("\n") + f"\n{key} = {rendered}\n"
    written = head + table + tail
    try:
        wrote = tomllib.loads(written).get("data", {})
    except tomllib.TOMLDecodeError:
        wrote = None
    if not isinstance(wrote, dict) or any(wrote.get(k) != v for k, v in values.items()):
        raise ProjectError(
            f"{'/'.join(CONFIG)}: its [data] table is laid out in a way "
            "add-data cannot edit safely; nothing was written. Set these keys in it by hand: "
            + ", ".join(f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in values.items())
        )
    return written.encode("utf-8")


def keep_out_of_git(relative: str) -> bool:
    """Add a large file to .gitignore; True if it was not there yet."""
    ignore = paths.ROOT / ".gitignore"
    entry = f"/{relative}"
    lines = ignore.read_text(encoding="utf-8").splitlines() if ignore.is_file() else []
    if entry in lines:
        return False
    note = "# Data over 1 MB stays out of git; its .sha256 is committed (data/README.md)."
    added = ([note] if note not in lines else []) + [entry]
    text = "\n".join([*lines, *added]) + "\n"
    artifacts.write_files_atomically({ignore: text.encode("utf-8")})
    return True


def add(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    paths.check_running_here()
    path = target_of(args.file)
    relative = paths.relative(path, "data file")
    address = None if args.url is None else fetch_data.check_address(args.url, "--url")
    raw = args.file.read_bytes()
    if args.label is None:
        return record_checksum_only(args.file, path, relative, raw, address)
    features = [name.strip() for name in args.features.split(",") if name.strip()]
    draft = data.Contract(
        relative, args.label, tuple(features), args.id, "classification", 0.25, "refuse"
    )
    try:
        table = data.read_table(raw, relative, draft, need_label=True)
    except ProjectError as error:
        if "is not a number" not in str(error):
            raise
        raise ProjectError(
            f'{error}; a column that names rows is an id: ARGS="--id COLUMN"; to leave '
            'columns out, list the features: ARGS="--features a,b,c"'
        ) from None
    task = args.task or guess_task(table.labels)
    values = {
        "path": relative,
        "label": args.label,
        "features": features,
        "id": args.id,
        "task": task,
        "missing": args.missing,
    }
    config_path = paths.ROOT.joinpath(*CONFIG)
    # A valid contract, or nothing is written.
    config.check(
        {f"data.{k}": v for k, v in values.items()},
        {
            k: s
            for k, s in config.SHARED.items()
            if k.startswith("data.") and k != "data.test_fraction"
        },
        str(config_path),
    )
    new_config = table_text(config_path, values)
    place(args.file, path)
    checksum = data.checksum_file(path)
    digest = artifacts.sha256_bytes(raw)
    artifacts.write_files_atomically(
        {
            checksum: f"{digest}  {path.name}\n".encode(),
            **address_file(path, address),
            config_path: new_config,
        }
    )
    empty = int(data.first_missing(table) is not None)
    print(
        f"registered {relative}: {len(table.x)} rows, {len(table.features)} features, "
        f"label {args.label!r} ({task}; change it with --task)"
    )
    print(
        f"wrote {checksum.name} (sha256 {digest[:12]}...) and the [data] table "
        "of configs/train.toml"
    )
    if empty and args.missing == "refuse":
        print(
            f"note: {data.first_missing(table)} is empty; training will refuse it: register "
            'again with ARGS="--missing drop" or "--missing impute"'
        )
    commit = ["configs/train.toml", f"{relative}.sha256"]
    if address is not None:
        commit.append(f"{relative}.url")
    if len(raw) > GIT_LIMIT:
        if keep_out_of_git(relative):
            commit.append(".gitignore")
        if address is None:
            print(
                f"{relative} is over 1 MB: it stays out of git; say where it lives, so that "
                'make fetch-data and CI can get it: ARGS="--url ADDRESS" (data/README.md)'
            )
        else:
            print(f"{relative} is over 1 MB: it stays out of git; make fetch-data gets it")
    else:
        commit.append(relative)
    print("commit it:")
    print(f"  git add {' '.join(commit)}")
    print(f'  git commit -m "Train on {path.name}"')
    return 0


def address_file(path: Path, address: str | None) -> dict[Path, bytes]:
    """The ``<file>.url`` to write, when an address was given."""
    if address is None:
        return {}
    return {fetch_data.url_file(path): f"{address}\n".encode()}


def record_checksum_only(
    source: Path, path: Path, relative: str, raw: bytes, address: str | None
) -> int:
    """A registered file changed on purpose: record its new checksum, keep the contract.

    A copy from elsewhere goes into data/ only where data/ has no other
    version of it: the one there may be the only copy."""
    cfg = tomllib.loads(paths.ROOT.joinpath(*CONFIG).read_text(encoding="utf-8"))
    if cfg.get("data", {}).get("path") != relative:
        raise ProjectError(
            f"{relative} is not the registered data file; register it with its label: "
            f"make add-data FILE={relative} LABEL=column"
        )
    other = path != source and path.is_file()
    if other and artifacts.sha256_file(path) != artifacts.sha256_bytes(raw):
        raise ProjectError(
            f"{relative} holds other data than {source}; to record a new version, "
            f"copy it over {relative} yourself, then: make add-data FILE={relative}"
        )
    place(source, path)
    digest = artifacts.sha256_bytes(raw)
    checksum = data.checksum_file(path)
    artifacts.write_files_atomically(
        {checksum: f"{digest}  {path.name}\n".encode(), **address_file(path, address)}
    )
    print(f"recorded the new checksum of {relative} (sha256 {digest[:12]}...) in {checksum.name}")
    print(f"commit it: git add {relative}.sha256" + (f" {relative}.url" if address else ""))
    return 0


def main() -> int:
    return run_command(COMMAND, add, sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
