"""Write a model's evaluation report: Markdown and PNG figures, from its manifest alone.

Usage: python -m <module>.report [--model models/<name>.json]
(or ``make report MODEL=models/<name>.json``, or the ``<project>-report`` command).

Without --model it takes the newest model in models/.  It writes
``reports/<model name>/``: ``report.md``, which GitHub and GitLab show as a
page, the learning curve, and the confusion matrix and per-class metrics of
a classifier or the predicted against true values of a regression.

The report reads nothing but the manifest, so the same manifest gives the
same bytes: the figures carry no date and no software version, their size
and resolution are fixed, and the text comes from the font that ships with
matplotlib, whatever the machine's own settings say.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from . import artifacts, cli, paths
from .errors import ProjectError, run_command
from .preprocess import headline

COMMAND = "report"
# Every figure: 640 x 480 pixels.
FIGURE_INCHES = (6.4, 4.8)
DPI = 100
# Settings that fix how a figure looks on every machine (after matplotlib's defaults).
STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
}
# Past this many classes the confusion matrix shows colours only, without counts.
MAX_LABELLED_CLASSES = 20


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=cli.prog(COMMAND), description=cli.summary(COMMAND))
    parser.add_argument("--model", type=Path, help="the model's manifest (default: the newest)")
    parser.add_argument(
        "--models-dir", type=Path, default=paths.in_project("models"), help="where models are"
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=paths.in_project("reports"),
        help="where reports go (each model gets a folder)",
    )
    return parser.parse_args(argv)


def number(value: float) -> str:
    """How every metric appears in the report: four decimals."""
    return f"{value:.4f}"


def cell(text: object) -> str:
    """Text that stays inside one Markdown table cell."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def table(header: Sequence[str], rows: Sequence[Sequence[object]], numeric_from: int = 1) -> str:
    align = ["---" if i < numeric_from else "---:" for i in range(len(header))]
    lines = [header, align, *rows]
    return "\n".join("| " + " | ".join(cell(c) for c in line) + " |" for line in lines)


def check_contents(manifest: Mapping[str, Any], path: Path) -> None:
    curve = manifest.get("learning_curve")
    metrics = manifest.get("metrics")
    classes = manifest["data"].get("classes")
    missing = not isinstance(curve, dict) or not isinstance(metrics, dict)
    if not missing and classes is not None:
        missing = "confusion_matrix" not in metrics or "per_class" not in metrics
    if not missing and classes is None:
        missing = "held_out_values" not in manifest
    if missing:
        raise ProjectError(
            f"manifest {path} holds no learning curve or per-class metrics: it was trained "
            "before reports existed; train it again (make train) to report on it"
        )


# --- figures -----------------------------------------------------------------


def labels(names: Sequence[str]) -> list[str]:
    """Class names as plain text: matplotlib would read a $ as the start of a formula."""
    return [name.replace("$", r"\$") for name in names]


def png(draw) -> bytes:
    """A figure drawn by ``draw(figure)``, as PNG bytes with no date or version in them."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with matplotlib.rc_context():
        # matplotlib's own defaults, not the machine's matplotlibrc, then ours.
        matplotlib.rcdefaults()
        matplotlib.rcParams.update(STYLE)
        figure = Figure(figsize=FIGURE_INCHES, dpi=DPI, layout="constrained")
        FigureCanvasAgg(figure)
        draw(figure)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def learning_curve(curve: Mapping[str, list]) -> bytes:
    from matplotlib.ticker import MaxNLocator

    def draw(figure) -> None:
        axes = figure.add_subplot()
        marker = "o" if len(curve["epoch"]) <= 30 else None
        axes.plot(curve["epoch"], curve["train_loss"], marker=marker, label="training")
        axes.plot(curve["epoch"], curve["held_out_loss"], marker=marker, label="held-out")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_xlabel("epoch")
        axes.set_ylabel("loss")
        axes.set_title("Loss after each epoch")
        axes.legend()

    return png(draw)


def confusion_matrix(matrix: list[list[int]], classes: list[str]) -> bytes:
    def draw(figure) -> None:
        axes = figure.add_subplot()
        image = axes.imshow(matrix, cmap="Blues")
        figure.colorbar(image, ax=axes, label="held-out rows")
        ticks = range(len(classes))
        labelled = len(classes) <= MAX_LABELLED_CLASSES
        if labelled:
            axes.set_xticks(ticks, labels(classes), rotation=90 if len(classes) > 10 else 0)
            axes.set_yticks(ticks, labels(classes))
            threshold = max(max(row) for row in matrix) / 2
            for i, row in enumerate(matrix):
                for j, count in enumerate(row):
                    if count:
                        colour = "white" if count > threshold else "black"
                        axes.text(j, i, str(count), ha="center", va="center", color=colour)
        axes.grid(False)
        axes.set_xlabel("predicted class")
        axes.set_ylabel("true class")
        axes.set_title("Confusion matrix (held-out rows)")

    return png(draw)


def per_class(metrics: Mapping[str, Mapping[str, float]]) -> bytes:
    def draw(figure) -> None:
        axes = figure.add_subplot()
        names = list(metrics)
        width = 0.27
        for offset, key in enumerate(("precision", "recall", "f1")):
            positions = [i + (offset - 1) * width for i in range(len(names))]
            axes.bar(positions, [metrics[n][key] for n in names], width, label=key)
        axes.set_xticks(range(len(names)), labels(names), rotation=90 if len(names) > 10 else 0)
        axes.set_ylim(0, 1.15)
        axes.set_xlabel("class")
        axes.set_title("Per-class metrics (held-out rows)")
        axes.legend(loc="upper center", ncols=3)

    return png(draw)


def predicted_against_true(values: Mapping[str, Any]) -> bytes:
    def draw(figure) -> None:
        axes = figure.add_subplot()
        axes.scatter(values["true"], values["predicted"], s=10, alpha=0.6)
        low = min(*values["true"], *values["predicted"])
        high = max(*values["true"], *values["predicted"])
        axes.plot([low, high], [low, high], color="grey", linestyle="--", label="perfect")
        axes.set_xlabel("true value")
        axes.set_ylabel("predicted value")
        axes.set_title("Predicted against true (held-out rows)")
        axes.legend()

    return png(draw)


# --- the Markdown page ---------------------------------------------------------


def markdown(
    name: str, manifest: Mapping[str, Any], figures: Mapping[str, str], source: str
) -> str:
    metrics = manifest["metrics"]
    data = manifest["data"]
    curve = manifest["learning_curve"]
    commit = manifest["git"]["commit"]
    overrides = manifest["overrides"] or {}
    changed = ", ".join(f"`{key}={value}`" for key, value in overrides.items())
    lines = [
        f"# {name}",
        "",
        f"A {manifest['framework']} {manifest.get('model_kind', 'model')} trained on "
        f"`{data['file']}` (sha256 `{data['sha256'][:12]}`) with seed {manifest['seed']}, "
        f"at commit `{commit[:12] if commit else 'none'}`"
        + (" with uncommitted changes" if manifest["git"]["dirty"] else "")
        + f"; config `{manifest.get('config_file', 'configs/train.toml')}`"
        + (f" with {changed}" if changed else "")
        + ".",
        "",
        f"Weights sha256 `{manifest['weights']['sha256']}`.",
        "",
        f"Every number comes from the manifest `{source}`, measured on the "
        f"{data['test_rows']} held-out rows (the {data['train_rows']} training rows are "
        "never scored here). `make report` writes the same bytes again from the same manifest.",
        "",
        "## Metrics",
        "",
        table(["metric", "value"], [(k, number(v)) for k, v in headline(metrics).items()]),
        "",
        "## Learning curve",
        "",
        f"![Training and held-out loss after each epoch]({figures['learning_curve']})",
        "",
    ]
    last = len(curve["epoch"]) - 1
    best = min(range(len(curve["epoch"])), key=lambda i: (curve["held_out_loss"][i], i))
    epochs = (
        [("lowest held-out loss", best), ("last", last)]
        if best != last
        else [("last, lowest held-out loss", last)]
    )
    lines += [
        table(
            ["epoch", "training loss", "held-out loss"],
            [
                (f"{curve['epoch'][i]} ({what})", number(curve["train_loss"][i]),
                 number(curve["held_out_loss"][i]))
                for what, i in epochs
            ],
        ),
        "",
    ]  # fmt: skip
    if data.get("classes") is not None:
        classes = data["classes"]
        matrix = metrics["confusion_matrix"]
        lines += [
            "## Confusion matrix",
            "",
            "A row for each true class, a column for each predicted class; the diagonal "
            "holds the rows classified correctly.",
            "",
            f"![Confusion matrix]({figures['confusion_matrix']})",
            "",
            table(
                ["true / predicted", *classes],
                [(name, *row) for name, row in zip(classes, matrix, strict=True)],
            ),
            "",
            "## Per-class metrics",
            "",
            f"![Precision, recall and F1 of each class]({figures['per_class']})",
            "",
            table(
                ["class", "precision", "recall", "F1", "support"],
                [
                    (
                        name,
                        number(row["precision"]),
                        number(row["recall"]),
                        number(row["f1"]),
                        row["support"],
                    )
                    for name, row in metrics["per_class"].items()
                ],
            ),
            "",
        ]
    else:
        shown = manifest["held_out_values"]["rows"]
        lines += [
            "## Predicted against true",
            "",
            f"The first {shown} held-out rows; points on the dashed line are exact.",
            "",
            f"![Predicted against true values]({figures['predicted_against_true']})",
            "",
        ]
    return "\n".join(lines)


def build(name: str, manifest: Mapping[str, Any], source: str) -> dict[str, bytes]:
    """Every file of the report, by file name; ``source`` is how it names the manifest."""
    files = {"learning_curve.png": learning_curve(manifest["learning_curve"])}
    if manifest["data"].get("classes") is not None:
        metrics = manifest["metrics"]
        files["confusion_matrix.png"] = confusion_matrix(
            metrics["confusion_matrix"], manifest["data"]["classes"]
        )
        files["per_class.png"] = per_class(metrics["per_class"])
    else:
        files["predicted_against_true.png"] = predicted_against_true(manifest["held_out_values"])
    figures = {Path(file).stem: file for file in files}
    # One final newline, as the git hook wants text files, so that it commits as written.
    text = markdown(name, manifest, figures, source).rstrip("\n") + "\n"
    files["report.md"] = text.encode("utf-8")
    return files


def report(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    paths.check_running_here()
    path = artifacts.find_manifest(args.model, args.models_dir)
    manifest = artifacts.read_manifest(path)
    check_contents(manifest, path)
    folder = args.output_dir / path.stem
    artifacts.check_writable(folder)
    # The manifest as the project names it, the same on every machine; by its
    # file name alone when it lies outside the project.
    resolved = path.resolve()
    inside = resolved.is_relative_to(paths.ROOT)
    source = resolved.relative_to(paths.ROOT).as_posix() if inside else path.name
    files = build(path.stem, manifest, source)
    artifacts.write_files_atomically({folder / name: content for name, content in files.items()})
    print(f"model {path.name}")
    for name in files:
        print(f"wrote {folder / name}")
    return 0


def main() -> int:
    return run_command(COMMAND, report, sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
