"""make experiments: one row per model, what changed, how it scored, whether it reproduced."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from pathlib import Path

import pytest

from {{ cookiecutter.module_name }} import artifacts, experiments

from conftest import CONFIG, command

WEIGHTS = {
    name: pair * 32
    for name, pair in zip(
        ["alpha", "beta", "gamma", "delta", "epsilon"], ["a1", "b2", "c3", "d4", "e5"], strict=True
    )
}
COLUMNS = "name,trained,changes,test_accuracy,macro_f1,rmse,mae,r2,weights,reproduced"


def outcome(folder: Path, name: str, record: object) -> None:
    """What `make reproduce` would have left for a model: its record beside the manifests."""
    (folder / "reproduced").mkdir(exist_ok=True)
    text = record if isinstance(record, str) else json.dumps(record)
    (folder / "reproduced" / f"{name}.json").write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def lab(trained, tmp_path_factory) -> Path:
    """A project copy whose lab/ holds five models made from the trained one's manifest.

    Each differs in what the table shows: settings, metrics (a regression's
    among them), when it was trained, and what `make reproduce` found.  A
    sixth file is no manifest at all.
    """
    copy = trained.copy_to(tmp_path_factory.mktemp("experiments") / "copy")
    folder = copy.folder / "lab"
    folder.mkdir()
    base = copy.manifest
    models = {
        "alpha": (
            {"seed": 7},
            {"test_accuracy": 0.5, "macro_f1": 0.41234},
            "2026-03-01T09:05:59.999+00:00",
            {"weights_sha256": WEIGHTS["alpha"], "reproduced": True},
        ),
        "beta": (
            {"lr": 0.001, "data.path": "data/other|x.csv"},
            {"test_accuracy": 0.875, "macro_f1": 0.86},
            "2026-01-15T12:30:00.000+00:00",
            {"weights_sha256": WEIGHTS["beta"], "reproduced": False},
        ),
        "gamma": (
            {"data.features": ["pixel_1", "pixel_2"]},
            {"rmse": 1.25, "mae": 0.98765, "r2": -0.5},
            "2026-02-01T00:00:00.000+00:00",
            # A record of other weights under the same name.
            {"weights_sha256": "00" * 32, "reproduced": True},
        ),
        "delta": (
            {},
            {"test_accuracy": 0.875, "macro_f1": 0.9},
            None,  # no finished_at at all
            "{not json",
        ),
        "epsilon": (
            None,  # exactly the config file's values
            None,  # no metrics
            "2026-02-01T00:00:00.000+00:00",
            [],
        ),
    }
    for name, (changed, metrics, finished, record) in models.items():
        manifest = json.loads(json.dumps(base))
        if changed is None:
            manifest["config"] = dict(CONFIG)
            manifest["overrides"] = None
        else:
            manifest["config"].update(changed)
            manifest["overrides"] = {**base["overrides"], **changed}
        manifest["metrics"] = None if metrics is None else {"per_class": {}, **metrics}
        if finished is None:
            del manifest["finished_at"]
        else:
            manifest["finished_at"] = finished
        manifest["weights"]["sha256"] = WEIGHTS[name]
        (folder / f"{name}.json").write_bytes(artifacts.manifest_bytes(manifest))
        outcome(folder, name, record)
    (folder / "broken.json").write_text("{not json", encoding="utf-8")
    return copy.folder


def run(folder: Path, *args: str):
    done = command("experiments", "--models-dir", "lab", *args, cwd=folder)
    assert done.returncode == 0, done.stderr
    return done


def csv_rows(folder: Path, *args: str) -> list[list[str]]:
    done = run(folder, "--format", "csv", *args)
    return list(csv.reader(io.StringIO(done.stdout)))


def names(folder: Path, *args: str) -> list[str]:
    return [line[0] for line in csv_rows(folder, *args)[1:]]


def test_csv_has_every_models_exact_row_oldest_first_and_leaves_out_a_broken_manifest(lab):
    done = run(lab, "--format", "csv")
    assert done.stdout == (
        f"{COLUMNS}\n"
        "beta,2026-01-15 12:30,data.path=data/other|x.csv epochs=2 hidden=8 lr=0.001,"
        "0.8750,0.8600,,,,b2b2b2b2b2b2,NO\n"
        "epsilon,2026-02-01 00:00,,,,,,,e5e5e5e5e5e5,\n"
        'gamma,2026-02-01 00:00,"data.features=[""pixel_1"", ""pixel_2""] epochs=2 hidden=8",'
        ",,1.2500,0.9877,-0.5000,c3c3c3c3c3c3,\n"
        "alpha,2026-03-01 09:05,epochs=2 hidden=8 seed=7,0.5000,0.4123,,,,a1a1a1a1a1a1,yes\n"
        "delta,,epochs=2 hidden=8,0.8750,0.9000,,,,d4d4d4d4d4d4,\n"
    )
    (warning,) = done.stderr.splitlines()
    assert warning.startswith("warning: left out: manifest lab/broken.json is not valid JSON")


def test_table_and_markdown_show_only_the_metric_columns_the_kept_models_have(lab):
    table = run(lab, "--filter", "name=ta").stdout
    assert table == (
        "name   trained           changes"
        "                                                test_accuracy  macro_f1  weights"
        "       reproduced\n"
        "beta   2026-01-15 12:30  data.path=data/other|x.csv epochs=2 hidden=8 lr=0.001"
        "  0.8750         0.8600    b2b2b2b2b2b2  NO\n"
        "delta                    epochs=2 hidden=8"
        "                                      0.8750         0.9000    d4d4d4d4d4d4\n"
    )
    markdown = run(lab, "--filter", "name=ta", "--format", "markdown").stdout
    assert markdown == (
        "| name | trained | changes | test_accuracy | macro_f1 | weights | reproduced |\n"
        "| --- | --- | --- | --- | --- | --- | --- |\n"
        "| beta | 2026-01-15 12:30 | data.path=data/other\\|x.csv epochs=2 hidden=8 lr=0.001"
        " | 0.8750 | 0.8600 | b2b2b2b2b2b2 | NO |\n"
        "| delta |  | epochs=2 hidden=8 | 0.8750 | 0.9000 | d4d4d4d4d4d4 |  |\n"
    )
    regression = csv_rows(lab, "--filter", "name=gamma")
    assert regression == [
        ["name", "trained", "changes", "rmse", "mae", "r2", "weights", "reproduced"],
        [
            "gamma",
            "2026-02-01 00:00",
            'data.features=["pixel_1", "pixel_2"] epochs=2 hidden=8',
            "1.2500",
            "0.9877",
            "-0.5000",
            "c3c3c3c3c3c3",
            "",
        ],
    ]


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("--sort=-trained", ["alpha", "gamma", "epsilon", "beta", "delta"]),
        ("--sort=test_accuracy", ["alpha", "beta", "delta", "epsilon", "gamma"]),
        ("--sort=-test_accuracy", ["delta", "beta", "alpha", "epsilon", "gamma"]),
        ("--sort=r2", ["gamma", "alpha", "beta", "delta", "epsilon"]),
        ("--sort=reproduced", ["beta", "alpha", "delta", "epsilon", "gamma"]),
        ("--sort=changes", ["gamma", "beta", "delta", "alpha", "epsilon"]),
        ("--sort=-name", ["gamma", "epsilon", "delta", "beta", "alpha"]),
    ],
)
def test_sort_orders_by_the_column_with_models_lacking_it_last_by_name(lab, sort, order):
    assert names(lab, sort) == order


@pytest.mark.parametrize(
    ("filters", "kept"),
    [
        (["name=ta"], ["beta", "delta"]),
        (["seed=7"], ["alpha"]),
        (['data.features=["pixel_1", "pixel_2"]'], ["gamma"]),
        (["data.path=data/other|x.csv"], ["beta"]),
        (["test_accuracy=0.8750"], ["beta", "delta"]),
        (["trained=2026-02-01 00:00"], ["epsilon", "gamma"]),
        (["reproduced="], ["epsilon", "gamma", "delta"]),
        (["name=ta", "test_accuracy=0.8750", "macro_f1=0.9000"], ["delta"]),
    ],
)
def test_filter_keeps_exactly_the_models_whose_column_or_config_value_matches(lab, filters, kept):
    assert names(lab, *(f"--filter={condition}" for condition in filters)) == kept


def test_wrong_filters_and_an_empty_folder_are_refused_or_reported_in_one_line(lab, tmp_path):
    unknown = command("experiments", "--models-dir", "lab", "--filter", "colour=red", cwd=lab)
    assert (unknown.returncode, unknown.stdout) == (1, "")
    # The broken manifest's warning first, then the one line of the error.
    assert unknown.stderr.splitlines()[-1] == (
        "experiments: error: --filter 'colour=red': 'colour' is neither a column "
        "(name, trained, changes, test_accuracy, macro_f1, rmse, mae, r2, weights, reproduced) "
        "nor a config key; for example --filter seed=1"
    )
    bare = command("experiments", "--models-dir", "lab", "--filter", "seed", cwd=lab)
    assert (bare.returncode, bare.stdout) == (1, "")
    assert bare.stderr == (
        "experiments: error: --filter 'seed': use KEY=VALUE, for example seed=1\n"
    )
    empty = command("experiments", "--models-dir", str(tmp_path), cwd=lab)
    assert (empty.returncode, empty.stdout) == (0, "")
    assert empty.stderr == f"no model in {tmp_path}/ yet; train one: make train\n"


def test_without_a_readable_config_file_changes_are_the_overrides_the_model_was_trained_with(
    lab, tmp_path
):
    # The code alone, without configs/: the config file's values are unknown.
    bare = tmp_path / "bare"
    bare.mkdir()
    shutil.copytree(lab / "lab", bare / "lab")
    shutil.copytree(lab / "src", bare / "src")
    rows = csv_rows(bare)
    assert {line[0]: line[2] for line in rows[1:]} == {
        "alpha": "epochs=2 hidden=8 seed=7",
        "beta": "data.path=data/other|x.csv epochs=2 hidden=8 lr=0.001",
        "gamma": 'data.features=["pixel_1", "pixel_2"] epochs=2 hidden=8',
        "delta": "epochs=2 hidden=8",
        "epsilon": "",
    }


def test_record_outcome_writes_what_reproduce_found_and_the_table_reads_it_back(tmp_path):
    manifest_path = tmp_path / "m.json"
    weights = {"sha256": "ab" * 32}
    manifest = {"weights": weights}
    experiments.record_outcome(manifest_path, manifest, [])
    record = json.loads((tmp_path / "reproduced" / "m.json").read_text(encoding="utf-8"))
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", record.pop("checked_at"))
    assert record == {
        "model": "m.json",
        "weights_sha256": "ab" * 32,
        "reproduced": True,
        "differs": [],
    }
    assert experiments.reproduced(manifest_path, manifest) == "yes"
    experiments.record_outcome(manifest_path, manifest, ["weights", "predictions"])
    record = json.loads((tmp_path / "reproduced" / "m.json").read_text(encoding="utf-8"))
    assert (record["reproduced"], record["differs"]) == (False, ["weights", "predictions"])
    assert experiments.reproduced(manifest_path, manifest) == "NO"
    # Other weights under the same name: the record is not theirs.
    other = {"sha256": "cd" * 32}
    assert experiments.reproduced(manifest_path, {"weights": other}) == ""
    assert experiments.reproduced(tmp_path / "never-checked.json", manifest) == ""


def test_record_outcome_only_warns_when_the_record_cannot_be_written(tmp_path, capsys):
    (tmp_path / "reproduced").write_text("a file where the folder would be", encoding="utf-8")
    weights = {"sha256": "ab" * 32}
    experiments.record_outcome(tmp_path / "m.json", {"weights": weights}, [])
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("warning: the outcome was not recorded: cannot write ")
