"""The data: read strictly by the contract in configs/train.toml, checked, split from the seed.

The ``[data]`` table of the config is the contract: the file, the label
column, the feature columns (every other column by default), an optional id
column, the task, the share of rows held out, and what to do with an empty
cell.  Types come from the contract, never guessed: every feature cell is a
plain decimal number (``1_6``, non-ASCII digits, ``nan`` and ``inf`` are
refused), and the first problem is reported with its file, line, column
name and value.

Reading is NumPy's own C parser on the fast path; when it objects, a
precise pass with the csv module finds the first bad cell and names it.
"""

from __future__ import annotations

import csv
import io
import math
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .artifacts import sha256_bytes
from .errors import ProjectError

# A plain decimal number: digits, a point, an exponent; ASCII only.
NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
# Words NumPy would read as numbers that a contract does not allow.
NOT_FINITE = re.compile(rb"(?:^|,)[ \t]*[+-]?(?:nan|inf(?:inity)?)[ \t]*(?=,|$)", re.I | re.M)
INTEGER = re.compile(r"-?\d{1,18}", re.ASCII)
QUOTED = re.compile(rb'"[^"\n]*"')
BOM = b"\xef\xbb\xbf"
# How many out-of-range features predict names one by one.
MAX_FEATURE_WARNINGS = 5


@dataclass(frozen=True)
class Contract:
    """The ``[data]`` table of the config."""

    path: str
    label: str
    features: tuple[str, ...]
    id: str
    task: str
    test_fraction: float
    missing: str

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Contract:
        return cls(
            path=config["data.path"],
            label=config["data.label"],
            features=tuple(config["data.features"]),
            id=config["data.id"],
            task=config["data.task"],
            test_fraction=config["data.test_fraction"],
            missing=config["data.missing"],
        )

    @property
    def regression(self) -> bool:
        return self.task == "regression"


@dataclass(frozen=True)
class Table:
    """The rows of a data file, as the contract reads them."""

    source: str
    features: list[str]
    x: Any  # float64 array (rows, features); NaN marks an empty cell
    labels: Any  # str array, or None when the file has no label column
    ids: Any  # str array: the id column, or the line numbers
    lines: Any  # int array: each row's line in the file


def checksum_file(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def read_verified(path: Path) -> bytes:
    """The data file's bytes, after checking them against ``<file>.sha256``."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ProjectError(
            f"data file {path} not found; if git tracks it, restore it (git checkout -- {path}); "
            "if it is kept out of git, get it: make fetch-data (data/README.md)"
        ) from None
    except OSError as error:
        raise ProjectError(f"data file {path} cannot be read: {error.strerror or error}") from None
    recorded = checksum_file(path)
    try:
        expected = recorded.read_text(encoding="utf-8").split()[0].lower()
    except (FileNotFoundError, IndexError):
        raise ProjectError(
            f"checksum file {recorded} is missing or empty; restore it with "
            f"git checkout -- {recorded}, or register the data: make add-data FILE={path}"
        ) from None
    actual = sha256_bytes(data)
    if actual != expected:
        raise ProjectError(
            f"data file {path} does not match its checksum in {recorded} "
            f"(sha256 {actual[:12]}..., recorded {expected[:12]}...); restore it, or if you "
            f"changed it on purpose, record its new checksum: make add-data FILE={path}"
        )
    return data


def header_of(text: str, source: str) -> list[str]:
    first = next(csv.reader(io.StringIO(text)), None)
    if not first or not any(name.strip() for name in first):
        raise ProjectError(f"{source}: the file is empty; the first line must name the columns")
    names = [name.strip() for name in first]
    seen = set()
    for number, name in enumerate(names, 1):
        if not name:
            raise ProjectError(f"{source}, line 1, column {number}: a column has no name")
        if name in seen:
            raise ProjectError(f"{source}, line 1: the column {name!r} appears twice")
        seen.add(name)
    return names


def feature_columns(header: Sequence[str], contract: Contract) -> list[str]:
    """The contract's features, or every column but the label and the id."""
    if contract.features:
        return list(contract.features)
    return [name for name in header if name not in (contract.label, contract.id)]


def read_table(
    raw: bytes,
    source: str,
    contract: Contract,
    *,
    need_label: bool,
    features: Sequence[str] | None = None,
) -> Table:
    """Read a CSV by the contract; ``features`` fixes the columns (a model's own)."""
    if raw.startswith(BOM):
        raw = raw[len(BOM) :]
    if not raw.isascii():  # ASCII is UTF-8; anything else must decode
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ProjectError(f"{source}: not UTF-8 text (byte {error.start})") from None
    end = raw.find(b"\n")
    header = header_of(raw[: len(raw) if end < 0 else end].decode("utf-8"), source)
    wanted = list(features) if features is not None else feature_columns(header, contract)
    _check_columns(header, wanted, contract, source, need_label, features is not None)
    has_label = contract.label in header
    if not wanted:
        raise ProjectError(f"{source}: no feature column; name some in data.features")
    table = _fast(raw, header, wanted, contract, has_label, source)
    if table is None:
        table = _precise(raw.decode("utf-8"), header, wanted, contract, has_label, source)
    if len(table.x) == 0:
        raise ProjectError(f"{source}: no data rows after the header line")
    return table


def _check_columns(header, wanted, contract, source, need_label, fixed) -> None:
    fix = (
        "the model reads these columns: give the input all of them"
        if fixed
        else "name the right ones in the [data] table of configs/train.toml "
        '(or in make add-data: LABEL=, ARGS="--id ... --features ...")'
    )
    missing = [name for name in wanted if name not in header]
    if contract.id and contract.id not in header:
        missing.append(contract.id)
    if need_label and contract.label not in header:
        missing.insert(0, contract.label)
    if missing:
        raise ProjectError(
            f"{source}, line 1: no column {missing[0]!r}; the columns are "
            f"{', '.join(header[:12])}{' ...' if len(header) > 12 else ''}; {fix}"
        )
    for name in (contract.label, contract.id):
        if name and name in wanted:
            raise ProjectError(
                f"configs/train.toml: {name!r} is both a feature and the label or id; "
                "remove it from data.features"
            )


def _fast(raw: bytes, header, wanted, contract, has_label, source) -> Table | None:
    """NumPy's C parser on the bytes as they are; None when the precise pass must name a problem.

    It is taken only when cheap checks over the whole file show nothing it
    could get wrong: no blank line, a carriage return, a quoted line break,
    or a row with another number of cells; literal nan or inf (which NumPy
    would accept) are caught after parsing.
    """
    import numpy as np

    end = len(raw)
    while end and raw[end - 1] == ord("\n"):
        end -= 1
    if b"\r" in raw or raw.find(b"\n\n", 0, end) >= 0:
        return None
    lines_in_file = raw.count(b"\n", 0, end) + 1
    commas = raw.count(b",")
    if b'"' in raw:
        commas -= sum(quoted.group().count(b",") for quoted in QUOTED.finditer(raw))
    if commas != (len(header) - 1) * lines_in_file:
        return None  # a row with more or fewer cells than the header, or a quoted line break
    body = raw
    empty = any(pattern in raw for pattern in (b",,", b",\n", b"\n,")) or raw.endswith(b",")
    if empty:
        spelled = (b"nan", b"NaN", b"NAN", b"inf", b"Inf", b"INF")
        if any(word in raw for word in spelled) and NOT_FINITE.search(raw):
            return None
        # Empty cells become NaN; no NaN can come from the file itself (checked above).
        body = _fill_empty(raw)
    options = {
        "delimiter": ",",
        "skiprows": 1,
        "quotechar": '"',
        "comments": None,
        "ndmin": 2,
        "encoding": "utf-8",
    }
    strings = [contract.label] if has_label else []
    strings += [contract.id] if contract.id else []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "input contained no data": reported below
            x = np.loadtxt(
                io.BytesIO(body),
                usecols=[header.index(n) for n in wanted],
                dtype=np.float64,
                **options,
            )
            del body
            found = {}
            if strings:
                cells = np.loadtxt(
                    io.BytesIO(raw),
                    usecols=[header.index(n) for n in strings],
                    dtype=str,
                    **options,
                )
                found = {name: np.char.strip(cells[:, i]) for i, name in enumerate(strings)}
    except ValueError:
        return None
    rows = len(x)
    if rows != lines_in_file - 1 or np.isinf(x).any() or (not empty and np.isnan(x).any()):
        return None  # nan, inf or an overflow in the file: name it precisely
    lines = np.arange(2, rows + 2)
    ids = found[contract.id] if contract.id else lines.astype(str)
    return Table(source, list(wanted), x, found.get(contract.label), ids, lines)


def _fill_empty(raw: bytes) -> bytes:
    """Write ``nan`` into every empty cell, with plain byte replacements (fast)."""
    body = b"\n" + raw + b"\n"
    for _ in range(2):  # ",,," holds two empty cells; one pass fills every other one
        body = body.replace(b",,", b",nan,")
    body = body.replace(b",\n", b",nan\n").replace(b"\n,", b"\nnan,")
    return body[1:-1]


def _precise(text, header, wanted, contract, has_label, source) -> Table:
    """The csv module, cell by cell: slow, and names the first problem exactly."""
    import numpy as np

    # Blank lines at the end are no rows, as on the fast path.
    reader = csv.reader(io.StringIO(text.rstrip("\r\n")))
    next(reader)
    positions = [header.index(name) for name in wanted]
    label_at = header.index(contract.label) if has_label else None
    id_at = header.index(contract.id) if contract.id else None
    x, labels, ids, lines = [], [], [], []
    line = 1
    for row in reader:
        line_before, line = line, reader.line_num
        if not row:
            raise ProjectError(f"{source}, line {line_before + 1}: an empty line")
        if len(row) != len(header):
            raise ProjectError(
                f"{source}, line {line}: {len(row)} columns, but the header has {len(header)}"
            )
        x.append([_number(row[i], source, line, header[i]) for i in positions])
        if label_at is not None:
            labels.append(row[label_at].strip())
        if id_at is not None:
            ids.append(row[id_at].strip())
        lines.append(line)
    array = np.asarray(x, dtype=np.float64).reshape(len(x), len(wanted))
    ids_array = np.asarray(ids if id_at is not None else [str(n) for n in lines], dtype=str)
    label_array = np.asarray(labels, dtype=str) if label_at is not None else None
    return Table(source, list(wanted), array, label_array, ids_array, np.asarray(lines))


def _number(cell: str, source: str, line: int, column: str) -> float:
    value = cell.strip()
    if not value:
        return math.nan
    if not NUMBER.fullmatch(value):
        raise ProjectError(
            f"{source}, line {line}, column {column!r}: {cell!r} is not a number "
            "(write plain decimals such as 3, -0.5 or 1e-3)"
        )
    number = float(value)
    if not math.isfinite(number):
        raise ProjectError(f"{source}, line {line}, column {column!r}: {cell!r} is too large")
    return number


def first_missing(table: Table) -> str | None:
    """Where the first empty feature cell is, in words; None when there is none."""
    import numpy as np

    rows, columns = np.nonzero(np.isnan(table.x))
    if not len(rows):
        return None
    return f"{table.source}, line {table.lines[rows[0]]}, column {table.features[columns[0]]!r}"


def class_names(labels: Any) -> list[str]:
    """The classes in order: by number when every label is a whole number, else by text."""
    names = sorted(set(labels.tolist()))
    if all(INTEGER.fullmatch(name) for name in names):
        return sorted(names, key=int)
    return names


def numeric_labels(labels: Any, source: str, lines: Any, column: str) -> Any:
    """A regression target: every label a plain number."""
    import numpy as np

    values = np.empty(len(labels), dtype=np.float64)
    for i, cell in enumerate(labels.tolist()):
        if not NUMBER.fullmatch(cell.strip()):
            raise ProjectError(
                f"{source}, line {lines[i]}, column {column!r}: {cell!r} is not a number, and "
                'data.task = "regression" predicts a number; for classes, set data.task = '
                '"classification"'
            )
        values[i] = _number(cell, source, int(lines[i]), column)
    return values


def split(labels: Any, seed: int, test_fraction: float):
    """Row indices of the training and test parts, the same for the same seed.

    With class labels the split is stratified: each class keeps its share
    of the held-out rows.
    """
    import numpy as np

    from .seed import SPLIT_STREAM, stream

    rng = np.random.default_rng(stream(seed, SPLIT_STREAM))
    if labels is None or labels.dtype.kind == "f":
        order = rng.permutation(len(labels))
        n_test = round(len(order) * test_fraction)
        return np.sort(order[n_test:]), np.sort(order[:n_test])
    test = []
    for value in np.unique(labels):
        rows = np.flatnonzero(labels == value)
        rows = rows[rng.permutation(len(rows))]
        n_test = min(round(len(rows) * test_fraction), len(rows) - 1)
        test.extend(rows[:n_test].tolist())
    test_rows = np.asarray(sorted(test), dtype=np.int64)
    train_rows = np.setdiff1d(np.arange(len(labels)), test_rows)
    return train_rows, test_rows


def feature_statistics(x: Any, names: Sequence[str]) -> dict[str, dict[str, float | None]]:
    """Min, max, mean and share missing of each feature, over the training rows."""
    import numpy as np

    stats = {}
    for i, name in enumerate(names):
        column = x[:, i]
        present = column[~np.isnan(column)]
        stats[name] = {
            "min": float(present.min()) if len(present) else None,
            "max": float(present.max()) if len(present) else None,
            "mean": float(present.mean()) if len(present) else None,
            "missing": float(1 - len(present) / len(column)) if len(column) else 0.0,
        }
    return stats


def out_of_range(x: Any, names: Sequence[str], stats: Mapping[str, Mapping]) -> list[str]:
    """One line per feature whose values fall outside what the model saw in training."""
    import numpy as np

    lines = []
    for i, name in enumerate(names):
        seen = stats.get(name) or {}
        low, high = seen.get("min"), seen.get("max")
        if low is None or high is None:
            continue
        column = x[:, i]
        outside = int(((column < low) | (column > high)).sum())
        if outside:
            lines.append(
                f"{name}: {outside} value(s) outside {low:g} to {high:g}, "
                f"the range the model was trained on (from {np.nanmin(column):g} "
                f"to {np.nanmax(column):g})"
            )
    if len(lines) > MAX_FEATURE_WARNINGS:
        more = len(lines) - MAX_FEATURE_WARNINGS
        lines = [*lines[:MAX_FEATURE_WARNINGS], f"and {more} more feature(s)"]
    return lines
