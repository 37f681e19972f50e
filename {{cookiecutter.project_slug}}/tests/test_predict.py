"""Prediction: checks the model, reads input strictly, writes whole files, runs no code."""

from __future__ import annotations

import argparse
import csv
import io
import json
import pickle
import re
import struct
import zipfile
from pathlib import Path

import pytest

from {{ cookiecutter.module_name }} import artifacts, backends, data, seed

from conftest import CONTRACT, OTHER_SHELL, ROOT, command, files_in

BACKEND = backends.load()
# The contract's data, as a user's input file would hold it.
HEADER, ROW = (ROOT / CONTRACT.path).read_text(encoding="utf-8").splitlines()[:2]
COLUMNS = HEADER.split(",")
FIRST = data.feature_columns(COLUMNS, CONTRACT)[0]


def predict(model, *args: str):
    return predict_with(model, "--model", str(model.manifest_path), *args)


def predict_with(model, *args: str):
    return command("predict", *args, cwd=model.folder)


def as_line(cells: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(cells)
    return buffer.getvalue()


def with_cell(column: str, value: str) -> str:
    """ROW with one cell changed."""
    cells = next(csv.reader([ROW]))
    cells[COLUMNS.index(column)] = value
    return as_line(cells)


# An empty cell is refused only where the contract says so.
EMPTY_CELL = ["line 2", "the cell is empty"] if CONTRACT.missing == "refuse" else None


def test_predictions_equal_what_training_recorded_and_name_each_class(trained, held_out):
    done, output = held_out.done, held_out.output
    assert f"sha256 {artifacts.sha256_file(output)}" in done.stdout
    # The default input is the held-out split: the very rows the training process
    # predicted, from the weights loaded back, and recorded in the manifest.
    assert artifacts.sha256_file(output) == trained.manifest["predictions"]["sha256"]
    rows = list(csv.reader(output.read_text(encoding="utf-8").splitlines()))
    assert len(rows) - 1 == trained.manifest["data"]["test_rows"]
    match = re.search(r"(\w+) (\S+) on the (\d+) held-out rows", done.stdout)
    assert match, done.stdout
    assert int(match.group(3)) == trained.manifest["data"]["test_rows"]
    # As the report and the experiments table show it: four decimals, whatever its size.
    assert match.group(2) == f"{trained.manifest['metrics'][match.group(1)]:.4f}"
    classes = trained.manifest["data"]["classes"]
    if classes is None:
        assert rows[0] == ["id", "prediction"]
        return
    assert rows[0] == ["id", "prediction", *(f"probability_{name}" for name in classes)]
    for row in rows[1:]:
        shares = [float(cell) for cell in row[2:]]
        assert row[1] == classes[shares.index(max(shares))]
        assert sum(shares) == pytest.approx(1.0)


@pytest.mark.slow
def test_predictions_are_identical_across_processes_and_shells(trained, tmp_path):
    outputs = []
    for run, env in (("a", None), ("b", OTHER_SHELL)):
        output = tmp_path / f"{run}.csv"
        options = ("--model", str(trained.manifest_path), "--output", str(output))
        done = command("predict", *options, cwd=trained.folder, env=env)
        assert done.returncode == 0, done.stderr
        outputs.append(output.read_bytes())
    assert outputs[0] == outputs[1]
    assert artifacts.sha256_bytes(outputs[0]) == trained.manifest["predictions"]["sha256"]


@pytest.mark.slow
def test_default_model_is_the_newest_and_package_drift_is_listed(trained, tmp_path):
    model = trained.copy_to(tmp_path / "copy")
    older = model.manifest
    older["finished_at"] = "2000-01-01T00:00:00.000+00:00"
    older_path = model.manifest_path.with_name("an-older-model.json")
    older_path.write_text(json.dumps(older), encoding="utf-8")
    manifest = model.manifest
    manifest["packages"]["numpy"] = "0.0.1"
    manifest["packages"]["left-pad"] = "1.0"
    model.manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    done = command("predict", cwd=model.folder)
    assert done.returncode == 0, done.stderr
    assert model.weights_path.name in done.stdout
    assert files_in(model.folder / "predictions") == [f"{model.manifest_path.stem}.csv"]
    assert "installed packages differ" in done.stderr
    drift = r"other version: numpy==\S+ is installed, the manifest \S+ has 0\.0\.1"
    assert re.search(drift, done.stderr)
    assert "missing: left-pad==1.0 is in the manifest" in done.stderr


@pytest.mark.slow
def test_new_input_gets_predictions_by_line_and_never_replaces_earlier_ones(trained, tmp_path):
    rows = tmp_path / "rows.csv"
    rows.write_text(HEADER + "\n" + ROW + "\n", encoding="utf-8")
    done = predict(trained, "--input", str(rows))
    assert done.returncode == 0, done.stderr
    assert "held-out" not in done.stdout
    assert "holds other predictions" not in done.stdout
    first = trained.folder / "predictions" / f"{trained.manifest_path.stem}-rows.csv"
    assert first.read_text(encoding="utf-8").splitlines()[1].startswith("2,")
    rows.write_text(HEADER + "\n" + ROW + "\n" + ROW + "\n", encoding="utf-8")
    done = predict(trained, "--input", str(rows))
    assert done.returncode == 0, done.stderr
    assert "holds other predictions; kept it" in done.stdout
    second = first.with_name(first.stem + "-2.csv")
    assert len(second.read_text(encoding="utf-8").splitlines()) == 3
    assert len(first.read_text(encoding="utf-8").splitlines()) == 2


@pytest.mark.slow
def test_output_that_is_the_input_or_a_folder_is_refused(trained, tmp_path):
    rows = tmp_path / "rows.csv"
    rows.write_text(HEADER + "\n" + ROW + "\n", encoding="utf-8")
    done = predict(trained, "--input", str(rows), "--output", str(rows))
    assert done.returncode == 1
    assert "is the input file" in done.stderr
    assert rows.read_text(encoding="utf-8") == HEADER + "\n" + ROW + "\n"
    done = predict(trained, "--input", str(rows), "--output", f"{tmp_path}/out/")
    assert done.returncode == 2
    assert "is a folder; name a .csv file in it" in done.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_input_outside_what_the_model_saw_is_warned_about(trained, tmp_path):
    rows = tmp_path / "rows.csv"
    rows.write_text(HEADER + "\n" + with_cell(FIRST, "1e6") + "\n", encoding="utf-8")
    done = predict(trained, "--input", str(rows), "--output", str(tmp_path / "p.csv"))
    assert done.returncode == 0, done.stderr
    assert f"warning: {FIRST}: 1 value(s) outside" in done.stderr


def test_predict_hides_gpus_and_pins_threads_whatever_the_shell_says(trained, held_out):
    threads = str(trained.manifest["config"]["threads"])
    assert held_out.shell_threads != threads
    assert held_out.environ == {
        **dict.fromkeys(seed.GPU_VARIABLES, ""),
        **dict.fromkeys(seed.THREAD_VARIABLES, threads),
    }


def test_model_of_another_framework_is_refused(trained, tmp_path):
    model = trained.copy_to(tmp_path / "copy")
    other = "pytorch" if BACKEND.FRAMEWORK != "pytorch" else "scikit-learn"
    manifest = model.manifest
    manifest["framework"] = other
    model.manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    output = tmp_path / "out" / "p.csv"
    done = predict(model, "--output", str(output))
    assert_refused(
        done,
        f"manifest {model.manifest_path} is for a {other} model",
        f"but this project uses {BACKEND.FRAMEWORK}",
        output=output,
    )


def test_held_out_rows_of_other_data_than_the_models_are_refused(trained, tmp_path):
    # The data changed after training, and its new checksum was recorded: the
    # held-out rows would no longer be the ones the model was tested on.
    model = trained.copy_to(tmp_path / "copy")
    path = model.folder / CONTRACT.path
    path.write_text(path.read_text(encoding="utf-8") + ROW + "\n", encoding="utf-8")
    checksum = artifacts.sha256_file(path)
    data.checksum_file(path).write_text(f"{checksum}  {path.name}\n", encoding="utf-8")
    output = tmp_path / "out" / "p.csv"
    done = predict(model, "--output", str(output))
    assert_refused(
        done,
        f"data file {CONTRACT.path} is not the data that trained {model.manifest_path}",
        "--input CSV",
        output=output,
    )


@pytest.mark.parametrize("given", ["x.json", f"x{BACKEND.WEIGHTS_SUFFIX}", "x"])
def test_model_can_be_named_by_manifest_weights_or_stem(given):
    # Model names hold dots (lr0.01): only a known suffix may be replaced.
    folder = Path("models") / "mlp-lr0.01-ep2"
    args = argparse.Namespace(model=Path(f"{folder}-{given}"), models_dir=Path("models"))
    found = artifacts.find_manifest(args.model, args.models_dir, BACKEND.WEIGHTS_SUFFIX)
    assert found == Path(f"{folder}-x.json")


def test_a_file_that_is_no_model_is_refused_as_the_model(trained, tmp_path):
    done = predict_with(trained, "--model", "pyproject.toml")
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "predict: error: --model pyproject.toml: "
        "give a model's manifest (.json) or its weights file"
    ]


def assert_refused(done, *words: str, output: Path):
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    for word in words:
        assert word in done.stderr
    assert files_in(output.parent) == []


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (HEADER + "\n" + ROW + ",7\n", [f"line 2: {len(COLUMNS) + 1} columns"]),
        (HEADER + "\n" + with_cell(FIRST, "x") + "\n", [f"line 2, column {FIRST!r}", "'x'"]),
        (HEADER + "\n" + ROW + "\n" + with_cell(FIRST, "nan") + "\n", ["line 3", "'nan'"]),
        pytest.param(
            HEADER + "\n" + with_cell(FIRST, "") + "\n",
            EMPTY_CELL,
            marks=pytest.mark.skipif(EMPTY_CELL is None, reason="the contract fills empty cells"),
        ),
        (HEADER + "\n", ["no data rows"]),
        ("", ["the file is empty"]),
        (
            as_line([name + "x" if name == FIRST else name for name in COLUMNS]) + "\n" + ROW,
            [f"no column {FIRST!r}"],
        ),
    ],
    ids=[
        "columns",
        "text",
        "nan",
        "empty-cell",
        "no-rows",
        "empty",
        "header",
    ],
)
def test_bad_input_csv_is_refused_naming_file_line_and_column(trained, tmp_path, content, words):
    # Cells Python would half-accept (1_6, other scripts' digits, 1e999) are the
    # reader's own tests, in test_own_data.py; here, what predict makes of a refusal.
    bad = tmp_path / "bad.csv"
    bad.write_text(content, encoding="utf-8")
    output = tmp_path / "out" / "predictions.csv"
    done = predict(trained, "--input", str(bad), "--output", str(output))
    assert_refused(done, str(bad), *words, output=output)


def test_unwritable_output_is_refused_naming_it(trained, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    output = blocker / "predictions.csv"
    done = predict(trained, "--output", str(output))
    assert done.returncode == 1
    assert f"cannot write into {blocker}: it is not a writable folder" in done.stderr
    assert "Traceback" not in done.stderr
    assert files_in(tmp_path) == ["a-file"]


def test_tampered_weights_are_rejected(trained, tmp_path):
    model = trained.copy_to(tmp_path / "copy")
    weights = bytearray(model.weights_path.read_bytes())
    weights[len(weights) // 2] ^= 0xFF
    model.weights_path.write_bytes(bytes(weights))
    output = tmp_path / "out" / "p.csv"
    done = predict(model, "--output", str(output))
    digest = artifacts.sha256_bytes(bytes(weights))
    recorded = model.manifest["weights"]["sha256"]
    assert_refused(
        done,
        f"model file {model.weights_path} does not match its manifest (sha256 {digest[:12]}..., "
        f"manifest {recorded[:12]}...)",
        output=output,
    )


def test_weights_that_cannot_be_read_are_named(trained, tmp_path):
    model = trained.copy_to(tmp_path / "copy")
    model.weights_path.unlink()
    model.weights_path.mkdir()
    output = tmp_path / "out" / "p.csv"
    done = predict(model, "--output", str(output))
    assert_refused(done, f"model file {model.weights_path} cannot be read: ", output=output)
    assert "[Errno" not in done.stderr  # the system's words, not Python's error


def test_unreadable_input_is_named(trained, tmp_path):
    done = predict(trained, "--input", str(tmp_path / "absent.csv"))
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"predict: error: input file {tmp_path / 'absent.csv'} cannot be read: "
        "No such file or directory"
    ]


def test_missing_model_file_is_named(trained, tmp_path):
    model = trained.copy_to(tmp_path / "copy")
    model.weights_path.unlink()
    output = tmp_path / "out" / "p.csv"
    done = predict(model, "--output", str(output))
    assert_refused(done, f"model file {model.weights_path} not found", output=output)


def test_missing_manifest_is_named(trained, tmp_path):
    output = tmp_path / "out" / "p.csv"
    missing = trained.folder / "models" / "no-such-model.json"
    done = command("predict", "--model", str(missing), "--output", str(output), cwd=trained.folder)
    # The models that are there, instead of advice to train one.
    there = f"holds {trained.manifest_path.name}"
    assert_refused(done, f"manifest {missing} not found", there, output=output)


def test_missing_manifest_names_three_that_are_there_and_counts_the_rest(trained, tmp_path):
    model = trained.copy_to(tmp_path / "copy")
    output = tmp_path / "out" / "p.csv"
    for name in ("a", "b"):
        (model.folder / "models" / f"{name}.json").write_text("{}", encoding="utf-8")
    done = predict_with(model, "--model", "models/none.json", "--output", str(output))
    assert_refused(done, f"models/ holds a.json, b.json, {model.manifest_path.name}", output=output)
    assert "more" not in done.stderr
    (model.folder / "models" / "c.json").write_text("{}", encoding="utf-8")
    done = predict_with(model, "--model", "models/none.json", "--output", str(output))
    assert_refused(done, "models/ holds a.json, b.json, c.json and 1 more", output=output)


def test_manifest_that_is_not_text_is_refused(trained, tmp_path):
    model = trained.copy_to(tmp_path / "copy")
    model.manifest_path.write_bytes(b"\xff\xfe not text")
    output = tmp_path / "out" / "p.csv"
    done = predict(model, "--output", str(output))
    assert_refused(done, f"manifest {model.manifest_path} cannot be read", output=output)


def test_no_model_at_all_says_to_train_first(workdir, tmp_path):
    output = tmp_path / "out" / "p.csv"
    done = command("predict", "--output", str(output), cwd=workdir)
    assert_refused(done, "no model in models/", "make train", output=output)


@pytest.mark.parametrize(
    ("damage", "words"),
    [
        (lambda text: text[: len(text) // 2], ["is not valid JSON", "line"]),
        (lambda text: json.dumps(dict(json.loads(text), weights={})), ["'weights.file'"]),
        (lambda text: json.dumps(dict(json.loads(text), weights="file")), ["'weights.file'"]),
        (lambda text: "[]", ["is not a JSON object"]),
        (lambda text: json.dumps(dict(json.loads(text), config=[])), ["'config'", "dict"]),
    ],
    ids=["truncated", "field-missing", "text-for-a-table", "not-object", "wrong-type"],
)
def test_corrupt_manifest_is_refused(trained, tmp_path, damage, words):
    model = trained.copy_to(tmp_path / "copy")
    model.manifest_path.write_text(damage(model.manifest_path.read_text()), encoding="utf-8")
    output = tmp_path / "out" / "p.csv"
    done = predict(model, "--output", str(output))
    assert_refused(done, f"manifest {model.manifest_path}", *words, output=output)


class RunsCode:
    """Unpickling this object would create a marker file."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "code ran"))


def predict_vouched_for(model, payload: bytes, output: Path):
    """predict with ``payload`` as the weights, and a manifest that records its checksum."""
    model.weights_path.write_bytes(payload)
    manifest = model.manifest
    manifest["weights"]["sha256"] = artifacts.sha256_bytes(payload)
    model.manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    return predict(model, "--output", str(output))


def test_crafted_pickle_is_refused_and_never_run(trained, tmp_path):
    # Even with a manifest that vouches for it, a pickle is never unpickled.
    model = trained.copy_to(tmp_path / "copy")
    marker = tmp_path / "marker"
    output = tmp_path / "out" / "p.csv"
    done = predict_vouched_for(model, pickle.dumps(RunsCode(marker)), output)
    words = f"model file {model.weights_path} is not a {BACKEND.WEIGHTS_FORMAT} file"
    assert_refused(done, words, output=output)
    assert not marker.exists()


@pytest.mark.slow
def test_weights_in_the_right_format_that_do_not_load_are_refused(trained, tmp_path):
    # A manifest that vouches for a file of the right kind that holds no model.
    model = trained.copy_to(tmp_path / "copy")
    if BACKEND.WEIGHTS_FORMAT == "skops":  # a zip archive without a model in it
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("notes.txt", "not a model")
        payload = buffer.getvalue()
    else:  # a safetensors header that lists no tensor
        header = b'{"__metadata__": {"note": "no tensors"} }'
        payload = struct.pack("<Q", len(header)) + header + b"\0"
    output = tmp_path / "out" / "p.csv"
    done = predict_vouched_for(model, payload, output)
    words = f"model file {model.weights_path} cannot be loaded as {BACKEND.WEIGHTS_FORMAT}"
    assert_refused(done, words, "retrain: make train", output=output)


@pytest.mark.slow
def test_an_output_file_with_other_predictions_is_replaced_with_a_note(trained, tmp_path):
    output = tmp_path / "p.csv"
    output.write_text("other predictions\n", encoding="utf-8")
    done = predict(trained, "--output", str(output))
    assert done.returncode == 0, done.stderr
    assert f"note: replacing {output}, which held other predictions" in done.stdout
    done = predict(trained, "--output", str(output))
    assert done.returncode == 0, done.stderr
    assert "note: replacing" not in done.stdout


@pytest.mark.slow
def test_backend_loader_refuses_a_pickle_without_running_it(trained, tmp_path):
    # The loader is a second line of defence behind the format check.  Slow only
    # because it loads the framework into the test process (about a second).
    marker = tmp_path / "marker"
    with pytest.raises(ValueError, match="not a"):
        BACKEND.from_bytes(pickle.dumps(RunsCode(marker)), trained.manifest["config"], 4, 3)
    assert not marker.exists()


@pytest.mark.parametrize("name", ["../../evil.pkl", f"../../evil{BACKEND.WEIGHTS_SUFFIX}"])
def test_weights_file_named_outside_the_models_folder_is_refused(trained, tmp_path, name):
    model = trained.copy_to(tmp_path / "copy")
    manifest = model.manifest
    manifest["weights"]["file"] = name
    model.manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    output = tmp_path / "out" / "p.csv"
    done = predict(model, "--output", str(output))
    assert_refused(done, f"weights.file {name!r}", output=output)


def test_no_source_file_loads_pickle_or_joblib():
    forbidden = re.compile(r"\bimport (c?pickle|joblib)\b|torch\.load\(|trusted=True|allow_pickle")
    offenders = [
        path.name
        for path in (ROOT / "src").rglob("*.py")
        if forbidden.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
