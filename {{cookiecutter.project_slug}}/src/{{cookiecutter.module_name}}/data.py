"""The bundled data: verified against its checksum, read strictly, split from the seed.

A CSV has a header of 64 pixel columns, ``pixel_0`` to ``pixel_63``,
optionally followed by ``label``.  Anything else is refused with the file,
line and column of the first problem.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

from .artifacts import sha256_bytes
from .errors import ProjectError

# Relative to the project folder (see ``paths``).
DEFAULT_DATA = ("data", "digits.csv")
FEATURES = tuple(f"pixel_{i}" for i in range(64))
LABEL = "label"
CLASSES = 10
# Pixels are whole numbers from 0 to 16; the models see them scaled to 0..1.
PIXEL_MAX = 16.0
# The share of rows held out for testing, chosen by the seed.
TEST_FRACTION = 0.25


@dataclass(frozen=True)
class Table:
    """Rows of a CSV: the features as floats, the labels if the file has them."""

    features: list[list[float]]
    labels: list[int] | None
    source: str


def checksum_file(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def read_verified(path: Path) -> bytes:
    """The data file's bytes, after checking them against ``<file>.sha256``."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ProjectError(
            f"data file {path} not found; restore it with: git checkout -- {path}"
        ) from None
    except OSError as error:
        raise ProjectError(f"data file {path} cannot be read: {error.strerror or error}") from None
    recorded = checksum_file(path)
    try:
        expected = recorded.read_text(encoding="utf-8").split()[0].lower()
    except (FileNotFoundError, IndexError):
        raise ProjectError(
            f"checksum file {recorded} is missing or empty; restore it with "
            f"git checkout -- {recorded}, or record the data's checksum: "
            f"sha256sum {path.name} > {recorded.name} (in {path.parent})"
        ) from None
    actual = sha256_bytes(data)
    if actual != expected:
        raise ProjectError(
            f"data file {path} does not match its checksum in {recorded} "
            f"(sha256 {actual[:12]}..., recorded {expected[:12]}...); restore it with "
            f"git checkout -- {path}, or if you changed it on purpose, record the new "
            f"checksum: sha256sum {path.name} > {recorded.name} (in {path.parent})"
        )
    return data


def parse_csv(data: bytes, source: str, *, need_labels: bool = False) -> Table:
    """Read a digits CSV; the first problem raises ProjectError with file, line and column."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ProjectError(f"{source}: not UTF-8 text (byte {error.start})") from None
    reader = csv.reader(text.splitlines())
    header = next(reader, None)
    allowed = (list(FEATURES), [*FEATURES, LABEL])
    if header is None or not any(header):
        raise ProjectError(
            f"{source}: the file is empty; expected a header line of "
            f"pixel_0,...,pixel_63 and optionally label"
        )
    header = [name.strip() for name in header]
    if header not in allowed:
        column = next(
            (i for i, name in enumerate(header, 1) if i > len(FEATURES) + 1 or name != _name(i)),
            len(header) + 1,
        )
        expected = repr(_name(column)) if column <= len(FEATURES) + 1 else "no more columns"
        found = repr(header[column - 1]) if column <= len(header) else "nothing"
        raise ProjectError(
            f"{source}, line 1, column {column}: expected {expected}, found {found}; "
            f"the header must be pixel_0,...,pixel_63 and optionally label"
        )
    has_labels = header[-1] == LABEL
    if need_labels and not has_labels:
        raise ProjectError(f"{source}, line 1: no {LABEL!r} column, and this use needs one")

    features: list[list[float]] = []
    labels: list[int] = []
    for row in reader:
        line = reader.line_num
        if not row:
            continue
        if len(row) != len(header):
            raise ProjectError(
                f"{source}, line {line}: {len(row)} columns, but the header has {len(header)}"
            )
        values = []
        for column, cell in enumerate(row[: len(FEATURES)], 1):
            values.append(_number(cell, source, line, column))
        features.append(values)
        if has_labels:
            labels.append(_label(row[-1], source, line, len(header)))
    if not features:
        raise ProjectError(f"{source}: no data rows after the header line")
    return Table(features, labels if has_labels else None, source)


def _name(column: int) -> str:
    return FEATURES[column - 1] if column <= len(FEATURES) else LABEL


def _where(source: str, line: int, column: int) -> str:
    return f"{source}, line {line}, column {column} ({_name(column)})"


def _number(cell: str, source: str, line: int, column: int) -> float:
    try:
        value = float(cell)
    except ValueError:
        raise ProjectError(f"{_where(source, line, column)}: {cell!r} is not a number") from None
    if not math.isfinite(value):
        raise ProjectError(
            f"{_where(source, line, column)}: {cell!r} is not a finite number (no NaN or inf)"
        )
    return value


def _label(cell: str, source: str, line: int, column: int) -> int:
    try:
        value = int(cell)
    except ValueError:
        value = -1
    if not 0 <= value < CLASSES:
        raise ProjectError(
            f"{_where(source, line, column)}: {cell!r} is not a digit label from 0 to {CLASSES - 1}"
        )
    return value


def arrays(table: Table):
    """Features scaled to 0..1 as float64, and labels (or None), as numpy arrays."""
    import numpy as np

    x = np.asarray(table.features, dtype=np.float64) / PIXEL_MAX
    y = None if table.labels is None else np.asarray(table.labels, dtype=np.int64)
    return x, y


def split(n_rows: int, seed: int):
    """Row indices of the training and test parts, the same for the same seed."""
    import numpy as np

    from .seed import SPLIT_STREAM, stream

    order = np.random.default_rng(stream(seed, SPLIT_STREAM)).permutation(n_rows)
    n_test = round(n_rows * TEST_FRACTION)
    return np.sort(order[n_test:]), np.sort(order[:n_test])
