"""Slow tier: every framework's project trains, predicts and proves it reproduces.

For each framework, on a baked project set up with its real `make setup`:
the generated test suite passes, and `make train`, `make predict`,
`make report`, `make experiments` and `make repro-check` work and write
what they claim.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import shutil

import pytest

from conftest import BIN, FRAMEWORKS, git, run

pytestmark = pytest.mark.slow

SUFFIX = {
    "scikit-learn": ".skops",
    "pytorch": ".safetensors",
    "tensorflow": ".safetensors",
    "numpy": ".safetensors",
}


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def params(test):
    cases = [pytest.param(f, marks=pytest.mark.xdist_group(f), id=f) for f in FRAMEWORKS]
    return pytest.mark.parametrize("framework", cases)(test)


@params
def test_generated_test_suite_passes(set_up_project, framework):
    project = set_up_project(framework)
    done = project.make("test-all")
    assert re.search(r"\d+ passed", done.stdout), done.stdout
    assert " failed" not in done.stdout


@params
def test_make_train_and_predict_write_a_traceable_model_and_predictions(set_up_project, framework):
    project = set_up_project(framework)
    models, predictions = project.path / "models", project.path / "predictions"
    before = set(models.iterdir())
    try:
        train = project.make("train")
        new = sorted(set(models.iterdir()) - before)
        commit = git(project.path, "rev-parse", "HEAD")
        stem = f"mlp-digits-h64-lr0.01-ep20-bs32-t1-seed42-{commit[:7]}"
        assert [p.name for p in new] == [f"{stem}.json", f"{stem}{SUFFIX[framework]}"]
        assert "epoch   20/20" in train.stdout

        manifest = json.loads((models / f"{stem}.json").read_text(encoding="utf-8"))
        weights = models / f"{stem}{SUFFIX[framework]}"
        assert manifest["framework"] == framework
        assert manifest["weights"]["sha256"] == sha256(weights)
        assert manifest["data"]["sha256"] == sha256(project.path / "data" / "digits.csv")
        assert manifest["git"]["commit"] == commit
        assert manifest["git"]["dirty"] is False
        assert manifest["config"]["seed"] == manifest["seed"] == 42
        assert manifest["overrides"] == {}
        assert manifest["threads"]["OMP_NUM_THREADS"] == "1"
        assert manifest["python"]["hash_seed"] == "0"
        assert manifest["metrics"]["test_accuracy"] > 0.8

        predict = project.make("predict")
        output = predictions / f"{stem}.csv"
        assert f"sha256 {sha256(output)}" in predict.stdout
        rows = output.read_text(encoding="utf-8").splitlines()
        assert rows[0] == "id,prediction," + ",".join(f"probability_{c}" for c in range(10))
        assert len(rows) - 1 == manifest["data"]["test_rows"]
        # A model's manifest and outputs never make the tree dirty.
        assert git(project.path, "status", "--porcelain", "--", ":(exclude)models") == ""

        # The report of the newest model, twice: the same bytes.
        project.make("report")
        folder = project.path / "reports" / stem
        written = {p.name: p.read_bytes() for p in folder.iterdir()}
        assert sorted(written) == [
            "confusion_matrix.png", "learning_curve.png", "per_class.png", "report.md"
        ]  # fmt: skip
        assert all(written[n][:8] == b"\x89PNG\r\n\x1a\n" for n in written if n != "report.md")
        project.make("report")
        assert {p.name: p.read_bytes() for p in folder.iterdir()} == written
        assert f"| test_accuracy | {manifest['metrics']['test_accuracy']:.4f} |" in (
            written["report.md"].decode()
        )

        # A second seed, then the table of both.
        project.make("train", "ARGS=--set seed=1 --set epochs=2 --set hidden=8")
        table = project.make("experiments", "ARGS=--format csv --sort name")
        rows = list(csv.DictReader(io.StringIO(table.stdout)))
        assert [row["name"] for row in rows] == sorted(
            [stem, f"mlp-digits-h8-lr0.01-ep2-bs32-t1-seed1-{commit[:7]}"]
        )
        by_name = {row["name"]: row for row in rows}
        assert by_name[stem]["changes"] == ""
        assert by_name[stem]["weights"] == manifest["weights"]["sha256"][:12]
        assert set(rows[0]["changes"].split()) | set(rows[1]["changes"].split()) == {
            "epochs=2", "hidden=8", "seed=1"
        }  # fmt: skip
    finally:
        for path in set(models.iterdir()) - before:
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        shutil.rmtree(predictions, ignore_errors=True)
        shutil.rmtree(project.path / "reports", ignore_errors=True)


@params
def test_make_repro_check_proves_bit_identical_results(set_up_project, framework):
    project = set_up_project(framework)
    before = sorted(project.path.joinpath("models").iterdir())
    done = project.make("repro-check")
    hashes = re.findall(r"(weights|predictions) +sha256 ([0-9a-f]{64})", done.stdout)
    assert len(hashes) == 4
    assert hashes[0] == hashes[2] and hashes[1] == hashes[3]
    assert "shell had OMP_NUM_THREADS=3, PYTHONHASHSEED=random" in done.stdout
    assert "bit-identical" in done.stdout
    assert sorted(project.path.joinpath("models").iterdir()) == before


@pytest.mark.xdist_group("numpy")
def test_make_reproduce_builds_the_commits_environment_when_the_venv_drifted(set_up_project):
    project = set_up_project("numpy")
    models = project.path / "models"
    hook = project.path / ".git" / "hooks" / "pre-commit"
    hook_before = hook.read_bytes()
    before = set(models.iterdir())
    head = git(project.path, "rev-parse", "HEAD")
    uv = [BIN / "uv", "pip", "--quiet"]
    try:
        project.make("train", "ARGS=--set epochs=2 --set hidden=8")
        (manifest,) = sorted(set(models.glob("*.json")) - before)
        # A package installed by hand: .venv no longer holds exactly the locks.
        run([*uv, "install", "--python", project.python, "six==1.16.0"], cwd=project.path)
        done = project.make("reproduce", f"MODEL=models/{manifest.name}")
        assert "building a venv from them" in done.stdout
        assert "reproduced: bit-identical" in done.stdout
        assert hook.read_bytes() == hook_before
        assert git(project.path, "rev-parse", "HEAD") == head
        assert git(project.path, "worktree", "list", "--porcelain").count("worktree ") == 1
    finally:
        run([*uv, "uninstall", "--python", project.python, "six"], cwd=project.path)
        # models/reproduced/ holds the outcome that reproduce recorded.
        for path in set(models.iterdir()) - before:
            shutil.rmtree(path) if path.is_dir() else path.unlink()


FLOWERS = "name,length,width,height,species\n" + "".join(
    f"plant-{i},{(i % 3) + (i % 7) / 10:.2f},{'' if i == 4 else f'{(i % 5) / 3:.3f}'},"
    f"{(i % 3) * 2 + (i % 4) / 5:.2f},{['rose', 'tulip', 'lily, white'][i % 3]}\n".replace(
        "lily, white", '"lily, white"'
    )
    for i in range(90)
)
GROWTH = "water,light,growth\n" + "".join(
    f"{(i % 9) / 4:.3f},{(i % 5) / 2:.3f},{3 * (i % 9) / 4 - (i % 5) / 2 + (i % 2) / 50:.4f}\n"
    for i in range(120)
)


def commit_all(project, message: str) -> None:
    git(project.path, "add", "--all")
    git(project.path, "-c", "user.name=T", "-c", "user.email=t@example.org", "commit",
        "--quiet", "--no-verify", "--message", message)  # fmt: skip


@params
def test_own_csv_with_string_labels_and_a_regression_csv_by_the_documented_commands(
    set_up_project, framework
):
    """Only the config changes, through make add-data; the code stays as baked."""
    project = set_up_project(framework)
    head = git(project.path, "rev-parse", "HEAD")
    small = "ARGS=--set epochs=5 --set hidden=8"
    try:
        (project.path / "data" / "flowers.csv").write_text(FLOWERS, encoding="utf-8")
        project.make("add-data", "FILE=data/flowers.csv", "LABEL=species", "ARGS=--id name")
        commit_all(project, "Train on flowers")
        refused = project.make("train", small, check=False)
        assert "data/flowers.csv, line 6, column 'width': the cell is empty" in refused.stderr
        for policy in ("drop", "impute"):
            project.make("train", f"{small} --set data.missing={policy}")
        project.make("predict")
        newest = max(
            (project.path / "predictions").glob("*.csv"), key=lambda p: p.stat().st_mtime_ns
        )
        rows = newest.read_text(encoding="utf-8").splitlines()
        assert rows[0] == (
            "id,prediction,probability_lily, white,probability_rose,probability_tulip"
        ).replace("probability_lily, white", '"probability_lily, white"')
        assert all(row.startswith("plant-") for row in rows[1:])
        done = project.make("repro-check", f"{small} --set data.missing=impute")
        assert "reproducible: weights and predictions are bit-identical" in done.stdout

        (project.path / "data" / "growth.csv").write_text(GROWTH, encoding="utf-8")
        project.make("add-data", "FILE=data/growth.csv", "LABEL=growth")
        commit_all(project, "Train on growth")
        project.make("train", small)
        (manifest,) = (project.path / "models").glob("mlp-growth-*.json")
        record = json.loads(manifest.read_text(encoding="utf-8"))
        assert record["data"]["task"] == "regression"
        assert set(record["metrics"]) == {"rmse", "mae", "r2"}
        done = project.make("predict")
        assert "rmse" in done.stdout and "r2" in done.stdout
        # The project's own tests read the new contract and stay green on it.
        done = project.make("test")
        assert re.search(r"\d+ passed", done.stdout) and " failed" not in done.stdout, done.stdout
    finally:
        git(project.path, "reset", "--quiet", "--hard", head)
        git(project.path, "clean", "--quiet", "-fdx", "models", "predictions", "data")
