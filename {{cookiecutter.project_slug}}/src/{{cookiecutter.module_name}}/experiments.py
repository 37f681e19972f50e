"""List every model in models/ side by side: what changed, how it scored, whether it reproduced.

Usage: python -m <module>.experiments [--sort COLUMN] [--filter COLUMN=VALUE ...]
[--format table|markdown|csv]  (or ``make experiments ARGS="..."``).

One row per manifest.  "changes" lists the settings that differ from
configs/train.toml as it is now; "reproduced" is what ``make reproduce``
last found for that model on this machine (yes, NO, or empty: never run).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from . import artifacts, backends, cli, config, paths
from .errors import ProjectError, run_command
from .preprocess import headline

COMMAND = "experiments"
# The folder beside the manifests where `make reproduce` records each outcome.
REPRODUCED_FOLDER = "reproduced"
# The metrics shown, in this order, when any model has them.
KEY_METRICS = ("test_accuracy", "macro_f1", "rmse", "mae", "r2")
COLUMNS = ("name", "trained", "changes", *KEY_METRICS, "weights", "reproduced")
FORMATS = ("table", "markdown", "csv")


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=cli.prog(COMMAND), description=cli.summary(COMMAND))
    parser.add_argument(
        "--models-dir", type=Path, default=paths.in_project("models"), help="where models are"
    )
    parser.add_argument(
        "--sort",
        default="trained",
        metavar="COLUMN",
        help="the column to sort by, '-' first for descending (default: trained); "
        f"one of {', '.join(COLUMNS)}",
    )
    parser.add_argument(
        "--filter",
        dest="filters",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="keep the models whose column or config value KEY equals VALUE "
        "(name: contains VALUE), for example seed=1 or data.path=data/mine.csv; repeatable",
    )
    parser.add_argument("--format", choices=FORMATS, default="table", help="output format")
    return parser.parse_args(argv)


def outcome_path(manifest_path: Path) -> Path:
    return manifest_path.parent / REPRODUCED_FOLDER / manifest_path.name


def record_outcome(manifest_path: Path, manifest: Mapping[str, Any], differing: list[str]) -> None:
    """Write what reproduce found, beside the manifest; the manifest itself stays untouched."""
    from .provenance import now

    record = {
        "model": manifest_path.name,
        "weights_sha256": manifest["weights"]["sha256"],
        "reproduced": not differing,
        "differs": differing,
        "checked_at": now(),
    }
    try:
        artifacts.write_files_atomically(
            {outcome_path(manifest_path): artifacts.manifest_bytes(record)}
        )
    except ProjectError as error:
        print(f"warning: the outcome was not recorded: {error}", file=sys.stderr)


def reproduced(manifest_path: Path, manifest: Mapping[str, Any]) -> str:
    try:
        record = json.loads(outcome_path(manifest_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    if (
        not isinstance(record, dict)
        or record.get("weights_sha256") != manifest["weights"]["sha256"]
    ):
        return ""  # a record of other weights under the same name
    return "yes" if record.get("reproduced") is True else "NO"


def defaults() -> dict[str, Any] | None:
    """The config file's values now, or None when it cannot be read."""
    try:
        settings = config.schema(backends.load().HYPERPARAMETERS)
        values, _ = config.load(paths.in_project(*config.DEFAULT_CONFIG), [], settings)
    except ProjectError:
        return None
    return values


def changes(manifest: Mapping[str, Any], base: Mapping[str, Any] | None) -> str:
    if base is None:
        differing = dict(manifest["overrides"] or {})
    else:
        differing = {
            key: value for key, value in manifest["config"].items() if base.get(key) != value
        }
    return " ".join(f"{key}={as_text(value)}" for key, value in sorted(differing.items()))


def as_text(value: Any) -> str:
    """A config value as ``--set`` and ``--filter`` take it: text bare, the rest as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def row(manifest_path: Path, manifest: Mapping[str, Any], base) -> dict[str, Any]:
    metrics = headline(manifest.get("metrics") or {})
    trained = str(manifest.get("finished_at", ""))
    return {
        "name": manifest_path.stem,
        "trained": trained[:16].replace("T", " "),
        "changes": changes(manifest, base),
        **{key: metrics.get(key) for key in KEY_METRICS},
        "weights": manifest["weights"]["sha256"][:12],
        "reproduced": reproduced(manifest_path, manifest),
        # Kept for sorting and filtering, never shown.
        "_config": manifest["config"],
        "_finished_at": trained,
    }


def rows(models: Path) -> list[dict[str, Any]]:
    base = defaults()
    found = []
    for path in sorted(models.glob("*.json")):
        try:
            manifest = artifacts.read_manifest(path)
        except ProjectError as error:
            print(f"warning: left out: {error}", file=sys.stderr)
            continue
        found.append(row(path, manifest, base))
    return found


def keep(entry: Mapping[str, Any], condition: str) -> bool:
    key, _, wanted = condition.partition("=")
    if key == "name":
        return wanted in entry["name"]
    if key in COLUMNS:
        return shown(entry[key]) == wanted
    if key in entry["_config"]:
        return as_text(entry["_config"][key]) == wanted
    raise ProjectError(
        f"--filter {condition!r}: {key!r} is neither a column ({', '.join(COLUMNS)}) nor a "
        "config key; for example --filter seed=1"
    )


def sort_key(column: str):
    if column == "trained":
        column = "_finished_at"

    def key(entry: Mapping[str, Any]):
        value = entry[column]
        # Models without the value sort last, whichever the direction.
        return (value is None or value == "", value if value is not None else 0, entry["name"])

    return key


def shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def render(entries: Sequence[Mapping[str, Any]], columns: Sequence[str], form: str) -> str:
    cells = [[shown(entry[c]) for c in columns] for entry in entries]
    if form == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(cells)
        return buffer.getvalue()
    if form == "markdown":
        escaped = [[c.replace("|", "\\|") for c in line] for line in cells]
        lines = [list(columns), ["---"] * len(columns), *escaped]
        return "".join("| " + " | ".join(line) + " |\n" for line in lines)
    widths = [max(len(line[i]) for line in [list(columns), *cells]) for i in range(len(columns))]
    return "".join(
        "  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)).rstrip()
        + "\n"
        for line in [list(columns), *cells]
    )


def experiments(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    descending = args.sort.startswith("-")
    column = args.sort.lstrip("-")
    if column not in COLUMNS:
        raise ProjectError(
            f"--sort {args.sort!r}: use one of {', '.join(COLUMNS)}, with '-' first to "
            "sort descending (for example --sort=-test_accuracy)"
        )
    for condition in args.filters:
        if "=" not in condition:
            raise ProjectError(f"--filter {condition!r}: use KEY=VALUE, for example seed=1")
    entries = rows(args.models_dir)
    if not entries:
        print(f"no model in {args.models_dir}/ yet; train one: make train", file=sys.stderr)
        return 0
    for condition in args.filters:
        entries = [entry for entry in entries if keep(entry, condition)]
    entries.sort(key=sort_key(column))
    if descending:
        present = [e for e in entries if shown(e[column]) != ""]
        entries = present[::-1] + [e for e in entries if shown(e[column]) == ""]
    # A metric column appears when some model has it.
    columns = [c for c in COLUMNS if c not in KEY_METRICS or any(e[c] is not None for e in entries)]
    if not entries:
        filters = " ".join(f"--filter {condition}" for condition in args.filters)
        print(f"no model in {args.models_dir}/ matches {filters}", file=sys.stderr)
        return 0
    sys.stdout.write(render(entries, columns, args.format))
    return 0


def main() -> int:
    return run_command(COMMAND, experiments, sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
