"""Training: refuses a dirty tree, records where the model came from, never half-writes."""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from {{ cookiecutter.module_name }} import artifacts, backends, provenance

from conftest import CONTRACT, MODULE, ROOT, TINY, command, files_in, git, project_env

BACKEND = backends.load()
PROJECT = "{{ cookiecutter.project_slug }}"


def test_training_refuses_dirty_tree(workdir):
    config = workdir / "configs" / "train.toml"
    config.write_text(config.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    done = command("train", *TINY, cwd=workdir)
    assert done.returncode == 1
    assert "uncommitted changes" in done.stderr
    assert "configs/train.toml" in done.stderr
    assert "--allow-dirty" in done.stderr
    assert files_in(workdir / "models") == []


@pytest.mark.parametrize(("count", "more"), [(5, ""), (6, " and 1 more")])
def test_a_dirty_tree_is_named_by_its_first_five_changes(workdir, count, more):
    for number in range(count):
        (workdir / f"note{number}.txt").write_text("an idea\n", encoding="utf-8")
    done = command("train", *TINY, cwd=workdir)
    assert done.returncode == 1
    shown = "note0.txt, note1.txt, note2.txt, note3.txt, note4.txt"
    assert f"uncommitted changes ({shown}{more});" in done.stderr, done.stderr


def test_repro_check_fails_when_training_fails(workdir):
    (workdir / "notes.txt").write_text("an idea\n", encoding="utf-8")
    done = command("repro_check", *TINY, cwd=workdir)
    assert done.returncode == 1
    assert "uncommitted changes" in done.stderr
    assert "run 1: training failed with exit code 1" in done.stderr
    assert files_in(workdir / "models") == []


def test_repro_check_leaves_a_bad_option_to_the_first_training_to_name(workdir):
    done = command("repro_check", "--set", "epochs=-3", cwd=workdir)
    assert done.returncode == 1
    assert "epochs" in done.stderr
    assert "run 1: training failed with exit code 1" in done.stderr
    assert files_in(workdir / "models") == []


@pytest.mark.slow
def test_allow_dirty_trains_and_records_it(workdir):
    (workdir / "notes.txt").write_text("an idea\n", encoding="utf-8")
    done = command("train", *TINY, "--allow-dirty", cwd=workdir)
    assert done.returncode == 0, done.stderr
    (manifest_path,) = (workdir / "models").glob("*.json")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    assert manifest["git"]["dirty"] is True
    assert manifest["git"]["allow_dirty"] is True
    assert "?? notes.txt" in manifest["git"]["changes"]
    assert manifest_path.stem.endswith("-dirty")
    # Training it again needs the flag, and the change it was trained with.
    assert manifest["command"][-1] == "--allow-dirty"
    patch = manifest_path.with_suffix(".patch")
    assert f"saved {patch.relative_to(workdir)}: the uncommitted change" in done.stdout


@pytest.mark.slow
def test_allow_dirty_on_a_clean_tree_is_not_needed_to_train_it_again(workdir):
    done = command("train", *TINY, "--allow-dirty", cwd=workdir)
    assert done.returncode == 0, done.stderr
    (manifest_path,) = (workdir / "models").glob("*.json")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    assert manifest["git"]["dirty"] is False
    assert "--allow-dirty" not in manifest["command"]
    assert manifest["git"]["patch"] is None and ".patch" not in done.stdout


def test_a_label_column_the_data_lacks_is_named_with_the_columns_it_has(workdir):
    done = command("train", *TINY, "--set", 'data.label="kind"', cwd=workdir)
    assert done.returncode == 1
    assert f"{CONTRACT.path}, line 1: no column 'kind'; the columns are " in done.stderr
    assert "Traceback" not in done.stderr
    assert files_in(workdir / "models") == []


def test_an_uncommitted_change_that_git_cannot_record_is_refused_with_gits_reason(workdir):
    # A repository cloned into the project, with no commit yet: git add refuses it.
    (workdir / "cloned").mkdir()
    git(workdir / "cloned", "init", "--quiet")
    (workdir / "cloned" / "notes.txt").write_text("an idea\n", encoding="utf-8")
    done = command("train", *TINY, "--allow-dirty", cwd=workdir)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("train: error: cannot record the uncommitted change: ")
    assert "cloned/" in done.stderr
    assert files_in(workdir / "models") == []


def test_outputs_in_models_and_predictions_do_not_make_the_tree_dirty(workdir):
    for output in ("models/old.json", "predictions/old.csv"):
        (workdir / output).parent.mkdir()
        (workdir / output).write_text("{}", encoding="utf-8")
    state = provenance.git_state(workdir)
    assert state.commit == git(workdir, "rev-parse", "HEAD")
    assert state.dirty is False
    (workdir / "data" / "extra.csv").write_text("", encoding="utf-8")
    assert provenance.git_state(workdir).changes == ["?? data/extra.csv"]


@pytest.mark.slow
def test_training_outside_git_says_so_and_records_no_commit(workdir):
    import shutil

    shutil.rmtree(workdir / ".git")
    done = command("train", *TINY, cwd=workdir)
    assert done.returncode == 0, done.stderr
    assert "not in a git repository" in done.stderr
    (manifest_path,) = (workdir / "models").glob("*.json")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    assert manifest["git"]["commit"] is None
    assert manifest_path.stem.endswith("-nogit")


def test_without_git_installed_no_commit_is_recorded(workdir, monkeypatch):
    monkeypatch.setenv("PATH", "")
    state = provenance.git_state(workdir)
    assert (state.commit, state.dirty, state.note) == (None, None, "git was not found")


def test_console_script_behaves_like_the_module(workdir):
    script = Path(sys.executable).with_name(f"{PROJECT}-train")
    done = subprocess.run(
        [script, "--set", "epochs=0"],
        cwd=workdir,
        env=project_env(workdir, {"PYTHONHASHSEED": "random"}),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "epochs = 0: out of range" in done.stderr
    assert files_in(workdir / "models") == []


def test_unwritable_models_folder_is_refused_before_training(workdir):
    (workdir / "a-file").write_text("", encoding="utf-8")
    done = command("train", "--models-dir", "a-file/models", cwd=workdir)
    assert done.returncode == 1
    assert "cannot write into a-file/models: a-file is not a writable folder" in done.stderr
    assert "epoch" not in done.stdout
    assert files_in(workdir / "models") == []


@pytest.mark.slow
def test_a_full_disk_while_saving_leaves_no_file_behind(workdir):
    # POSIX: a limit on file size makes writes fail as a full disk does.
    resource = pytest.importorskip("resource")

    def small_files_only() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (2000, 2000))

    # Under the limit Python's own bytecode cache would be cut short, and the
    # next import would read a truncated file: only the model's files may meet it.
    quiet = {"PYTHONDONTWRITEBYTECODE": "1"}
    done = command("train", *TINY, cwd=workdir, env=quiet, preexec_fn=small_files_only)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "train: error: cannot write models/" in done.stderr
    # The system's words for the failure, not Python's error with its number.
    assert f": {os.strerror(errno.EFBIG)}; check that models is a writable folder" in done.stderr
    assert files_in(workdir / "models") == []


def test_model_files_get_the_permissions_of_any_new_file(trained):
    umask = os.umask(0)
    os.umask(umask)
    for path in (trained.manifest_path, trained.weights_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask, path


@pytest.mark.slow
def test_training_the_same_model_again_keeps_one_copy_and_never_overwrites_another(workdir):
    first = command("train", *TINY, cwd=workdir)
    second = command("train", *TINY, cwd=workdir)
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert len(files_in(workdir / "models")) == 2
    # A manifest under that name that cannot be read is not that model: kept.
    (manifest,) = (workdir / "models").glob("*.json")
    manifest.write_text("{}", encoding="utf-8")
    third = command("train", *TINY, cwd=workdir)
    assert third.returncode == 0, third.stderr
    assert manifest.read_text(encoding="utf-8") == "{}"
    assert (workdir / "models" / f"{manifest.stem}-2.json").is_file()
    # Nor is a weights file of other bytes without its manifest.
    shutil.rmtree(workdir / "models")
    (workdir / "models").mkdir()
    weights = workdir / "models" / f"{manifest.stem}{backends.load().WEIGHTS_SUFFIX}"
    weights.write_bytes(b"other bytes")
    fourth = command("train", *TINY, cwd=workdir)
    assert fourth.returncode == 0, fourth.stderr
    assert weights.read_bytes() == b"other bytes"
    assert (workdir / "models" / f"{manifest.stem}-2.json").is_file()


def test_manifest_is_written_with_sorted_keys_so_its_diffs_stay_small(trained):
    text = trained.manifest_path.read_text(encoding="utf-8")

    def sorted_pairs(pairs):
        assert [key for key, _ in pairs] == sorted(key for key, _ in pairs)
        return dict(pairs)

    json.loads(text, object_pairs_hook=sorted_pairs)
    assert text.startswith('{\n  "') and text.endswith("}\n")


def test_manifest_is_complete_and_its_checksums_match_the_files(trained):
    manifest = trained.manifest
    for field in artifacts.REQUIRED_FIELDS:
        value = manifest
        for part in field.split("."):
            value = value[part]
    commit = git(trained.folder, "rev-parse", "HEAD")
    assert manifest["git"] == {
        "commit": commit,
        "tree": git(trained.folder, "rev-parse", "HEAD^{tree}"),
        "dirty": False,
        "allow_dirty": False,
        "changes": [],
        "patch": None,
        "project_folder": "",
        "note": "",
    }
    for lock in ("requirements.txt", "requirements-dev.txt"):
        assert manifest["locks"][lock] == artifacts.sha256_file(trained.folder / lock)
    assert manifest["config_file"] == "configs/train.toml"
    assert manifest["data"]["file"] == CONTRACT.path
    assert manifest["weights"]["sha256"] == artifacts.sha256_file(trained.weights_path)
    assert manifest["data"]["sha256"] == artifacts.sha256_file(trained.folder / CONTRACT.path)
    assert manifest["overrides"] == {"epochs": 2, "hidden": 8}
    assert manifest["config"]["epochs"] == 2
    assert manifest["seed"] == manifest["config"]["seed"]
    assert manifest["framework"] == BACKEND.FRAMEWORK
    assert manifest["threads"]["OMP_NUM_THREADS"] == str(manifest["config"]["threads"])
    assert manifest["python"]["version"] == ".".join(map(str, sys.version_info[:3]))
    assert "numpy" in manifest["packages"]
    assert manifest["command"][-len(TINY) :] == list(TINY)
    assert manifest["started_at"] <= manifest["finished_at"]


def test_model_name_says_what_made_it(trained):
    commit = trained.manifest["git"]["commit"][:7]
    seed = trained.manifest["seed"]
    data_name = re.escape(Path(CONTRACT.path).stem)
    pattern = rf"{BACKEND.MODEL_KIND}-{data_name}-h8-lr[0-9.e-]+-ep2-bs\d+-t1-seed{seed}-{commit}"
    assert re.fullmatch(pattern + re.escape(BACKEND.WEIGHTS_SUFFIX), trained.weights_path.name)
    assert trained.manifest_path.name == trained.weights_path.stem + ".json"


def test_training_shows_progress_per_epoch(trained):
    assert re.search(r"epoch +1/2 +loss \d", trained.output)
    assert re.search(r"epoch +2/2 +loss \d", trained.output)


def test_tampered_dataset_is_refused(workdir):
    data = workdir / CONTRACT.path
    data.write_bytes(data.read_bytes() + data.read_bytes().splitlines(keepends=True)[1])
    git(workdir, "commit", "--quiet", "--all", "--no-verify", "--message", "Change the data")
    done = command("train", *TINY, cwd=workdir)
    assert done.returncode == 1
    assert f"data file {CONTRACT.path} does not match its checksum" in done.stderr
    assert files_in(workdir / "models") == []


def interrupt_training(workdir: Path, signum: int, when: str, *options: str):
    """Train, send a signal once a line starts with ``when``; return what train did."""
    process = subprocess.Popen(
        [sys.executable, "-m", f"{MODULE}.train", *options],
        cwd=workdir,
        env=project_env(workdir),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for line in process.stdout:
            if line.startswith(when):
                break
        process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=120)
    finally:
        process.kill()
    return process.returncode, stdout, stderr


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_training_leaves_no_file(workdir, signum):
    options = ("--set", "epochs=10000", "--set", "hidden=8")
    returncode, _, stderr = interrupt_training(workdir, signum, "epoch", *options)
    assert returncode == 128 + signum
    assert f"interrupted by {signal.Signals(signum).name}" in stderr
    assert "Traceback" not in stderr
    assert files_in(workdir / "models") == []


@pytest.mark.slow
def test_a_project_that_cannot_train_stops_its_tests_with_one_line_on_why(workdir):
    shutil.copytree(ROOT / "tests", workdir / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    data = workdir / CONTRACT.path
    data.write_bytes(data.read_bytes() + data.read_bytes().splitlines(keepends=True)[1])
    git(workdir, "add", "--all")
    git(workdir, "commit", "--quiet", "--no-verify", "--message", "Change the data")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_predict.py"],
        cwd=workdir,
        env=project_env(workdir),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1, done.stdout
    stop = "the project cannot train, so its tests cannot run: "
    assert done.stdout.count(stop) == 1, done.stdout
    assert f"data file {CONTRACT.path} does not match its checksum" in done.stdout
    # Stopped before any test ran, instead of an error in each test that needs a model.
    assert re.search(r"\d+ errors?\b", done.stdout) is None, done.stdout
    assert "no tests ran" in done.stdout


# A later edit whose loop carries on after Ctrl-C or SIGTERM, as some training
# loops do: the next epoch must stop it all the same.
SWALLOWS_SIGNALS = """

_training_loop = fit


def fit(model, x, y, config, rng, on_epoch):
    import time

    def after_a_pause(epoch, *rest):
        if epoch == 1:
            try:
                print("pausing", flush=True)
                time.sleep(60)
            except BaseException:
                pass
        on_epoch(epoch, *rest)

    return _training_loop(model, x, y, config, rng, after_a_pause)
"""


@pytest.mark.slow
def test_training_stops_at_the_next_epoch_when_its_loop_swallows_the_signal(workdir):
    backend = next((workdir / "src" / MODULE / "backends").glob("*_backend.py"))
    backend.write_text(backend.read_text(encoding="utf-8") + SWALLOWS_SIGNALS, encoding="utf-8")
    git(workdir, "commit", "--quiet", "--all", "--no-verify", "--message", "Swallow signals")
    options = (*TINY, "--set", "epochs=3")
    returncode, stdout, stderr = interrupt_training(workdir, signal.SIGTERM, "pausing", *options)
    assert returncode == 128 + signal.SIGTERM, stdout + stderr
    assert "interrupted by SIGTERM" in stderr
    assert "epoch " not in stdout
    assert "Traceback" not in stderr
    assert files_in(workdir / "models") == []
