"""Slow tier: every framework's project trains, predicts and proves it reproduces.

For each framework, on a baked project set up with its real `make setup`:
the generated test suite passes, and `make train`, `make predict` and
`make repro-check` work and write what they claim.
"""

from __future__ import annotations

import hashlib
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
    done = project.make("test")
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
    finally:
        for path in set(models.iterdir()) - before:
            path.unlink()
        shutil.rmtree(predictions, ignore_errors=True)


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
        for path in set(models.iterdir()) - before:
            path.unlink()
