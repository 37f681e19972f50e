"""The training configuration: configs/train.toml plus ``--set key=value`` overrides.

Every key is declared with its type and range: the shared keys here, the
model's hyperparameters in the backend.  A file or override with an unknown
key, a wrong type or a value out of range is refused with one line that
names the key and lists what is valid.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ProjectError

# Relative to the project folder (see ``paths``).
DEFAULT_CONFIG = ("configs", "train.toml")


@dataclass(frozen=True)
class Setting:
    """One numeric configuration key: its type, its inclusive range, its label in file names."""

    kind: type
    minimum: float
    maximum: float
    label: str
    help: str

    def describe(self) -> str:
        if self.kind is int:
            return f"a whole number from {self.minimum} to {self.maximum}"
        return f"a number from {self.minimum:g} to {self.maximum:g}"

    def check(self, value: Any) -> Any:
        """Return the value in its declared type, or raise ValueError saying what is allowed."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"use {self.describe()}")
        if self.kind is int and not isinstance(value, int):
            raise ValueError(f"use {self.describe()} (no decimal point)")
        try:
            value = self.kind(value)
        except OverflowError:  # a whole number too large for a float
            raise ValueError(f"out of range: use {self.describe()}") from None
        # math.isnan would raise OverflowError on a whole number too large for a float.
        if (self.kind is float and math.isnan(value)) or not self.minimum <= value <= self.maximum:
            raise ValueError(f"out of range: use {self.describe()}")
        return value

    def name_part(self, value: Any) -> str:
        """This key's part of a model's file name, for example ``lr0.01``."""
        if not self.label:
            return ""
        return f"{self.label}{value:g}" if isinstance(value, float) else f"{self.label}{value}"


@dataclass(frozen=True)
class Flag:
    """A true/false key; a file name shows it only when it is off."""

    label_when_off: str
    help: str

    def describe(self) -> str:
        return "true or false"

    def check(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise ValueError(f"use {self.describe()} (without quotes)")
        return value

    def name_part(self, value: bool) -> str:
        return "" if value else self.label_when_off


@dataclass(frozen=True)
class Choice:
    """One of a few words."""

    options: tuple[str, ...]
    help: str

    def describe(self) -> str:
        return "one of " + ", ".join(f'"{option}"' for option in self.options)

    def check(self, value: Any) -> str:
        if value not in self.options:
            raise ValueError(f"use {self.describe()}")
        return value

    def name_part(self, value: str) -> str:
        return ""


@dataclass(frozen=True)
class Text:
    """A name or a path: one line of text, empty only where that means "none"."""

    help: str
    may_be_empty: bool = False

    def describe(self) -> str:
        return "a quoted text" + (" (empty for none)" if self.may_be_empty else "")

    def check(self, value: Any) -> str:
        if not isinstance(value, str) or any(c in value for c in "\n\r\0"):
            raise ValueError(f"use {self.describe()} on one line")
        if not value.strip() and not self.may_be_empty:
            raise ValueError(f"use {self.describe()}, not an empty one")
        return value

    def name_part(self, value: str) -> str:
        return ""


@dataclass(frozen=True)
class Columns:
    """A list of column names; empty means every column not named elsewhere."""

    help: str

    def describe(self) -> str:
        return 'a list of column names, for example ["a", "b"], or [] for every other column'

    def check(self, value: Any) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ValueError(f"use {self.describe()}")
        if len(set(value)) != len(value):
            raise ValueError("a column is named twice")
        return value

    def name_part(self, value: list[str]) -> str:
        return ""


AnySetting = Setting | Flag | Choice | Text | Columns

# The keys every project has, whatever its framework.
SHARED: dict[str, AnySetting] = {
    "threads": Setting(int, 1, 256, "t", "CPU threads for BLAS, OpenMP and the framework"),
    "seed": Setting(int, 0, 2**32 - 1, "seed", "the seed of every random generator"),
    "portable": Flag(
        "native", "one CPU code path (x86-64-v3) on every x86-64 machine, so bits travel"
    ),
    # The data contract: which file, which columns, what the model predicts.
    "data.path": Text("the data file, relative to the project folder"),
    "data.label": Text("the column the model learns to predict"),
    "data.features": Columns("the columns the model reads"),
    "data.id": Text("a column that names each row in predictions", may_be_empty=True),
    "data.task": Choice(("classification", "regression"), "what the label is"),
    "data.test_fraction": Setting(float, 0.01, 0.9, "", "the share of rows held out for testing"),
    "data.missing": Choice(("refuse", "drop", "impute"), "what to do with an empty cell"),
}


def schema(hyperparameters: Mapping[str, Setting]) -> dict[str, AnySetting]:
    """All valid keys: the model's hyperparameters, then the shared keys."""
    return {**hyperparameters, **SHARED}


def flatten(document: Mapping[str, Any]) -> dict[str, Any]:
    """Tables become dotted keys: ``[data] path = ...`` is ``data.path``."""
    flat = {}
    for key, value in document.items():
        if isinstance(value, dict):
            flat.update({f"{key}.{inner}": item for inner, item in flatten(value).items()})
        else:
            flat[key] = value
    return flat


def _valid_keys(settings: Mapping[str, AnySetting]) -> str:
    return ", ".join(sorted(settings))


def _shown(value: Any) -> str:
    """A value for an error line; Python will not print a whole number of over 4300 digits."""
    try:
        text = repr(value)
    except ValueError:
        return "a number with thousands of digits"
    return text if len(text) <= 80 else text[:77] + "..."


def _parse_value(raw: str) -> Any:
    """Read an override's value as TOML would (42, 0.01, true), else as text."""
    try:
        return tomllib.loads(f"value = {raw}")["value"]
    except ValueError:  # not TOML, or a whole number of over 4300 digits
        return raw


def check(values: Mapping[str, Any], settings: Mapping[str, AnySetting], source: str) -> dict:
    """Check a complete set of values; ``source`` names where they came from."""
    unknown = sorted(set(values) - set(settings))
    if unknown:
        raise ProjectError(
            f"{source}: unknown key {unknown[0]!r}; valid keys: {_valid_keys(settings)}"
        )
    missing = [key for key in settings if key not in values]
    if missing:
        raise ProjectError(
            f"{source}: missing key {missing[0]!r} ({settings[missing[0]].help}); "
            f"valid keys: {_valid_keys(settings)}"
        )
    checked = {}
    for key, setting in settings.items():
        try:
            checked[key] = setting.check(values[key])
        except ValueError as problem:
            raise ProjectError(f"{source}: {key} = {_shown(values[key])}: {problem}") from None
    return checked


def load(
    path: Path, overrides: Sequence[str], settings: Mapping[str, AnySetting]
) -> tuple[dict, dict]:
    """Read and check the config file, then apply and check the overrides.

    Returns the full config and the overrides alone (both go into the manifest).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProjectError(
            f"config file {path} not found; run from the project folder, or pass --config PATH"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ProjectError(f"config file {path} cannot be read: {error}") from None
    try:
        values = flatten(tomllib.loads(text))
    except tomllib.TOMLDecodeError as error:
        raise ProjectError(f"config file {path} is not valid TOML: {error}") from None
    except ValueError:  # Python reads no whole number of over 4300 digits
        raise ProjectError(
            f"config file {path} holds a number with thousands of digits: "
            "use a value in the range its key allows"
        ) from None
    config = check(values, settings, f"config file {path}")

    changes: dict[str, Any] = {}
    for override in overrides:
        key, sep, raw = override.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ProjectError(
                f"--set {override!r}: use KEY=VALUE, for example --set epochs=5; "
                f"valid keys: {_valid_keys(settings)}"
            )
        if key not in settings:
            raise ProjectError(
                f"--set {override!r}: unknown key {key!r}; valid keys: {_valid_keys(settings)}"
            )
        value = _parse_value(raw.strip())
        try:
            changes[key] = settings[key].check(value)
        except ValueError as problem:
            raise ProjectError(
                f"--set {_shown(override)}: {key} = {_shown(value)}: {problem}"
            ) from None
    return {**config, **changes}, changes
