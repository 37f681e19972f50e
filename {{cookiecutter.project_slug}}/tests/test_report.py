"""The results a user sees: the manifest's evaluation, reports, the experiments table."""

from __future__ import annotations

import csv
import io
import os
import re
import struct
import subprocess
import sys
import zlib

import pytest

from {{ cookiecutter.module_name }} import artifacts, progress, report

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
