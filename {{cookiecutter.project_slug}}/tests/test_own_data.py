"""Your own data: registered with add-data, trained and predicted by the contract alone."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest

from {{ cookiecutter.module_name }} import data
from {{ cookiecutter.module_name }}.errors import ProjectError

from conftest import TINY, command, files_in, git

SPECIES = ("rose", "tulip", "lily, white")


def flowers(rows: int = 60, empty_at: int | None = 7) -> str:
    """A small CSV: an id, three measurements, a string label with a comma in one class."""
    rng = np.random.default_rng(0)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["name", "length", "width", "height", "species"])
    for row in range(rows):
        kind = row % 3
        cells = [f"{v:.3f}" for v in rng.normal(kind, 0.3, 3)]
        if row == empty_at:
            cells[1] = ""
        writer.writerow([f"plant-{row}", *cells, SPECIES[kind]])
    return buffer.getvalue()


def growth(rows: int = 80) -> str:
    """A small regression CSV: the target is a noisy sum of two columns."""
    rng = np.random.default_rng(1)
    x = rng.normal(0.0, 1.0, (rows, 2))
    y = 3.0 * x[:, 0] - x[:, 1] + rng.normal(0.0, 0.1, rows)
    lines = [
        "water,light,growth",
        *(f"{a:.4f},{b:.4f},{t:.4f}" for (a, b), t in zip(x, y, strict=True)),
    ]
    return "\n".join(lines) + "\n"


def register(workdir: Path, name: str, content: str, *options: str):
    path = workdir / "data" / name
    path.write_text(content, encoding="utf-8")
    done = command("add_data", f"data/{name}", *options, cwd=workdir)
    assert done.returncode == 0, done.stderr
    git(workdir, "add", "--all")
    git(workdir, "commit", "--quiet", "--no-verify", "--message", f"Train on {name}")
    return done


def only_manifest(workdir: Path) -> dict:
    (path,) = (workdir / "models").glob("*.json")
    return json.loads(path.read_text(encoding="utf-8"))


def test_add_data_writes_the_contract_and_says_what_to_commit(workdir):
    done = register(workdir, "flowers.csv", flowers(), "--label", "species", "--id", "name")
    assert "git add configs/train.toml data/flowers.csv.sha256 data/flowers.csv" in done.stdout
    assert "data/flowers.csv, line 9, column 'width' is empty" in done.stdout
    config = (workdir / "configs" / "train.toml").read_text(encoding="utf-8")
    assert 'path = "data/flowers.csv"  # relative to the project folder' in config
    assert 'label = "species"' in config and 'id = "name"' in config
    assert 'task = "classification"' in config


def test_a_refused_file_from_elsewhere_leaves_nothing_behind(workdir, tmp_path):
    outside = tmp_path / "plants.csv"
    outside.write_text("name,length,species\np1,long,rose\n", encoding="utf-8")
    done = command("add_data", str(outside), "--label", "species", cwd=workdir)
    assert done.returncode == 1
    assert "'p1' is not a number" in done.stderr and "--id COLUMN" in done.stderr
    assert not (workdir / "data" / "plants.csv").exists()
    assert git(workdir, "status", "--porcelain") == ""


@pytest.mark.slow
def test_a_changed_registered_file_gets_its_new_checksum_and_keeps_its_contract(workdir):
    register(workdir, "flowers.csv", flowers(), "--label", "species", "--id", "name")
    path = workdir / "data" / "flowers.csv"
    path.write_text(flowers(rows=63), encoding="utf-8")
    done = command("train", *TINY, "--allow-dirty", cwd=workdir)
    assert "record its new checksum: make add-data FILE=" in done.stderr
    done = command("add_data", "data/flowers.csv", cwd=workdir)
    assert done.returncode == 0, done.stderr
    assert "recorded the new checksum" in done.stdout
    assert 'id = "name"' in (workdir / "configs" / "train.toml").read_text(encoding="utf-8")
    changed = git(workdir, "status", "--porcelain").split()
    assert changed == ["M", "data/flowers.csv", "M", "data/flowers.csv.sha256"]


def test_empty_cell_is_refused_naming_line_and_column_and_the_policies(workdir):
    register(workdir, "flowers.csv", flowers(), "--label", "species", "--id", "name")
    done = command("train", *TINY, cwd=workdir)
    assert done.returncode == 1
    assert "data/flowers.csv, line 9, column 'width': the cell is empty" in done.stderr
    assert '"drop" or "impute"' in done.stderr
    assert files_in(workdir / "models") == []


@pytest.mark.slow
@pytest.mark.parametrize("policy", ["drop", "impute"])
def test_string_labels_train_and_predict_class_names_by_id(workdir, policy):
    register(
        workdir, "flowers.csv", flowers(), "--label", "species", "--id", "name", "--missing", policy
    )
    done = command("train", *TINY, cwd=workdir)
    assert done.returncode == 0, done.stderr
    manifest = only_manifest(workdir)
    # The name tells the policy: drop and impute make different models of one config.
    (manifest_file,) = (workdir / "models").glob("*.json")
    assert manifest_file.name.startswith(f"mlp-flowers-{policy}-h8-")
    assert manifest["data"]["classes"] == sorted(SPECIES)
    assert manifest["data"]["rows_left_out"] == (1 if policy == "drop" else 0)
    note = "note: 1 row(s) with an empty cell or label left out (data.missing = drop)"
    assert (note in done.stdout) == (policy == "drop")
    assert ("left out" in done.stdout) == (policy == "drop")
    stats = manifest["data"]["features"]["width"]
    assert set(stats) == {"min", "max", "mean", "missing"}
    assert stats["missing"] == (0.0 if policy == "drop" else pytest.approx(1 / 45, abs=0.01))
    done = command("predict", cwd=workdir)
    assert done.returncode == 0, done.stderr
    (output,) = (workdir / "predictions").glob("*.csv")
    rows = list(csv.reader(output.read_text(encoding="utf-8").splitlines()))
    assert rows[0] == ["id", "prediction", *(f"probability_{name}" for name in sorted(SPECIES))]
    assert all(row[0].startswith("plant-") and row[1] in SPECIES for row in rows[1:])
    if policy == "drop":
        # New rows with an empty cell get no prediction, and the others still do.
        new = workdir / "new.csv"
        new.write_text("name,length,width,height\nnew-1,0.1,,0.2\nnew-2,0.1,0.3,0.2\n")
        output = "new-predictions.csv"
        done = command("predict", "--input", str(new), "--output", output, cwd=workdir)
        assert done.returncode == 0, done.stderr
        assert "1 row(s) with an empty cell get no prediction" in done.stderr
        written = (workdir / "new-predictions.csv").read_text(encoding="utf-8").splitlines()
        assert [line.split(",")[0] for line in written[1:]] == ["new-2"]


@pytest.mark.slow
def test_impute_leaves_out_a_row_without_its_label_and_says_so(workdir):
    rows = flowers(empty_at=None).splitlines(keepends=True)
    rows[5] = rows[5].rsplit(",", 1)[0] + ",\n"
    options = ("--label", "species", "--id", "name", "--missing", "impute")
    register(workdir, "flowers.csv", "".join(rows), *options)
    done = command("train", *TINY, cwd=workdir)
    assert done.returncode == 0, done.stderr
    note = "note: 1 row(s) with an empty label left out (data.missing = impute)"
    assert note in done.stdout.splitlines()
    assert only_manifest(workdir)["data"]["rows_left_out"] == 1


@pytest.mark.slow
def test_impute_fills_an_empty_input_cell_with_the_training_mean(workdir, tmp_path):
    register(
        workdir,
        "flowers.csv",
        flowers(),
        "--label",
        "species",
        "--id",
        "name",
        "--missing",
        "impute",
    )
    assert command("train", *TINY, cwd=workdir).returncode == 0
    rows = tmp_path / "new.csv"
    rows.write_text("name,length,width,height\nnew-1,0.1,,0.2\n", encoding="utf-8")
    done = command(
        "predict", "--input", str(rows), "--output", str(tmp_path / "p.csv"), cwd=workdir
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "p.csv").read_text(encoding="utf-8").splitlines()[1].startswith("new-1,")


@pytest.mark.slow
def test_regression_reports_rmse_mae_r2_and_predicts_values(workdir):
    # More held-out rows than the manifest keeps values of, for the report's plot.
    done = register(workdir, "growth.csv", growth(rows=4100), "--label", "growth")
    assert "(regression;" in done.stdout
    done = command("train", "--set", "epochs=30", "--set", "hidden=8", cwd=workdir)
    assert done.returncode == 0, done.stderr
    manifest = only_manifest(workdir)
    assert set(manifest["metrics"]) == {"rmse", "mae", "r2"}
    assert manifest["metrics"]["r2"] > 0.5
    assert manifest["data"]["classes"] is None
    assert manifest["data"]["test_rows"] > 1000
    kept = manifest["held_out_values"]
    assert kept["rows"] == len(kept["true"]) == len(kept["predicted"]) == 1000
    done = command("predict", cwd=workdir)
    assert done.returncode == 0, done.stderr
    (output,) = (workdir / "predictions").glob("*.csv")
    lines = output.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "id,prediction"
    assert all(float(line.split(",")[1]) == float(line.split(",")[1]) for line in lines[1:])


def test_data_over_the_git_limit_stays_out_of_git_with_its_checksum_tracked(workdir):
    big = "a,b,label\n" + "".join(f"{i}.5,{i % 7}.25,{i % 2}\n" for i in range(100_000))
    done = register(workdir, "big.csv", big, "--label", "label")
    assert "over 1 MB: it stays out of git" in done.stdout
    assert "/data/big.csv" in (workdir / ".gitignore").read_text(encoding="utf-8")
    tracked = git(workdir, "ls-files", "data").splitlines()
    assert "data/big.csv.sha256" in tracked and "data/big.csv" not in tracked


CONTRACT = data.Contract("x.csv", "label", (), "", "classification", 0.25, "refuse")


def read(text: str) -> data.Table:
    return data.read_table(text.encode(), "x.csv", CONTRACT, need_label=True)


def test_fast_and_precise_reading_agree():
    text = 'a,b,label\n1,2.5,"cat, big"\n-3,4e-1,dog\n'
    fast = read(text)
    # A quoted line break sends the same rows down the precise path.
    precise = read(text.replace("dog", '"do\ng"'))
    assert fast.x.tolist() == precise.x.tolist() == [[1.0, 2.5], [-3.0, 0.4]]
    assert fast.labels.tolist() == ["cat, big", "dog"]
    assert fast.lines.tolist() == [2, 3]


@pytest.mark.parametrize(
    ("cell", "words"),
    [
        ("1_6", "'1_6' is not a number"),
        ("\u0661\u0662", "is not a number"),
        ("inf", "'inf'"),
        ("nan", "'nan'"),
        ("0x10", "'0x10'"),
        ("1e400", "too large"),
    ],
)
def test_numbers_a_user_did_not_mean_are_refused_naming_line_and_column(cell, words):
    with pytest.raises(ProjectError) as caught:
        read(f"a,b,label\n1,2,x\n3,{cell},y\n")
    assert "x.csv, line 3, column 'b': " in str(caught.value)
    assert words in str(caught.value)
