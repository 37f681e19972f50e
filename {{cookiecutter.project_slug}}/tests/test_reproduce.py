"""make reproduce re-creates a model at its own commit, and says so when it cannot."""

from __future__ import annotations

import csv
import io
import json
import os
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from {{ cookiecutter.module_name }} import artifacts, portable, repro_check

from conftest import CONTRACT, MODULE, TINY, command, files_in, git, make_workdir, project_env

# Each test trains and re-trains in fresh processes and git worktrees: make test-all.
pytestmark = pytest.mark.slow


def append_to_backend(workdir: Path, code: str) -> None:
    backend = next((workdir / "src" / MODULE / "backends").glob("*_backend.py"))
    backend.write_text(backend.read_text(encoding="utf-8") + code, encoding="utf-8")


# A later edit that makes training draw from the operating system's randomness.
NOT_DETERMINISTIC = """

_seeded_fit = fit


def fit(model, x, y, config, rng, on_epoch):
    import os

    import numpy as np

    noise = np.random.default_rng(int.from_bytes(os.urandom(8), "little"))
    return _seeded_fit(model, x + noise.normal(0.0, 1e-3, x.shape), y, config, rng, on_epoch)
"""


def train_and_commit(workdir: Path, *options: str) -> Path:
    done = command("train", *TINY, *options, cwd=workdir)
    assert done.returncode == 0, done.stderr
    (path,) = (workdir / "models").glob("*.json")
    git(workdir, "add", "--force", "models")
    git(workdir, "commit", "--quiet", "--no-verify", "--message", "Record a model")
    return path


def later_commit_changing_the_code(workdir: Path) -> None:
    append_to_backend(workdir, "\n\nLATER = True  # a later change\n")
    config = workdir / "configs" / "train.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("lr = 0.01", "lr = 0.03"))
    git(workdir, "commit", "--quiet", "--all", "--no-verify", "--message", "Change the code")


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> Path:
    """A project whose model was recorded two commits ago, before the code changed."""
    workdir = make_workdir(tmp_path_factory.mktemp("recorded") / "work")
    manifest_path = train_and_commit(workdir)
    later_commit_changing_the_code(workdir)
    return manifest_path


def state(workdir: Path) -> tuple[str, str, str, str]:
    return (
        git(workdir, "rev-parse", "HEAD"),
        git(workdir, "symbolic-ref", "HEAD"),
        git(workdir, "status", "--porcelain", "--untracked-files=all"),
        git(workdir, "worktree", "list", "--porcelain"),
    )


def altered(manifest_path: Path, folder: Path, change) -> Path:
    """A copy of a manifest (and its weights) in which ``change`` altered one field."""
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    weights = manifest_path.with_name(manifest["weights"]["file"])
    shutil.copy2(weights, folder / weights.name)
    change(manifest)
    copy = folder / manifest_path.name
    copy.write_bytes(artifacts.manifest_bytes(manifest))
    return copy


def reproduced_column(models: Path) -> str:
    """What `make experiments` says of the one model in ``models``: yes, NO or empty."""
    done = command("experiments", "--models-dir", str(models), "--format", "csv", cwd=models.parent)
    assert done.returncode == 0, done.stderr
    (row,) = csv.DictReader(io.StringIO(done.stdout))
    return row["reproduced"]


def test_reproduce_recreates_an_older_commits_model_bit_for_bit(recorded):
    workdir = recorded.parents[1]
    (workdir / "untracked-notes.txt").write_text("mine\n", encoding="utf-8")
    before = state(workdir)
    outcome = workdir / "models" / "reproduced" / recorded.name
    # As in a user's shell: output to a pipe is held back unless flushed.
    env = {k: v for k, v in project_env(workdir).items() if k != "PYTHONUNBUFFERED"}
    running = subprocess.Popen(
        [sys.executable, "-m", f"{MODULE}.reproduce"],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    stdout = []
    for line in running.stdout:
        stdout.append(line)
        if line.startswith("training again"):
            # Shown while it trains, not when all is done: a pipe does not hold it back.
            assert not outcome.exists(), "the training message came only at the end"
    stderr = running.stderr.read()
    assert running.wait(timeout=600) == 0, "".join(stdout) + stderr
    stdout = "".join(stdout)
    assert "reproduced: bit-identical" in stdout
    manifest = json.loads(recorded.read_text(encoding="utf-8"))
    commit = manifest["git"]["commit"]
    assert f"model {recorded.name}, trained at commit {commit[:12]}\n" in stdout
    assert re.search(rf"weights +recorded {manifest['weights']['sha256']}", stdout)
    assert f"now      {manifest['weights']['sha256']}" in stdout
    assert f"now      {manifest['predictions']['sha256']}" in stdout
    # Training's own report stays out of the way when all went well.
    assert "test_accuracy" not in stdout and "saved " not in stdout
    # Nothing to warn of where the portable pin holds.
    assert ("warning:" in stderr) == (portable.warning(portable.pin(True, apply=False)) is not None)
    assert state(workdir) == before
    assert reproduced_column(workdir / "models") == "yes"


def test_reproduce_fails_when_the_manifests_weights_hash_was_altered(recorded, tmp_path):
    workdir = recorded.parents[1]
    real = json.loads(recorded.read_text(encoding="utf-8"))["weights"]["sha256"]

    def lie(manifest):
        manifest["weights"]["sha256"] = "0" * 64
        manifest["platform"]["machine"] = "riscv64"  # as if trained on another machine

    before = state(workdir)
    done = command("reproduce", "--model", str(altered(recorded, tmp_path, lie)), cwd=workdir)
    assert done.returncode == 1
    assert "NOT reproduced: the weights differ" in done.stderr
    assert f"now      {real}" in done.stdout
    assert (
        "likely reasons (what differs between the two runs):\n"
        f"  the architecture (platform.machine): riscv64 -> {platform.machine()}\n"
    ) in done.stdout
    # The weights file beside the manifest is the real one: the manifest lies.
    assert "its bytes are the same as the new model's" in done.stdout
    assert "the manifest or the weights file was altered" in done.stdout
    assert "Traceback" not in done.stderr
    assert state(workdir) == before
    assert reproduced_column(tmp_path) == "NO"


def test_reproduce_trains_by_the_manifests_config_so_an_altered_one_fails(recorded, tmp_path):
    workdir = recorded.parents[1]
    lie = altered(recorded, tmp_path, lambda m: m["config"].update(epochs=3))
    done = command("reproduce", "--model", str(lie), cwd=workdir)
    assert done.returncode == 1
    assert "NOT reproduced: the weights" in done.stderr


def test_reproduce_shows_trainings_own_error_when_training_at_the_commit_fails(recorded, tmp_path):
    workdir = recorded.parents[1]
    lie = altered(recorded, tmp_path, lambda m: m["config"].update(epochs=0))
    done = command("reproduce", "--model", str(lie), cwd=workdir)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    first, *_, last = done.stderr.strip().splitlines()
    assert first.startswith("train: error: ") and "epochs" in first, done.stderr
    assert last == (
        "reproduce: error: training at the recorded commit failed (its output is above)"
    )


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (
            lambda m: m["data"].update(sha256="f" * 64),
            [f"data file {CONTRACT.path} has sha256", "but the model was trained on"],
        ),
        (
            lambda m: m["git"].update(commit="1" * 40),
            ["is not in this repository", "git fetch --unshallow"],
        ),
    ],
    ids=["other-data", "missing-commit"],
)
def test_reproduce_refuses_before_training(recorded, tmp_path, change, words):
    workdir = recorded.parents[1]
    done = command("reproduce", "--model", str(altered(recorded, tmp_path, change)), cwd=workdir)
    assert done.returncode == 1
    for word in words:
        assert word in done.stderr
    assert "training again" not in done.stdout
    assert "Traceback" not in done.stderr


def test_reproduce_fails_on_an_honest_manifest_when_training_is_not_deterministic(workdir):
    append_to_backend(workdir, NOT_DETERMINISTIC)
    git(workdir, "commit", "--quiet", "--all", "--no-verify", "--message", "Draw from os.urandom")
    manifest_path = train_and_commit(workdir)
    done = command("reproduce", "--model", str(manifest_path), cwd=workdir)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    name = manifest_path.name
    assert f"NOT reproduced: the weights and the predictions differ from {name}'s" in done.stderr
    assert "something in the code is not deterministic" in done.stdout


def test_reproduce_applies_the_recorded_patch_of_a_dirty_model(workdir):
    config = workdir / "configs" / "train.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("lr = 0.01", "lr = 0.05"))
    done = command("train", *TINY, "--allow-dirty", cwd=workdir)
    assert done.returncode == 0, done.stderr
    git(workdir, "checkout", "--", "configs")
    done = command("reproduce", cwd=workdir)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "reproduced: bit-identical" in done.stdout


def _shell_lines(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if re.match(r"run \d+: shell had ", line)]


def test_repro_check_without_a_record_passes_and_shows_what_each_run_was_given(workdir):
    done = command("repro_check", *TINY, cwd=workdir)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "nothing more to compare" in done.stdout
    first, second = _shell_lines(done.stdout)
    assert first.startswith("run 1: ") and second.startswith("run 2: ")
    # Run 1 is the caller's shell as it is; run 2 has other threads and hash
    # seed and, where the pin applies, asks for another CPU's kernels.
    for name in repro_check.SHELL_VARIABLES:
        assert f"{name}=" in first and f"{name}=" in second
    pinned = portable.pin(True, apply=False).applied
    for name in repro_check.OTHER_CPU:
        assert (f"{name}=" in first) == (name in os.environ), first
        assert (f"{name}=" in second) == (pinned or name in os.environ), second


def test_repro_check_of_uncommitted_changes_compares_with_no_record(workdir):
    train_and_commit(workdir)
    config = workdir / "configs" / "train.toml"
    config.write_text(config.read_text(encoding="utf-8") + "# an idea\n", encoding="utf-8")
    done = command("repro_check", *TINY, "--allow-dirty", cwd=workdir)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "nothing more to compare" in done.stdout
    assert "the record" not in done.stdout


def test_repro_check_compares_with_each_recorded_manifest_of_the_same_code(workdir):
    manifest_path = train_and_commit(workdir)
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    # Neither a manifest that cannot be read nor one of another config is a record of this run.
    models = workdir / "models"
    (models / "0-unreadable.json").write_text("{", encoding="utf-8")
    other = json.loads(manifest_path.read_text(encoding="utf-8"))
    other["config"]["epochs"] = 99
    other["weights"]["sha256"] = "f" * 64
    (models / "other-config.json").write_bytes(artifacts.manifest_bytes(other))
    done = command("repro_check", *TINY, cwd=workdir)
    assert done.returncode == 0, done.stdout + done.stderr
    name = manifest_path.name
    assert f"the record models/{name}: weights and predictions are bit-identical" in done.stdout
    assert "0-unreadable" not in done.stdout and "other-config" not in done.stdout
    manifest["predictions"]["sha256"] = "0" * 64
    (workdir / "models" / "a-lie.json").write_bytes(artifacts.manifest_bytes(manifest))
    done = command("repro_check", *TINY, cwd=workdir)
    assert done.returncode == 1
    name = manifest_path.name
    assert f"the record models/{name}: weights and predictions are bit-identical" in done.stdout
    assert "the record models/a-lie.json: the predictions differ" in done.stdout
    assert "NOT the recorded results: models/a-lie.json records other predictions" in done.stderr


def test_repro_check_fails_naming_what_differs_when_training_is_not_deterministic(workdir):
    append_to_backend(workdir, NOT_DETERMINISTIC)
    git(workdir, "commit", "--quiet", "--all", "--no-verify", "--message", "Draw from os.urandom")
    done = command("repro_check", *TINY, cwd=workdir)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert (
        "repro-check: error: NOT reproducible: the weights and predictions differ "
        "between the two runs" in done.stderr
    )
    # Each run's digests are shown, so the user sees what differs.
    weights = re.findall(r"weights +sha256 ([0-9a-f]{64})", done.stdout)
    predictions = re.findall(r"predictions sha256 ([0-9a-f]{64})", done.stdout)
    assert len(set(weights)) == 2 and len(set(predictions)) == 2, done.stdout
    assert "reproducible: weights and predictions are bit-identical" not in done.stdout
    assert files_in(workdir / "models") == []
