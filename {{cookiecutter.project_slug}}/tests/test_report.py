"""The results a user sees: the manifest's evaluation, reports, the experiments table."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import struct
import subprocess
import sys
import zlib

import pytest

from {{ cookiecutter.module_name }} import artifacts, progress, report
from {{ cookiecutter.module_name }}.errors import ProjectError

from conftest import MODULE, TINY, command, project_env

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG, after checking its signature and the header's checksum."""
    assert data[:8] == PNG_SIGNATURE
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    header = data[16:29]
    assert struct.unpack(">I", data[29:33])[0] == zlib.crc32(kind + header)
    assert data.endswith(b"IEND\xaeB`\x82")
    return struct.unpack(">II", header[:8])


def table_rows(markdown: str, heading: str) -> list[list[str]]:
    """The cells of the first table after a heading (header and alignment rows left out)."""
    section = markdown.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    return [[c.strip() for c in line.strip("|").split(" | ")] for line in lines[2:]]


# A classifier's manifest, as train writes it, with numbers small enough to check by hand.
CLASSES = ["cat", "dog|wolf", "eel"]
MATRIX = [[8, 1, 0], [0, 4, 5], [3, 0, 2]]


def pets_manifest() -> dict:
    # Precision: the diagonal over each column's sum; recall: over each row's sum.
    return {
        "framework": "scikit-learn",
        "model_kind": "mlp",
        "seed": 3,
        "config_file": "configs/other.toml",
        "overrides": {"epochs": 4, "lr": 0.5},
        "git": {"commit": "0123456789abcdef0123", "dirty": True},
        "weights": {"sha256": "f" * 64},
        "data": {
            "file": "data/pets.csv",
            "sha256": "abcdef0123456789" * 4,
            "train_rows": 30,
            "test_rows": 23,
            "classes": list(CLASSES),
        },
        "metrics": {
            "test_accuracy": 14 / 23,
            "macro_f1": (0.8 + 4 / 7 + 1 / 3) / 3,
            "confusion_matrix": MATRIX,
            "per_class": {
                "cat": {"precision": 8 / 11, "recall": 8 / 9, "f1": 0.8, "support": 9},
                "dog|wolf": {"precision": 0.8, "recall": 4 / 9, "f1": 4 / 7, "support": 9},
                "eel": {"precision": 2 / 7, "recall": 0.4, "f1": 1 / 3, "support": 5},
            },
        },
        "learning_curve": {
            "epoch": [1, 2, 3, 4],
            "train_loss": [1.0, 0.5, 0.25, 0.125],
            # Lowest at epochs 2 and 3: the first of them counts.
            "held_out_loss": [0.9, 0.4, 0.4, 0.6],
        },
    }


def regression_manifest() -> dict:
    manifest = pets_manifest()
    del manifest["model_kind"], manifest["config_file"]
    manifest["overrides"] = None
    manifest["git"] = {"commit": None, "dirty": False}
    manifest["data"]["classes"] = None
    manifest["metrics"] = {"rmse": 1.5, "mae": 1.25, "r2": 0.123456}
    manifest["learning_curve"]["held_out_loss"] = [0.9, 0.4, 0.4, 0.3]
    manifest["held_out_values"] = {"rows": 3, "true": [1.0, 2.5, 4.0], "predicted": [0.5, 3.0, 5.0]}
    return manifest


FIGURES = {
    "learning_curve": "learning_curve.png",
    "confusion_matrix": "confusion_matrix.png",
    "per_class": "per_class.png",
    "predicted_against_true": "predicted_against_true.png",
}


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> list:
    """Each matplotlib figure the report draws, kept once its real PNG is made."""
    figures = []
    real_png = report.png

    def png(draw) -> bytes:
        def draw_and_keep(figure) -> None:
            draw(figure)
            figures.append(figure)

        return real_png(draw_and_keep)

    monkeypatch.setattr(report, "png", png)
    return figures


def test_table_right_aligns_columns_from_numeric_from_and_keeps_each_cell_in_its_column():
    assert report.table(["a", "b", "c"], [("x|y", 1, "p\\q\nr")]) == (
        "| a | b | c |\n| --- | ---: | ---: |\n| x\\|y | 1 | p\\\\q r |"
    )
    assert report.table(["a", "b", "c"], [("x", 1, 2)], numeric_from=2) == (
        "| a | b | c |\n| --- | --- | ---: |\n| x | 1 | 2 |"
    )


def weights_and_source(manifest: str) -> str:
    """The page's lines on the weights and where its numbers come from (the test manifests)."""
    return (
        f"Weights sha256 `{'f' * 64}`.\n"
        "\n"
        f"Every number comes from the manifest `{manifest}`, measured on the 23 held-out "
        "rows (the 30 training rows are never scored here). `make report` writes the same "
        "bytes again from the same manifest.\n"
    )


def test_markdown_of_a_classifier_is_exactly_the_manifests_numbers_tables_and_figures():
    text = report.markdown("pets", pets_manifest(), FIGURES, "models/pets.json")
    assert text == (
        "# pets\n"
        "\n"
        "A scikit-learn mlp trained on `data/pets.csv` (sha256 `abcdef012345`) with seed 3, "
        "at commit `0123456789ab` with uncommitted changes; config `configs/other.toml` "
        "with `epochs=4`, `lr=0.5`.\n"
        "\n" + weights_and_source("models/pets.json") + "\n"
        "## Metrics\n"
        "\n"
        "| metric | value |\n"
        "| --- | ---: |\n"
        "| test_accuracy | 0.6087 |\n"
        "| macro_f1 | 0.5683 |\n"
        "\n"
        "## Learning curve\n"
        "\n"
        "![Training and held-out loss after each epoch](learning_curve.png)\n"
        "\n"
        "| epoch | training loss | held-out loss |\n"
        "| --- | ---: | ---: |\n"
        "| 2 (lowest held-out loss) | 0.5000 | 0.4000 |\n"
        "| 4 (last) | 0.1250 | 0.6000 |\n"
        "\n"
        "## Confusion matrix\n"
        "\n"
        "A row for each true class, a column for each predicted class; the diagonal holds "
        "the rows classified correctly.\n"
        "\n"
        "![Confusion matrix](confusion_matrix.png)\n"
        "\n"
        "| true / predicted | cat | dog\\|wolf | eel |\n"
        "| --- | ---: | ---: | ---: |\n"
        "| cat | 8 | 1 | 0 |\n"
        "| dog\\|wolf | 0 | 4 | 5 |\n"
        "| eel | 3 | 0 | 2 |\n"
        "\n"
        "## Per-class metrics\n"
        "\n"
        "![Precision, recall and F1 of each class](per_class.png)\n"
        "\n"
        "| class | precision | recall | F1 | support |\n"
        "| --- | ---: | ---: | ---: | ---: |\n"
        "| cat | 0.7273 | 0.8889 | 0.8000 | 9 |\n"
        "| dog\\|wolf | 0.8000 | 0.4444 | 0.5714 | 9 |\n"
        "| eel | 0.2857 | 0.4000 | 0.3333 | 5 |\n"
    )


def test_markdown_of_a_regression_without_commit_or_overrides_shows_its_scatter_and_one_epoch():
    text = report.markdown("reg", regression_manifest(), FIGURES, "reg.json")
    assert text == (
        "# reg\n"
        "\n"
        "A scikit-learn model trained on `data/pets.csv` (sha256 `abcdef012345`) with seed 3, "
        "at commit `none`; config `configs/train.toml`.\n"
        "\n" + weights_and_source("reg.json") + "\n"
        "## Metrics\n"
        "\n"
        "| metric | value |\n"
        "| --- | ---: |\n"
        "| rmse | 1.5000 |\n"
        "| mae | 1.2500 |\n"
        "| r2 | 0.1235 |\n"
        "\n"
        "## Learning curve\n"
        "\n"
        "![Training and held-out loss after each epoch](learning_curve.png)\n"
        "\n"
        "| epoch | training loss | held-out loss |\n"
        "| --- | ---: | ---: |\n"
        "| 4 (last, lowest held-out loss) | 0.1250 | 0.3000 |\n"
        "\n"
        "## Predicted against true\n"
        "\n"
        "The first 3 held-out rows; points on the dashed line are exact.\n"
        "\n"
        "![Predicted against true values](predicted_against_true.png)\n"
    )


def without(manifest: dict, *keys: str) -> dict:
    """The manifest without the nested key ``keys`` (for example "metrics", "per_class")."""
    *parents, last = keys
    inner = manifest
    for key in parents:
        inner = inner[key]
    del inner[last]
    return manifest


@pytest.mark.parametrize(
    ("manifest", "complete"),
    [
        (pets_manifest(), True),
        (regression_manifest(), True),
        (without(pets_manifest(), "learning_curve"), False),
        ({**pets_manifest(), "metrics": None}, False),
        (without(pets_manifest(), "metrics", "confusion_matrix"), False),
        (without(pets_manifest(), "metrics", "per_class"), False),
        (without(regression_manifest(), "held_out_values"), False),
        (without(regression_manifest(), "learning_curve"), False),
    ],
    ids=[
        "classifier",
        "regression",
        "no-curve",
        "no-metrics",
        "no-matrix",
        "no-per-class",
        "regression-no-values",
        "regression-no-curve",
    ],
)
def test_check_contents_passes_a_complete_manifest_and_refuses_one_lacking_any_part(
    manifest, complete, tmp_path
):
    if complete:
        report.check_contents(manifest, tmp_path / "m.json")
    else:
        with pytest.raises(ProjectError, match="holds no learning curve or per-class metrics"):
            report.check_contents(manifest, tmp_path / "m.json")


@pytest.mark.parametrize(("epochs", "marker"), [(2, "o"), (30, "o"), (31, "None")])
def test_learning_curve_plots_both_losses_with_a_marker_up_to_30_epochs_and_whole_epoch_ticks(
    drawn, epochs, marker
):
    curve = {
        "epoch": list(range(1, epochs + 1)),
        "train_loss": [1 / n for n in range(1, epochs + 1)],
        "held_out_loss": [2 / n for n in range(1, epochs + 1)],
    }
    report.learning_curve(curve)
    (figure,) = drawn
    (axes,) = figure.axes
    training, held_out = axes.get_lines()
    assert [line.get_label() for line in (training, held_out)] == ["training", "held-out"]
    assert list(training.get_xdata()) == curve["epoch"]
    assert list(training.get_ydata()) == curve["train_loss"]
    assert list(held_out.get_ydata()) == curve["held_out_loss"]
    assert training.get_marker() == held_out.get_marker() == marker
    low, high = axes.get_xlim()
    ticks = [t for t in axes.get_xticks() if low <= t <= high]
    assert ticks and all(t == int(t) for t in ticks)
    assert [t.get_text() for t in axes.get_legend().get_texts()] == ["training", "held-out"]


def test_confusion_matrix_writes_each_nonzero_count_white_above_half_the_largest(drawn):
    report.confusion_matrix(MATRIX, CLASSES)
    (figure,) = drawn
    axes = figure.axes[0]
    assert axes.images[0].get_array().tolist() == MATRIX
    written = [(*t.get_position(), t.get_text(), t.get_color()) for t in axes.texts]
    # Half the largest count is 4: 4 itself stays black; zeros are left blank.
    assert written == [
        (0, 0, "8", "white"),
        (1, 0, "1", "black"),
        (1, 1, "4", "black"),
        (2, 1, "5", "white"),
        (0, 2, "3", "black"),
        (2, 2, "2", "black"),
    ]
    assert [t.get_text() for t in axes.get_xticklabels()] == CLASSES
    assert [t.get_text() for t in axes.get_yticklabels()] == CLASSES
    assert not any(line.get_visible() for line in axes.get_xgridlines() + axes.get_ygridlines())


@pytest.mark.parametrize(("count", "rotation"), [(10, 0), (11, 90), (20, 90), (21, None)])
def test_confusion_matrix_names_and_counts_up_to_20_classes_turning_names_past_10(
    drawn, count, rotation
):
    classes = [f"k{i}" for i in range(count)]
    matrix = [[int(i == j) for j in range(count)] for i in range(count)]
    report.confusion_matrix(matrix, classes)
    axes = drawn[0].axes[0]
    names = [t.get_text() for t in axes.get_xticklabels()]
    if rotation is None:  # colours only
        assert len(axes.texts) == 0 and not set(names) & set(classes)
    else:
        assert names == classes
        assert [(t.get_text(), t.get_color()) for t in axes.texts] == [("1", "white")] * count
        assert {t.get_rotation() for t in axes.get_xticklabels()} == {rotation}
        assert {t.get_rotation() for t in axes.get_yticklabels()} == {0}


def test_per_class_draws_precision_recall_and_f1_bars_side_by_side_around_each_class(drawn):
    metrics = pets_manifest()["metrics"]["per_class"]
    report.per_class(metrics)
    (figure,) = drawn
    (axes,) = figure.axes
    bars = [(b.get_x() + b.get_width() / 2, b.get_width(), b.get_height()) for b in axes.patches]
    expected = [
        (i + shift, 0.27, metrics[name][key])
        for shift, key in ((-0.27, "precision"), (0, "recall"), (0.27, "f1"))
        for i, name in enumerate(CLASSES)
    ]
    assert bars == [pytest.approx(bar) for bar in expected]
    assert list(axes.get_xticks()) == [0, 1, 2]
    assert [t.get_text() for t in axes.get_xticklabels()] == CLASSES
    assert {t.get_rotation() for t in axes.get_xticklabels()} == {0}
    assert axes.get_ylim() == pytest.approx((0, 1.15))
    legend = axes.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["precision", "recall", "f1"]
    assert legend._ncols == 3
    # Turned upright past ten classes.
    for count in (10, 11):
        report.per_class({f"k{i}": metrics["cat"] for i in range(count)})
    turned = [{t.get_rotation() for t in f.axes[0].get_xticklabels()} for f in drawn[1:]]
    assert turned == [{0}, {90}]


def test_predicted_against_true_scatters_each_row_and_a_dashed_line_over_both_ranges(drawn):
    report.predicted_against_true(regression_manifest()["held_out_values"])
    (figure,) = drawn
    (axes,) = figure.axes
    (points,) = axes.collections
    assert points.get_offsets().tolist() == [[1.0, 0.5], [2.5, 3.0], [4.0, 5.0]]
    assert list(points.get_sizes()) == [10]
    assert points.get_alpha() == 0.6
    (line,) = axes.get_lines()
    assert list(line.get_xdata()) == list(line.get_ydata()) == [0.5, 5.0]
    assert (line.get_linestyle(), line.get_label()) == ("--", "perfect")


def test_png_is_640_by_480_in_the_projects_style_with_the_same_bytes_whatever_the_rc_settings():
    import matplotlib

    seen = []

    def draw(figure) -> None:
        figure.add_subplot().plot([1, 2], [3, 4])
        keys = ("font.family", "font.size", "axes.grid", "grid.alpha", "lines.linewidth")
        seen.append({key: matplotlib.rcParams[key] for key in keys})

    plain = report.png(draw)
    with matplotlib.rc_context({"font.size": 20, "axes.grid": False, "lines.linewidth": 7}):
        odd = report.png(draw)
        # Put back as they were afterwards.
        assert matplotlib.rcParams["font.size"] == 20
        assert matplotlib.rcParams["axes.grid"] is False
    assert odd == plain
    assert png_size(plain) == (640, 480)
    assert b"tIME" not in plain and b"Software" not in plain
    assert (
        seen[0]
        == seen[1]
        == {
            "font.family": ["DejaVu Sans"],
            "font.size": 10.0,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "lines.linewidth": 1.5,
        }
    )


def test_report_on_a_regression_manifest_outside_the_project_names_it_by_file_name(
    trained, tmp_path
):
    manifest = trained.manifest
    manifest["data"]["classes"] = None
    manifest["metrics"] = {"rmse": 1.5, "mae": 1.25, "r2": 0.5}
    manifest["held_out_values"] = regression_manifest()["held_out_values"]
    outside = tmp_path / "elsewhere" / "reg.json"
    outside.parent.mkdir()
    outside.write_bytes(artifacts.manifest_bytes(manifest))
    output = tmp_path / "out"
    done = command(
        "report", "--model", str(outside), "--output-dir", str(output), cwd=trained.folder
    )
    assert done.returncode == 0, done.stderr
    folder = output / "reg"
    assert done.stdout.splitlines() == [
        "model reg.json",
        f"wrote {folder / 'learning_curve.png'}",
        f"wrote {folder / 'predicted_against_true.png'}",
        f"wrote {folder / 'report.md'}",
    ]
    assert sorted(p.name for p in folder.iterdir()) == [
        "learning_curve.png",
        "predicted_against_true.png",
        "report.md",
    ]
    text = (folder / "report.md").read_text(encoding="utf-8")
    # As the file holds it: its metrics in the order they are written there.
    written = json.loads(outside.read_text(encoding="utf-8"))
    assert text == report.markdown("reg", written, FIGURES, "reg.json").rstrip("\n") + "\n"
    assert "the manifest `reg.json`, measured" in text
    assert png_size((folder / "predicted_against_true.png").read_bytes()) == (640, 480)
    assert not (trained.folder / "reports").exists()


def test_manifest_records_the_learning_curve_and_the_held_out_evaluation(trained, held_out):
    manifest = trained.manifest
    curve = manifest["learning_curve"]
    assert curve["epoch"] == [1, 2]
    assert all(v >= 0 for v in curve["train_loss"] + curve["held_out_loss"])
    metrics = manifest["metrics"]
    classes = manifest["data"]["classes"]
    if classes is None:
        assert {"rmse", "mae", "r2"} <= set(metrics)
        assert manifest["held_out_values"]["rows"] == len(manifest["held_out_values"]["true"])
        return
    matrix = metrics["confusion_matrix"]
    assert len(matrix) == len(classes) and all(len(row) == len(classes) for row in matrix)
    assert sum(map(sum, matrix)) == manifest["data"]["test_rows"]
    # Each column counts the rows predicted as its class, as predict writes them.
    rows = csv.DictReader(io.StringIO(held_out.output.read_text(encoding="utf-8")))
    predicted = [row["prediction"] for row in rows]
    assert [sum(line[i] for line in matrix) for i in range(len(classes))] == [
        predicted.count(name) for name in classes
    ]
    correct = sum(matrix[i][i] for i in range(len(classes)))
    assert metrics["test_accuracy"] == pytest.approx(correct / manifest["data"]["test_rows"])
    assert list(metrics["per_class"]) == classes
    for i, name in enumerate(classes):
        row = metrics["per_class"][name]
        assert row["support"] == sum(matrix[i])
        predicted = sum(line[i] for line in matrix)
        assert row["precision"] == pytest.approx(matrix[i][i] / predicted if predicted else 0)
        assert row["recall"] == pytest.approx(
            matrix[i][i] / row["support"] if row["support"] else 0
        )
    f1 = [row["f1"] for row in metrics["per_class"].values()]
    assert metrics["macro_f1"] == pytest.approx(sum(f1) / len(f1))


def test_report_writes_valid_figures_with_the_manifests_numbers_and_the_same_bytes_again(
    trained, tmp_path
):
    copy = trained.copy_to(tmp_path / "copy")
    folder = copy.folder / "reports" / copy.manifest_path.stem
    written = []
    # The newest model, then the same model named by the weights file train printed.
    for model in ([], ["--model", str(copy.weights_path)]):
        done = command("report", *model, cwd=copy.folder)
        assert done.returncode == 0, done.stderr
        written.append({p.name: p.read_bytes() for p in sorted(folder.iterdir())})
    assert written[0] == written[1]
    files = written[0]
    manifest = copy.manifest
    classes = manifest["data"]["classes"]
    figures = (
        ["confusion_matrix.png", "per_class.png"] if classes else ["predicted_against_true.png"]
    )
    assert sorted(files) == sorted(["learning_curve.png", *figures, "report.md"])
    width, height = (round(inches * report.DPI) for inches in report.FIGURE_INCHES)
    for name in files:
        if name.endswith(".png"):
            assert png_size(files[name]) == (width, height), name
            assert b"tIME" not in files[name] and b"Software" not in files[name]
    text = files["report.md"].decode("utf-8")
    assert f"the manifest `models/{copy.manifest_path.name}`" in text
    for name in files:
        assert f"]({name})" in text or name == "report.md"
    # Committed as it is: the project's own hooks (one final newline, no
    # trailing spaces) would otherwise rewrite it and refuse the commit.
    assert text.endswith("\n") and not text.endswith("\n\n")
    assert all(line == line.rstrip() for line in text.splitlines())
    shown = dict(table_rows(text, "Metrics"))
    expected = {k: v for k, v in manifest["metrics"].items() if isinstance(v, float)}
    assert shown == {k: f"{v:.4f}" for k, v in expected.items()}
    if classes:
        matrix = [[int(c) for c in row[1:]] for row in table_rows(text, "Confusion matrix")]
        assert matrix == manifest["metrics"]["confusion_matrix"]
        per_class = {row[0]: row[1:] for row in table_rows(text, "Per-class metrics")}
        for name, row in manifest["metrics"]["per_class"].items():
            assert per_class[name.replace("|", "\\|")] == [
                *(f"{row[k]:.4f}" for k in ("precision", "recall", "f1")),
                str(row["support"]),
            ]


def test_report_refuses_a_manifest_from_before_reports_in_one_line(trained, tmp_path):
    copy = trained.copy_to(tmp_path / "copy")
    manifest = copy.manifest
    del manifest["learning_curve"]
    copy.manifest_path.write_bytes(artifacts.manifest_bytes(manifest))
    done = command("report", "--model", str(copy.manifest_path), cwd=copy.folder)
    assert done.returncode == 1
    assert "holds no learning curve" in done.stderr and "make train" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (copy.folder / "reports").exists()


def test_experiments_lists_each_model_with_what_differs_and_filters_and_sorts(trained, tmp_path):
    copy = trained.copy_to(tmp_path / "copy")
    done = command("experiments", "--format", "csv", cwd=copy.folder)
    assert done.returncode == 0, done.stderr
    (row,) = csv.DictReader(io.StringIO(done.stdout))
    manifest = copy.manifest
    assert row["name"] == copy.manifest_path.stem
    assert row["changes"] == "epochs=2 hidden=8"
    assert row["weights"] == manifest["weights"]["sha256"][:12]
    assert row["reproduced"] == ""
    key = "test_accuracy" if manifest["data"]["classes"] else "rmse"
    assert row[key] == f"{manifest['metrics'][key]:.4f}"
    markdown = command("experiments", "--format", "markdown", "--sort=-trained", cwd=copy.folder)
    assert markdown.stdout.splitlines()[1].startswith("| --- |")
    none = command("experiments", "--filter", "seed=-1", cwd=copy.folder)
    assert none.returncode == 0 and none.stdout == ""
    assert none.stderr.strip() == "no model in models/ matches --filter seed=-1"
    # Into a pipe whose reader is already gone, as `| head` leaves it: no traceback.
    reader, writer = os.pipe()
    os.close(reader)
    try:
        # Buffered, as stdout into a pipe is unless PYTHONUNBUFFERED is set.
        unbuffered = {"PYTHONUNBUFFERED": ""}
        closed = command("experiments", cwd=copy.folder, env=unbuffered, stdout=writer)
    finally:
        os.close(writer)
    assert (closed.returncode, closed.stderr) == (1, "")
    wrong = command("experiments", "--sort", "colour", cwd=copy.folder)
    assert wrong.returncode == 1
    assert "--sort 'colour': use one of name, trained" in wrong.stderr


def test_predict_never_imports_matplotlib(held_out):
    imported = held_out.modules
    assert "numpy" in imported  # the list is the process's
    assert not any(name.split(".")[0] == "matplotlib" for name in imported)


def test_progress_is_plain_in_logs_and_ci():
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert progress.live(Terminal(), {}) is True
    assert progress.live(Terminal(), {"CI": "true"}) is False
    assert progress.live(Terminal(), {"TERM": "dumb"}) is False
    assert progress.live(io.StringIO(), {}) is False


def test_training_output_in_a_log_holds_no_control_character(trained):
    assert re.search(r"epoch +2/2 +loss \d\S* +held-out \d", trained.output)
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f]", trained.output)


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="a pseudo-terminal needs a POSIX system")
def test_training_on_a_terminal_redraws_one_line_with_the_time_left(workdir):
    import pty

    primary, secondary = pty.openpty()
    env = project_env(workdir, {"CI": "", "TERM": "xterm"})
    env.pop("CI")
    process = subprocess.Popen(
        [sys.executable, "-m", f"{MODULE}.train", *TINY],
        cwd=workdir,
        env=env,
        stdout=secondary,
        stderr=subprocess.PIPE,
    )
    os.close(secondary)
    output = b""
    while True:
        try:
            chunk = os.read(primary, 4096)
        except OSError:  # the terminal closed: the process is done
            break
        if not chunk:
            break
        output += chunk
    os.close(primary)
    assert process.wait(timeout=600) == 0, process.stderr.read()
    text = output.decode("utf-8")
    assert re.search(r"\repoch +1/2 \[#+-+\] loss \S+ +held-out \S+ +\S+ left\x1b\[K", text)
    assert re.search(r"\repoch +2/2 \[#{20}\] .* in all\x1b\[K\r?\n", text)
    assert "test_accuracy" in text or "rmse" in text
