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
        (base_config(seed="9" * 400), ["seed = 9999", "out of range"]),
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
        "whole-number-beyond-float",
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
        ("seed=" + "9" * 400, ["seed = 9999", "out of range"]),
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


def refused(**changes) -> str:
    """The one line config.check gives for the project's own config with ``changes``."""
    values = {**config.load(ROOT / "configs" / "train.toml", [], SETTINGS)[0], **changes}
    with pytest.raises(ProjectError) as caught:
        config.check(values, SETTINGS, "here")
    return str(caught.value)


SHARE = "out of range: use a number from 0.01 to 0.9"


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("seed", -1, "seed = -1: out of range: use a whole number from 0 to 4294967295"),
        ("seed", 2**32, "seed = 4294967296: out of range: use a whole number from 0 to 4294967295"),
        ("threads", 0, "threads = 0: out of range: use a whole number from 1 to 256"),
        ("threads", 257, "threads = 257: out of range: use a whole number from 1 to 256"),
        ("threads", 2.0, "threads = 2.0: use a whole number from 1 to 256 (no decimal point)"),
        ("threads", True, "threads = True: use a whole number from 1 to 256"),
        ("data.test_fraction", 0.009, "data.test_fraction = 0.009: " + SHARE),
        ("data.test_fraction", 0.91, "data.test_fraction = 0.91: " + SHARE),
        ("data.test_fraction", float("nan"), "data.test_fraction = nan: " + SHARE),
        # Too large for a float: cut to 80 characters in the message.
        ("data.test_fraction", 10**400, f"data.test_fraction = 1{'0' * 76}...: " + SHARE),
        ("portable", "yes", "portable = 'yes': use true or false (without quotes)"),
        ("data.task", "rank", 'data.task = \'rank\': use one of "classification", "regression"'),
        ("data.label", "a\nb", "data.label = 'a\\nb': use a quoted text on one line"),
        ("data.label", " ", "data.label = ' ': use a quoted text, not an empty one"),
        ("data.id", 5, "data.id = 5: use a quoted text (empty for none) on one line"),
        ("data.features", ["a", "a"], "data.features = ['a', 'a']: a column is named twice"),
        ("data.features", ["a", ""], "data.features = ['a', '']: use a list of column names, "),
        ("data.features", "a", "data.features = 'a': use a list of column names, "),
    ],
)
def test_each_kind_of_key_says_exactly_what_it_allows(key, value, words):
    assert refused(**{key: value}).startswith(f"here: {words}")


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("seed", 0),
        ("seed", 2**32 - 1),
        ("threads", 256),
        ("data.test_fraction", 0.01),
        ("data.test_fraction", 0.9),
        ("data.id", ""),
        ("data.features", []),
    ],
)
def test_the_edges_of_each_range_are_allowed(tmp_path, key, value):
    values = {**config.load(ROOT / "configs" / "train.toml", [], SETTINGS)[0], key: value}
    assert config.check(values, SETTINGS, "here")[key] == value


def test_a_missing_key_is_named_with_what_it_is_for():
    values = config.load(ROOT / "configs" / "train.toml", [], SETTINGS)[0]
    del values["seed"], values["data.missing"]
    with pytest.raises(ProjectError) as caught:
        config.check(values, SETTINGS, "here")
    assert str(caught.value) == (
        f"here: missing key 'seed' (the seed of every random generator); valid keys: {VALID}"
    )


def test_of_several_unknown_keys_the_first_in_order_is_named():
    values = {**config.load(ROOT / "configs" / "train.toml", [], SETTINGS)[0], "zeta": 1, "beta": 2}
    with pytest.raises(ProjectError) as caught:
        config.check(values, SETTINGS, "here")
    assert str(caught.value) == f"here: unknown key 'beta'; valid keys: {VALID}"


def test_a_long_value_is_cut_in_the_message_and_a_huge_number_is_described():
    assert refused(seed="x" * 100).startswith(f"here: seed = '{'x' * 76}...: use a whole number")
    assert refused(seed="x" * 78).startswith(f"here: seed = '{'x' * 78}': use")
    assert refused(seed="x" * 79).startswith(f"here: seed = '{'x' * 76}...: use")
    assert refused(seed=10**5000).startswith(
        "here: seed = a number with thousands of digits: out of range"
    )


@pytest.mark.parametrize("content", [None, b"seed = 1\n\xff\n"], ids=["folder", "not-utf8"])
def test_a_config_file_that_cannot_be_read_is_named(tmp_path, content):
    path = tmp_path / "train.toml"
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    with pytest.raises(ProjectError) as caught:
        config.load(path, [], SETTINGS)
    assert str(caught.value).startswith(f"config file {path} cannot be read: ")


def test_an_override_without_a_key_is_refused_with_an_example(tmp_path):
    path = write_config(tmp_path, base_config())
    for override in ("=5", " =5", "epochs"):
        with pytest.raises(ProjectError) as caught:
            config.load(path, [override], SETTINGS)
        assert str(caught.value) == (
            f"--set {override!r}: use KEY=VALUE, for example --set epochs=5; valid keys: {VALID}"
        )


def test_a_file_name_shows_floats_in_short_form_and_whole_numbers_in_full():
    lr, seed = SETTINGS["lr"], SETTINGS["seed"]
    assert lr.name_part(0.1 + 0.2) == "lr0.3"
    assert seed.name_part(2**32 - 1) == "seed4294967295"
