"""Config errors name the key and list the valid ones; overrides are checked the same way."""

from __future__ import annotations

import pytest

from {{ cookiecutter.module_name }} import backends, config
from {{ cookiecutter.module_name }}.errors import ProjectError

from conftest import ROOT, command, files_in

SETTINGS = config.schema(backends.load().HYPERPARAMETERS)
# The project's own data contract, kept as it is in every config below.
CONFIG_TEXT = (ROOT / "configs" / "train.toml").read_text(encoding="utf-8")
DATA_TABLE = CONFIG_TEXT[CONFIG_TEXT.index("[data]") :]
VALID = ", ".join(sorted(SETTINGS))


def write_config(folder, text):
    path = folder / "train.toml"
    path.write_text(text, encoding="utf-8")
    return path


def base_config(**changes) -> str:
    values = {
        "seed": 42,
        "threads": 1,
        "portable": "true",
        "hidden": 8,
        "lr": 0.01,
        "epochs": 2,
        "batch_size": 32,
    }
    values.update(changes)
    top = "".join(f"{key} = {value}\n" for key, value in values.items())
    return top + "\n" + DATA_TABLE


def test_seed_zero_is_kept(tmp_path):
    cfg, overrides = config.load(write_config(tmp_path, base_config(seed=0)), [], SETTINGS)
    assert cfg["seed"] == 0
    assert overrides == {}


def test_overrides_change_the_config_and_are_returned_alone(tmp_path):
    path = write_config(tmp_path, base_config())
    cfg, overrides = config.load(path, ["epochs=5", "lr=1e-3", "seed=0"], SETTINGS)
    assert overrides == {"epochs": 5, "lr": 0.001, "seed": 0}
    assert cfg["epochs"] == 5
    assert cfg["hidden"] == 8


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("epoch = 3\n" + base_config(), ["unknown key 'epoch'", VALID]),
        (base_config(epochs=-1), ["epochs = -1", "out of range"]),
        (base_config(seed=1.5), ["seed = 1.5", "whole number"]),
        (base_config(seed='"abc"'), ["seed = 'abc'", "whole number"]),
        (base_config(lr="true"), ["lr = True", "a number"]),
        (base_config(portable='"yes"'), ["portable = 'yes'", "true or false"]),
        (
            base_config() + "extra = 1\n",
            ["unknown key 'data.extra'", "data.missing"],
        ),
        ("seed = 1\n", ["missing key", VALID]),
        ("seed = = 1\n", ["not valid TOML"]),
        (base_config(seed="9" * 5000), ["thousands of digits"]),
        (base_config(lr="1" * 400), ["lr = 1111", "out of range"]),
        (base_config(lr="1e400"), ["lr = inf", "out of range"]),
    ],
    ids=[
        "unknown",
        "negative",
        "float-seed",
        "text-seed",
        "bool",
        "text-flag",
        "unknown-data-key",
        "missing",
        "syntax",
        "int-beyond-str-limit",
        "int-beyond-float",
        "float-overflow",
    ],
)
def test_bad_config_file_is_refused_naming_the_file_and_key(tmp_path, text, words):
    path = write_config(tmp_path, text)
    with pytest.raises(ProjectError) as caught:
        config.load(path, [], SETTINGS)
    message = str(caught.value)
    assert str(path) in message
    for word in words:
        assert word in message


@pytest.mark.parametrize(
    ("override", "words"),
    [
        ("epochs=-3", ["--set 'epochs=-3'", "out of range"]),
        ("seed=abc", ["seed = 'abc'", "whole number"]),
        ("colour=red", ["unknown key 'colour'", VALID]),
        ("data.missing=sometimes", ["data.missing = 'sometimes'", '"refuse", "drop", "impute"']),
        ("data.features=pixel", ["data.features = 'pixel'", "a list of column names"]),
        ("data.task=ranking", ['"classification", "regression"']),
        ("epochs", ["KEY=VALUE", VALID]),
        ("seed=" + "9" * 5000, ["seed = '9999", "whole number"]),
        ("lr=" + "1" * 400, ["lr = 1111", "out of range"]),
        ("lr=1e400", ["lr = inf", "out of range"]),
    ],
)
def test_bad_override_is_refused_by_train_and_leaves_nothing(workdir, override, words):
    done = command("train", "--set", override, cwd=workdir)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    for word in words:
        assert word in done.stderr
    assert files_in(workdir / "models") == []


def test_missing_config_file_is_named(workdir):
    done = command("train", "--config", "configs/nope.toml", cwd=workdir)
    assert done.returncode == 1
    assert "config file configs/nope.toml not found" in done.stderr
    assert files_in(workdir / "models") == []
