"""From a table to what the model sees, and back: the missing-value policy, class
numbers, the scaling learned on the training rows, the manifest record, the
held-out metrics and loss.  Every expected number is worked out by hand."""

from __future__ import annotations

import dataclasses
import itertools
import json
import math

import numpy as np
import pytest

from {{ cookiecutter.module_name }} import data
from {{ cookiecutter.module_name }}.errors import ProjectError
from {{ cookiecutter.module_name }}.preprocess import (
    Examples,
    Preprocessing,
    examples,
    headline,
    held_out_loss,
    metrics,
    rows_of,
)

from conftest import TINY, command, files_in

CONTRACT = data.Contract("x.csv", "label", (), "", "classification", 0.25, "refuse")
# Line 3 has an empty cell (column b), line 4 an empty label.
GAPS = "a,b,label\n1,2,x\n3,,y\n5,6,\n7,8,y\n9,10,x\n"


def table(text: str, **options) -> data.Table:
    need_label = options.pop("need_label", True)
    return data.read_table(text.encode(), "x.csv", CONTRACT, need_label=need_label)


def prepared(text: str, missing: str = "refuse", task: str = "classification") -> Examples:
    contract = dataclasses.replace(CONTRACT, missing=missing, task=task)
    return examples(table(text), contract)


def refusal(text: str, missing: str = "refuse", task: str = "classification") -> str:
    with pytest.raises(ProjectError) as caught:
        prepared(text, missing, task)
    return str(caught.value)


# --- the missing-value policy and the labels ----------------------------------------


def test_refuse_names_the_line_of_the_first_empty_label_and_the_drop_fix():
    text = "a,b,label\n1,2,x\n3,4,\n5,6,y\n7,8,\n"
    assert refusal(text) == (
        "x.csv, line 3, column 'label': the label is empty; "
        'fill it, or set data.missing = "drop" in configs/train.toml'
    )


def test_refuse_names_the_first_empty_cell_and_the_drop_and_impute_fixes():
    text = "a,b,label\n1,2,x\n3,,y\n5,6,y\n,8,x\n"
    assert refusal(text) == (
        "x.csv, line 3, column 'b': the cell is empty; fill it, or set "
        'data.missing = "drop" or "impute" in configs/train.toml'
    )


def test_an_empty_label_is_refused_before_an_empty_cell_on_an_earlier_line():
    assert refusal(GAPS).startswith("x.csv, line 4, column 'label': the label is empty;")


def test_drop_leaves_out_rows_with_an_empty_cell_or_label_and_counts_them():
    got = prepared(GAPS, "drop")
    assert got.table.lines.tolist() == [2, 5, 6]
    assert got.table.ids.tolist() == ["2", "5", "6"]
    assert got.table.x.tolist() == [[1.0, 2.0], [7.0, 8.0], [9.0, 10.0]]
    assert got.table.labels.tolist() == ["x", "y", "x"]
    assert got.table.features == ["a", "b"]
    assert got.table.source == "x.csv"
    assert got.classes == ["x", "y"]
    assert got.targets.dtype == np.int64
    assert got.targets.tolist() == [0, 1, 0]
    assert got.dropped == 2


def test_impute_keeps_rows_with_an_empty_cell_but_leaves_out_an_empty_label():
    got = prepared(GAPS, "impute")
    assert got.table.lines.tolist() == [2, 3, 5, 6]
    assert np.array_equal(
        got.table.x, [[1.0, 2.0], [3.0, np.nan], [7.0, 8.0], [9.0, 10.0]], equal_nan=True
    )
    assert got.targets.tolist() == [0, 1, 1, 0]
    assert got.dropped == 1


def test_refuse_keeps_every_row_when_nothing_is_empty():
    got = prepared("a,label\n1,x\n2,y\n3,x\n")
    assert got.table.lines.tolist() == [2, 3, 4]
    assert got.targets.tolist() == [0, 1, 0]
    assert got.dropped == 0


def test_one_row_left_is_refused_and_two_rows_left_are_enough():
    one = "a,label\n1,x\n,y\n,x\n"
    assert refusal(one, "drop") == "x.csv: fewer than 2 rows are left to learn from"
    two = "a,label\n1,x\n,y\n2,y\n"
    assert prepared(two, "drop").targets.tolist() == [0, 1]


def test_no_row_left_is_refused():
    assert refusal("a,label\n,x\n,y\n", "drop") == (
        "x.csv: fewer than 2 rows are left to learn from"
    )


def test_a_label_with_one_value_is_refused_naming_it_and_two_values_are_enough():
    assert refusal("a,label\n1,x\n2,x\n3,x\n") == (
        "x.csv: the label 'label' has one value only ('x'); a classifier needs two or more"
    )
    assert prepared("a,label\n1,x\n2,w\n3,x\n").classes == ["w", "x"]


def test_one_value_left_after_dropping_is_refused_for_a_classifier():
    assert refusal("a,label\n1,x\n,w\n3,x\n", "drop") == (
        "x.csv: the label 'label' has one value only ('x'); a classifier needs two or more"
    )


def test_class_numbers_follow_the_classes_in_numeric_order():
    got = prepared("a,label\n1,10\n2,2\n3,2\n4,10\n5,9\n")
    assert got.classes == ["2", "9", "10"]
    assert got.targets.tolist() == [2, 0, 0, 2, 1]


def test_regression_targets_are_the_label_values_with_empty_labels_dropped():
    got = prepared("a,label\n1,1.5\n2,\n3,-2\n4,1e1\n", "drop", "regression")
    assert got.classes is None
    assert got.targets.dtype == np.float64
    assert got.targets.tolist() == [1.5, -2.0, 10.0]
    assert got.table.lines.tolist() == [2, 4, 5]
    assert got.dropped == 1


def test_a_regression_target_with_one_value_is_accepted():
    got = prepared("a,label\n1,4\n2,4\n", task="regression")
    assert got.targets.tolist() == [4.0, 4.0]
    assert got.classes is None
    assert got.dropped == 0


def test_rows_of_a_table_without_labels_keeps_no_labels_and_the_chosen_rows():
    rows = rows_of(table("a,b\n1,2\n3,\n5,6\n", need_label=False), np.array([True, False, True]))
    assert rows.labels is None
    assert rows.x.tolist() == [[1.0, 2.0], [5.0, 6.0]]
    assert rows.ids.tolist() == ["2", "4"]
    assert rows.lines.tolist() == [2, 4]
    assert rows.features == ["a", "b"]


# --- the steps learned on the training rows -------------------------------------------

NAN = math.nan
# Column a: 1, 3 and a gap (mean 2); b: 2, 8 and a gap (mean 5); c: constant;
# d: every cell empty.
TRAINING = np.array(
    [
        [1.0, NAN, 5.0, NAN],
        [3.0, 2.0, 5.0, NAN],
        [NAN, 8.0, 5.0, NAN],
    ]
)


def test_fit_fills_with_the_column_mean_or_zero_and_scales_by_the_filled_spread():
    prep = Preprocessing.fit(TRAINING, ("a", "b", "c", "d"), ["x", "y"], np.array([0, 1, 0]))
    assert prep.features == ["a", "b", "c", "d"]
    assert prep.fill == [2.0, 5.0, 5.0, 0.0]
    assert prep.center == [2.0, 5.0, 5.0, 0.0]
    # Filled a = 1, 3, 2: spread sqrt(2/3); filled b = 5, 2, 8: spread sqrt(6);
    # c and d do not vary, and are scaled by 1.
    assert prep.scale == pytest.approx([math.sqrt(2 / 3), math.sqrt(6), 1.0, 1.0], rel=1e-12)
    assert prep.scale[2:] == [1.0, 1.0]
    assert prep.classes == ["x", "y"]
    assert prep.target is None


def test_fit_for_regression_centres_and_scales_the_target_by_its_mean_and_spread():
    prep = Preprocessing.fit(TRAINING, ("a", "b", "c", "d"), None, np.array([1.0, 2.0, 6.0]))
    assert prep.classes is None
    assert prep.target["center"] == 3.0
    assert prep.target["scale"] == pytest.approx(math.sqrt(14 / 3), rel=1e-12)
    assert set(prep.target) == {"center", "scale"}


def test_fit_scales_a_constant_regression_target_by_one():
    prep = Preprocessing.fit(TRAINING, ("a", "b", "c", "d"), None, np.array([4.0, 4.0, 4.0]))
    assert prep.target == {"center": 4.0, "scale": 1.0}


def prep_of(classes=None, target=None) -> Preprocessing:
    return Preprocessing(["a", "b"], [2.0, 5.0], [1.0, 4.0], [2.0, 0.5], classes, target)


def test_inputs_fill_empty_cells_then_subtract_the_centre_and_divide_by_the_scale():
    x = np.array([[3.0, NAN], [NAN, 6.0], [-1.0, 4.5]])
    # Filled: [3, 5], [2, 6], [-1, 4.5]; then (x - [1, 4]) / [2, 0.5].
    assert prep_of(["x", "y"]).inputs(x).tolist() == [[1.0, 2.0], [0.5, 4.0], [-1.0, 1.0]]


def test_n_outputs_is_one_for_a_value_and_the_class_count_for_classes():
    assert prep_of(None, {"center": 0.0, "scale": 1.0}).n_outputs == 1
    assert prep_of(["x", "y", "z"]).n_outputs == 3


def test_model_targets_scale_a_regression_target_and_leave_class_numbers_alone():
    classes = np.array([1, 0, 1])
    assert prep_of(["x", "y"]).model_targets(classes) is classes
    regression = prep_of(None, {"center": 3.0, "scale": 2.0})
    assert regression.model_targets(np.array([1.0, 7.0, 4.0])).tolist() == [-1.0, 2.0, 0.5]


def test_outputs_of_a_regression_are_the_scores_scaled_back_as_text_and_no_probabilities():
    prep = prep_of(None, {"center": 3.0, "scale": 2.0})
    names, probabilities = prep.outputs(np.array([-1.0, 0.25, 2.0]))
    assert names == ["1.0", "3.5", "7.0"]
    assert probabilities is None
    assert prep.values(np.array([-1.0, 0.25, 2.0])).tolist() == [1.0, 3.5, 7.0]


def test_outputs_of_a_classifier_are_the_most_likely_class_and_the_scores():
    scores = np.array([[0.1, 0.7, 0.2], [0.5, 0.2, 0.3], [0.1, 0.3, 0.6], [0.2, 0.5, 0.3]])
    names, probabilities = prep_of(["x", "y", "z"]).outputs(scores)
    assert names == ["y", "x", "z", "y"]
    assert probabilities is scores


# --- the manifest record --------------------------------------------------------------


def test_the_record_holds_every_step_and_reads_back_to_the_same_steps():
    prep = prep_of(None, {"center": 3.0, "scale": 2.0})
    record = prep.record()
    assert record == {
        "features": ["a", "b"],
        "fill": [2.0, 5.0],
        "center": [1.0, 4.0],
        "scale": [2.0, 0.5],
        "classes": None,
        "target": {"center": 3.0, "scale": 2.0},
    }
    assert Preprocessing.from_record({**record, "other": 1}, "manifest m.json") == prep


INCOMPLETE = "manifest m.json: its preprocessing record is incomplete; retrain: make train"


def record_refusal(record) -> str:
    with pytest.raises(ProjectError) as caught:
        Preprocessing.from_record(record, "manifest m.json")
    return str(caught.value)


@pytest.mark.parametrize("key", ["features", "fill", "center", "scale", "classes", "target"])
def test_a_record_without_a_key_is_refused_as_incomplete(key):
    record = prep_of(["x", "y"]).record()
    del record[key]
    assert record_refusal(record) == INCOMPLETE


def test_a_record_with_a_number_for_a_list_is_refused_as_incomplete():
    record = {**prep_of(["x", "y"]).record(), "scale": 2.0}
    assert record_refusal(record) == INCOMPLETE


@pytest.mark.parametrize("target", [None, dict(center=3.0)])
def test_a_record_of_a_value_without_its_target_scaling_is_refused_as_incomplete(target):
    record = {**prep_of(None, dict(center=3.0, scale=2.0)).record(), "target": target}
    assert record_refusal(record) == INCOMPLETE


LISTS = ("features", "fill", "center", "scale")


@pytest.mark.parametrize(
    "longer",
    [group for size in range(1, len(LISTS)) for group in itertools.combinations(LISTS, size)],
)
def test_a_record_whose_lists_differ_in_length_is_refused_as_incomplete(longer):
    record = prep_of(["x", "y"]).record()
    for key in longer:
        record[key] = [*record[key], record[key][0]]
    assert record_refusal(record) == INCOMPLETE


# --- how the model does on the held-out rows --------------------------------------------


def scores_for(predicted: list[int], size: int) -> np.ndarray:
    """Probabilities whose most likely class is the one given, row by row."""
    scores = np.full((len(predicted), size), 0.1)
    scores[np.arange(len(predicted)), predicted] = 1 - 0.1 * (size - 1)
    return scores


def test_classification_metrics_match_a_confusion_matrix_worked_out_by_hand():
    prep = prep_of(["a", "b", "c", "d"])
    targets = np.array([0, 0, 0, 1, 1, 2])
    # True a: a, a, b; true b: b, a; true c: a; d is neither present nor predicted.
    measured = metrics(prep, scores_for([0, 0, 1, 1, 0, 0], 4), targets)
    assert measured["confusion_matrix"] == [
        [2, 1, 0, 0],
        [1, 1, 0, 0],
        [1, 0, 0, 0],
        [0, 0, 0, 0],
    ]
    # Precision = hits / column sum, recall = hits / row sum, 0 where there is no hit.
    expected = {
        "a": {"precision": 2 / 4, "recall": 2 / 3, "f1": 4 / 7, "support": 3},
        "b": {"precision": 1 / 2, "recall": 1 / 2, "f1": 1 / 2, "support": 2},
        "c": {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1},
        "d": {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0},
    }
    assert list(measured["per_class"]) == ["a", "b", "c", "d"]
    for name, values in expected.items():
        assert measured["per_class"][name] == pytest.approx(values, rel=1e-12), name
    assert measured["test_accuracy"] == 3 / 6
    assert measured["macro_precision"] == pytest.approx(1 / 4, rel=1e-12)
    assert measured["macro_recall"] == pytest.approx(7 / 24, rel=1e-12)
    assert measured["macro_f1"] == pytest.approx(15 / 56, rel=1e-12)
    assert set(measured) == {
        "test_accuracy",
        "macro_precision",
        "macro_recall",
        "macro_f1",
        "per_class",
        "confusion_matrix",
    }


def test_accuracy_of_one_right_row_is_one_and_of_no_row_is_zero():
    prep = prep_of(["a", "b"])
    one = metrics(prep, np.array([[0.2, 0.8]]), np.array([1]))
    assert one["test_accuracy"] == 1.0
    assert one["per_class"]["b"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1}
    none = metrics(prep, np.zeros((0, 2)), np.zeros(0, dtype=np.int64))
    assert none["test_accuracy"] == 0.0
    assert none["confusion_matrix"] == [[0, 0], [0, 0]]
    assert [none["macro_precision"], none["macro_recall"], none["macro_f1"]] == [0.0] * 3


def test_regression_metrics_are_in_the_targets_units_worked_out_by_hand():
    prep = prep_of(None, {"center": 10.0, "scale": 2.0})
    # Values 10, 12, 8, 11 against 10, 11, 10, 13: errors 0, 1, -2, -2; the
    # targets' mean is 11, their squared deviations sum to 6.
    measured = metrics(prep, np.array([0.0, 1.0, -1.0, 0.5]), np.array([10.0, 11.0, 10.0, 13.0]))
    assert measured == {"rmse": 1.5, "mae": 1.25, "r2": -0.5}


def test_r2_with_a_target_spread_under_one_divides_by_that_spread():
    prep = prep_of(None, {"center": 0.0, "scale": 1.0})
    # Errors 0 and -0.5; the targets 0 and 1 deviate from 0.5 by 0.25 squared each.
    measured = metrics(prep, np.array([0.0, 0.5]), np.array([0.0, 1.0]))
    assert measured["r2"] == 1 - 0.25 / 0.5
    assert measured["rmse"] == pytest.approx(math.sqrt(0.125), rel=1e-12)
    assert measured["mae"] == 0.25


def test_r2_of_constant_targets_is_zero():
    prep = prep_of(None, {"center": 5.0, "scale": 1.0})
    measured = metrics(prep, np.array([0.0, 1.0]), np.array([5.0, 5.0]))
    assert measured["r2"] == 0.0
    assert measured["mae"] == 0.5


def test_headline_keeps_the_single_numbers_only():
    measured = {
        "test_accuracy": 0.5,
        "per_class": {"a": dict(precision=0.5)},
        "confusion_matrix": [[1, 0], [0, 1]],
        "count": 3,
        "macro_f1": 0.25,
    }
    assert headline(measured) == {"test_accuracy": 0.5, "macro_f1": 0.25}


def test_held_out_loss_of_classes_is_the_cross_entropy_with_zero_taken_as_1e_12():
    prep = prep_of(["a", "b", "c"])
    scores = np.array([[0.5, 0.5, 0.0], [0.2, 0.0, 0.8], [0.25, 0.75, 0.0]])
    # The chosen probabilities are 0.5, 0 (counted as 1e-12) and 0.75.
    expected = (math.log(2) + 12 * math.log(10) + math.log(4 / 3)) / 3
    assert held_out_loss(prep, scores, np.array([0, 1, 1])) == pytest.approx(expected, rel=1e-12)


def test_held_out_loss_of_a_value_is_the_mean_squared_error_of_the_scaled_target():
    prep = prep_of(None, {"center": 10.0, "scale": 2.0})
    loss = held_out_loss(prep, np.array([1.0, 2.0, 4.0]), np.array([1.0, 0.0, 1.0]))
    assert loss == 13 / 3


# --- the train command ----------------------------------------------------------------


def test_train_refuses_an_empty_label_naming_its_line_and_writes_no_model(workdir):
    text = "a,b,label\n1,2,x\n3,4,y\n5,6,\n7,8,x\n"
    (workdir / "data" / "gaps.csv").write_text(text, encoding="utf-8")
    checksum = workdir / "data" / "gaps.csv.sha256"
    checksum.write_text(data.sha256_bytes(text.encode()), encoding="utf-8")
    # The whole contract is set here: the project's own may name other columns.
    contract = {
        "path": '"data/gaps.csv"',
        "label": '"label"',
        "features": "[]",
        "id": '""',
        "task": '"classification"',
        "missing": '"refuse"',
    }
    overrides = [
        part for key, value in contract.items() for part in ("--set", f"data.{key}={value}")
    ]
    done = command("train", *TINY, "--allow-dirty", *overrides, cwd=workdir)
    assert done.returncode == 1
    assert (
        "data/gaps.csv, line 4, column 'label': the label is empty; "
        'fill it, or set data.missing = "drop" in configs/train.toml'
    ) in done.stderr
    assert files_in(workdir / "models") == []


@pytest.mark.slow
def test_predict_refuses_a_manifest_whose_preprocessing_lacks_a_step(trained, tmp_path):
    broken = trained.copy_to(tmp_path / "broken")
    manifest = broken.manifest
    del manifest["preprocessing"]["scale"]
    broken.manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    output = tmp_path / "p.csv"
    options = ("--model", str(broken.manifest_path), "--output", str(output))
    done = command("predict", *options, cwd=broken.folder)
    assert done.returncode == 1
    assert (
        f"manifest {broken.manifest_path}: its preprocessing record is incomplete; "
        "retrain: make train"
    ) in done.stderr
    assert not output.exists()
