"""The same seed gives the same draws from random, numpy and the framework; 0 is a seed."""

from __future__ import annotations

import random

import numpy as np
import pytest

from {{ cookiecutter.module_name }} import backends, data, seed

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
    zero, one = draws(0), draws(1)
    for source in zero:
        assert zero[source] != one[source], source


def test_split_depends_only_on_the_seed():
    train_a, test_a = data.split(100, 7)
    train_b, test_b = data.split(100, 7)
    assert train_a.tolist() == train_b.tolist()
    assert test_a.tolist() == test_b.tolist()
    assert sorted([*train_a, *test_a]) == list(range(100))
    assert len(test_a) == 25
    assert data.split(100, 8)[1].tolist() != test_a.tolist()


def test_hash_seed_is_fixed_in_every_command(trained):
    # The tests may run under any PYTHONHASHSEED; the commands fix their own.
    python = trained.manifest["python"]
    assert python["hash_seed"] == seed.HASH_SEED
    assert isinstance(python["hash_probe"], int)
