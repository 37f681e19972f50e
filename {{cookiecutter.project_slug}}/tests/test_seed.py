"""The same seed gives the same draws from random, numpy and the framework; 0 is a seed."""

from __future__ import annotations

import os
import random
import subprocess
import sys

import numpy as np
import pytest

from {{ cookiecutter.module_name }} import backends, data, provenance, seed

BACKEND = backends.load()


def draws(seed_value: int) -> dict[str, list[float]]:
    rng, _ = seed.seed_everything(seed_value, 1, BACKEND)
    return {
        "random": [random.random() for _ in range(3)],
        "numpy": np.random.random(3).tolist(),
        "generator": rng.random(3).tolist(),
        "framework": BACKEND.random_draws(3),
    }


@pytest.mark.parametrize("seed_value", [0, 42, 2**32 - 1])
def test_same_seed_gives_same_draws_from_every_generator(seed_value):
    assert draws(seed_value) == draws(seed_value)


def test_seed_zero_is_a_seed_not_a_missing_value():
    zero, again, one = draws(0), draws(0), draws(1)
    assert zero == again
    for source in zero:
        assert zero[source] != one[source], source
    # The very draws seed 0 gives on its own, not draws left unseeded.
    python = random.Random(0)
    assert zero["random"] == [python.random() for _ in range(3)]
    assert zero["numpy"] == np.random.RandomState(0).random_sample(3).tolist()


def test_split_depends_only_on_the_seed_and_keeps_each_class_share():
    labels = np.arange(100) % 4
    train_a, test_a = data.split(labels, 7, 0.25)
    train_b, test_b = data.split(labels, 7, 0.25)
    assert train_a.tolist() == train_b.tolist()
    assert test_a.tolist() == test_b.tolist()
    assert sorted([*train_a, *test_a]) == list(range(100))
    assert np.bincount(labels[test_a]).tolist() == [6, 6, 6, 6]
    assert data.split(labels, 8, 0.25)[1].tolist() != test_a.tolist()


def test_the_split_and_training_draw_from_independent_streams():
    split = np.random.default_rng(seed.stream(0, seed.SPLIT_STREAM)).random(4)
    training = np.random.default_rng(seed.stream(0, seed.TRAINING_STREAM)).random(4)
    assert split.tolist() != training.tolist()


def test_starting_again_without_exec_exits_as_the_new_process_did():
    # Windows has no exec: the command runs, and this process exits with its code.
    fails = [sys.executable, "-c", "raise SystemExit(3)"]
    with pytest.raises(SystemExit) as stop:
        seed.start_again(fails, dict(os.environ), replace=False)
    assert stop.value.code == 3


def test_split_of_values_holds_out_the_share_asked_for():
    values = np.linspace(0.0, 1.0, 40)
    train, test = data.split(values, 0, 0.2)
    assert len(test) == 8 and len(train) == 32
    assert data.split(values, 0, 0.2)[1].tolist() == test.tolist()


def test_commands_fix_hash_seed_and_threads_whatever_the_shell_says(trained):
    # The model was trained from a shell with PYTHONHASHSEED=random and 4 OpenMP threads.
    manifest = trained.manifest
    assert manifest["python"]["hash_seed"] == seed.HASH_SEED
    assert manifest["threads"]["OMP_NUM_THREADS"] == str(manifest["config"]["threads"])
    probe = subprocess.run(
        [sys.executable, "-c", f"print(hash({provenance.HASH_PROBE!r}))"],
        env={**os.environ, "PYTHONHASHSEED": seed.HASH_SEED},
        capture_output=True,
        text=True,
        check=True,
    )
    assert manifest["python"]["hash_probe"] == int(probe.stdout)
