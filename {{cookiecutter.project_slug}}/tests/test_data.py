"""Reading data by the contract: each refusal names the file, line and column and
the fix; the fast reader and the precise one give the same table; the split and
the training statistics are what the manifest says they are."""

from __future__ import annotations

import dataclasses
import hashlib
import math

import numpy as np
import pytest

from {{ cookiecutter.module_name }} import data
from {{ cookiecutter.module_name }}.errors import ProjectError

CONTRACT = data.Contract("x.csv", "label", (), "", "classification", 0.25, "refuse")


def read(raw: str | bytes, contract: data.Contract = CONTRACT, **options) -> data.Table:
    raw = raw.encode() if isinstance(raw, str) else raw
    need_label = options.pop("need_label", True)
    return data.read_table(raw, "x.csv", contract, need_label=need_label, **options)


def refusal(raw: str | bytes, contract: data.Contract = CONTRACT, **options) -> str:
    with pytest.raises(ProjectError) as caught:
        read(raw, contract, **options)
    return str(caught.value)


def fast(text: str, contract: data.Contract = CONTRACT) -> data.Table | None:
    """The fast reader's table, or None where it hands the file to the precise reader."""
    header = data.header_of(text.split("\n", 1)[0], "x.csv")
    wanted = data.feature_columns(header, contract)
    has_label = contract.label in header
    return data._fast(text.encode(), header, wanted, contract, has_label, "x.csv")


def precise(text: str, contract: data.Contract = CONTRACT) -> data.Table:
    header = data.header_of(text.split("\n", 1)[0], "x.csv")
    wanted = data.feature_columns(header, contract)
    return data._precise(text, header, wanted, contract, contract.label in header, "x.csv")


def same_table(a: data.Table, b: data.Table) -> bool:
    return (
        a.features == b.features
        and np.array_equal(a.x, b.x, equal_nan=True)
        and (a.labels is None) == (b.labels is None)
        and (a.labels is None or a.labels.tolist() == b.labels.tolist())
        and a.ids.tolist() == b.ids.tolist()
        and a.lines.tolist() == b.lines.tolist()
    )


# --- the file and its checksum -------------------------------------------------------


def registered(folder, content: bytes, recorded: str | None = None):
    path = folder / "x.csv"
    path.write_bytes(content)
    digest = hashlib.sha256(content).hexdigest() if recorded is None else recorded
    path.with_name("x.csv.sha256").write_text(digest, encoding="utf-8")
    return path


def test_a_file_is_read_when_it_matches_its_checksum_in_any_case_and_with_its_name(tmp_path):
    content = b"a,label\n1,x\n"
    path = registered(tmp_path, content, hashlib.sha256(content).hexdigest().upper() + "  x.csv\n")
    assert data.read_verified(path) == content


def test_a_missing_or_unreadable_file_is_refused_saying_how_to_get_it_back(tmp_path):
    path = tmp_path / "x.csv"
    with pytest.raises(ProjectError) as caught:
        data.read_verified(path)
    assert str(caught.value) == (
        f"data file {path} not found; if git tracks it, restore it (git checkout -- {path}); "
        "if it is kept out of git, get it: make fetch-data (data/README.md)"
    )
    path.mkdir()
    try:
        path.read_bytes()
    except OSError as error:  # "Is a directory", or "Permission denied" on Windows
        words = error.strerror
    with pytest.raises(ProjectError) as caught:
        data.read_verified(path)
    assert str(caught.value) == f"data file {path} cannot be read: {words}"


@pytest.mark.parametrize("recorded", [None, ""])
def test_a_missing_or_empty_checksum_is_refused_saying_how_to_register_the_data(tmp_path, recorded):
    path = registered(tmp_path, b"a,label\n1,x\n", "")
    if recorded is None:
        path.with_name("x.csv.sha256").unlink()
    with pytest.raises(ProjectError) as caught:
        data.read_verified(path)
    assert str(caught.value) == (
        f"checksum file {path}.sha256 is missing or empty; restore it with "
        f"git checkout -- {path}.sha256, or register the data: make add-data FILE={path}"
    )


def test_changed_data_is_refused_with_both_checksums(tmp_path):
    path = registered(tmp_path, b"a,label\n1,x\n", "ab" * 32)
    actual = hashlib.sha256(b"a,label\n1,x\n").hexdigest()
    with pytest.raises(ProjectError) as caught:
        data.read_verified(path)
    assert f"(sha256 {actual[:12]}..., recorded abababababab...)" in str(caught.value)
    assert str(caught.value).endswith(f"make add-data FILE={path}")


# --- the header ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "words"),
    [
        ("", "x.csv: the file is empty; the first line must name the columns"),
        (" , ", "x.csv: the file is empty; the first line must name the columns"),
        ("a,,label", "x.csv, line 1, column 2: a column has no name"),
        ("a,label, a", "x.csv, line 1: the column 'a' appears twice"),
    ],
)
def test_a_header_without_names_or_with_a_name_twice_is_refused(header, words):
    assert refusal(header + "\n1,2,3\n") == words


def test_names_are_stripped_and_a_byte_order_mark_is_not_part_of_the_first_name():
    table = read(b"\xef\xbb\xbf a , label\n1,x\n")
    assert table.features == ["a"]
    assert table.labels.tolist() == ["x"]


def test_the_contract_features_are_read_and_by_default_all_but_the_label_and_id():
    text = "id,a,b,label\nr1,1,2,x\nr2,3,4,y\n"
    assert read(text, dataclasses.replace(CONTRACT, id="id")).x.tolist() == [[1, 2], [3, 4]]
    chosen = read(text, dataclasses.replace(CONTRACT, id="id", features=("b",)))
    assert chosen.features == ["b"] and chosen.x.tolist() == [[2], [4]]
    assert chosen.ids.tolist() == ["r1", "r2"]


def test_bytes_that_are_not_utf8_are_refused_naming_the_first_one():
    assert refusal(b"a,label\n1,caf\xe9\n") == "x.csv: not UTF-8 text (byte 13)"
    assert refusal(b"\xffa,label\n1,x\n") == "x.csv: not UTF-8 text (byte 0)"
    # Any UTF-8 is fine.
    assert read("a,label\n1,café\n".encode()).labels.tolist() == ["café"]


def test_a_missing_column_is_named_with_the_columns_there_are_and_the_fix():
    header = ",".join(f"c{n}" for n in range(12))
    words = refusal(f"{header}\n" + ",".join("1" * 12) + "\n")
    assert words == (
        f"x.csv, line 1: no column 'label'; the columns are {header.replace(',', ', ')}; "
        "name the right ones in the [data] table of configs/train.toml "
        '(or in make add-data: LABEL=, ARGS="--id ... --features ...")'
    )
    longer = refusal(f"{header},c12\n" + ",".join("1" * 13) + "\n")
    assert f"the columns are {header.replace(',', ', ')} ...; " in longer
    # The label is named first; the id column is looked for as well.
    with_id = dataclasses.replace(CONTRACT, id="name", features=("a", "b"))
    assert "no column 'label'" in refusal("a,c\n1,2\n", with_id)
    assert "no column 'b'" in refusal("a,label\n1,2\n", with_id)
    assert "no column 'name'" in refusal("a,b,label\n1,2,x\n", with_id)


def test_input_for_a_model_needs_the_model_columns_but_no_label():
    table = read("b,a\n2,1\n", need_label=False, features=["a", "b"])
    assert table.x.tolist() == [[1, 2]] and table.labels is None
    words = refusal("b\n2\n", need_label=False, features=["a", "b"])
    assert words.endswith("; the model reads these columns: give the input all of them")


@pytest.mark.parametrize("field", ["label", "id"])
def test_the_label_or_id_named_as_a_feature_is_refused(field):
    contract = dataclasses.replace(CONTRACT, id="id", features=("a", field))
    assert refusal("id,a,label\nr,1,x\n", contract) == (
        f"configs/train.toml: {field!r} is both a feature and the label or id; "
        "remove it from data.features"
    )


def test_a_file_with_no_feature_column_or_no_row_is_refused():
    assert refusal("label\nx\n") == "x.csv: no feature column; name some in data.features"
    assert refusal("a,label\n") == "x.csv: no data rows after the header line"
    assert refusal("a,label") == "x.csv: no data rows after the header line"
    assert refusal("a,label\n\n\n") == "x.csv: no data rows after the header line"
    assert refusal("a,label\r\n\r\n") == "x.csv: no data rows after the header line"


def test_blank_lines_at_the_end_are_no_rows_on_either_reader():
    # Carriage returns send a file down the precise path.
    assert read("a,label\r\n1,x\r\n\r\n\r\n").x.tolist() == [[1.0]]
    assert read("a,label\n1,x\n\n\n").x.tolist() == [[1.0]]


# --- the fast reader and the precise one ------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "a,b,label\n1,2.5,x\n-3,4e-1,y\n",
        "a,b,label\n1,2.5,x\n-3,4e-1,y\n\n\n",  # blank lines at the end only
        "a,b,label\n1,2.5,x\n-3,4e-1,y",  # no line break at the end
        'a,b,label\n1,2,"cat, big"\n3,4,"dog"\n',  # commas inside quotes
        "a,b,c,label\n,,,x\n1,,3,y\n",  # empty cells, several in a row
        "a,b,label\n1,2,\n3,,y\n",  # empty last and middle cells
        "a,b,label\n,2,x\n3,4,",  # an empty first cell; an empty last cell at the end
        "a,b,label\n1,,banana\n3,4,info\n",  # "nan" and "inf" inside words, beside an empty cell
        "label,a,b\nx,,2\ny,3,45",  # a feature last, with no line break after it
    ],
)
def test_the_fast_reader_takes_plain_files_and_reads_what_the_precise_one_reads(text):
    table = fast(text)
    assert table is not None
    assert same_table(table, precise(text))


@pytest.mark.parametrize(
    "text",
    [
        "a,b,label\r\n1,2,x\r\n",  # carriage returns
        "a,b,label\n1,2,x\n\n3,4,y\n",  # a blank line between rows
        "a,b,label\n1,2,x,9\n",  # a row with another number of cells
        'a,b,label\n1,2,"x\ny"\n',  # a quoted line break
        "a,b,label\n1,nan,x\n",  # NumPy would read nan
        "a,b,label\n,nan,x\n",  # ... also beside an empty cell
        "a,b,label\n1,1e400,x\n",  # an overflow
        "a,b,label\n1,0x10,x\n",  # not a number at all
    ],
)
def test_the_fast_reader_hands_every_file_it_could_misread_to_the_precise_one(text):
    assert fast(text) is None


def test_nan_beside_an_empty_cell_is_refused_and_an_empty_cell_is_read_as_missing():
    assert refusal("a,b,label\n,nan,x\n") == (
        "x.csv, line 2, column 'b': 'nan' is not a number "
        "(write plain decimals such as 3, -0.5 or 1e-3)"
    )
    table = read("a,b,label\n1,2,x\n3,,y\n")
    assert table.x[0].tolist() == [1, 2] and math.isnan(table.x[1, 1])
    assert data.first_missing(table) == "x.csv, line 3, column 'b'"
    assert data.first_missing(read("a,b,label\n1,2,x\n")) is None
    # The first of several, by line, then by column.
    several = read("a,b,label\n1,2,x\n5,,y\n,6,z\n")
    assert data.first_missing(several) == "x.csv, line 3, column 'b'"


@pytest.mark.parametrize(
    ("text", "where", "cell"),
    [
        ("a,b,label\n,NaN,x\n", "line 2, column 'b'", "NaN"),  # any case
        ("a,b,label\n1,,x\nnan,2,y\n", "line 3, column 'a'", "nan"),  # first on its line
        ("a,b,label\n1,,x\n2, inf ,y\n", "line 3, column 'b'", " inf "),
    ],
)
def test_nan_or_inf_in_any_case_anywhere_beside_an_empty_cell_is_refused(text, where, cell):
    assert refusal(text) == (
        f"x.csv, {where}: {cell!r} is not a number (write plain decimals such as 3, -0.5 or 1e-3)"
    )


def test_the_precise_reader_names_the_line_of_an_empty_line_or_a_short_row():
    # The quoted line break sends these down the precise path; lines count as in an editor.
    quoted = 'a,label\n1,"x\ny"\n'
    assert refusal(quoted + "\n2,z\n") == "x.csv, line 4: an empty line"
    assert refusal('a,label\n\n1,"x\ny"\n') == "x.csv, line 2: an empty line"
    assert refusal(quoted + "2\n") == "x.csv, line 4: 1 columns, but the header has 2"
    assert refusal(quoted + "2,z,3\n") == "x.csv, line 4: 3 columns, but the header has 2"


def test_the_precise_reader_reads_ids_labels_and_lines():
    text = 'id,a,label\n r1 ,1,"x\ny"\nr2,,z \n'
    table = precise(text, dataclasses.replace(CONTRACT, id="id"))
    assert table.ids.tolist() == ["r1", "r2"]
    assert table.labels.tolist() == ["x\ny", "z"]
    assert table.lines.tolist() == [3, 4]
    assert table.x[0].tolist() == [1] and math.isnan(table.x[1, 0])
    # Without an id column, a row's id is its line.
    assert precise('a,label\n1,"x\ny"\n2,z\n').ids.tolist() == ["3", "4"]


# --- labels ------------------------------------------------------------------------


def test_class_names_sort_by_number_when_every_label_is_a_whole_number():
    assert data.class_names(np.array(["10", "9", "-1", "9"])) == ["-1", "9", "10"]
    assert data.class_names(np.array(["10", "9", "b"])) == ["10", "9", "b"]
    # Past 18 digits a label is text: sorted by its characters.
    big = ["1" * 19, "2"]
    assert data.class_names(np.array(big)) == sorted(big)


def test_regression_labels_are_plain_numbers_or_refused_naming_line_and_task():
    lines = np.array([2, 3, 7])
    values = data.numeric_labels(np.array([" 1.5", "-2", "3e1 "]), "x.csv", lines, "y")
    assert values.tolist() == [1.5, -2.0, 30.0]
    with pytest.raises(ProjectError) as caught:
        data.numeric_labels(np.array(["1", "2", "tall"]), "x.csv", lines, "y")
    assert str(caught.value) == (
        "x.csv, line 7, column 'y': 'tall' is not a number, and "
        'data.task = "regression" predicts a number; for classes, set data.task = '
        '"classification"'
    )
    with pytest.raises(ProjectError, match="line 3, column 'y': '1e999' is too large"):
        data.numeric_labels(np.array(["1", "1e999", "2"]), "x.csv", lines, "y")


# --- the split and the statistics --------------------------------------------------


def test_the_split_holds_out_each_class_in_its_share_and_depends_on_the_seed_alone():
    labels = np.array(["a"] * 20 + ["b"] * 8 + ["c"])
    train, test = data.split(labels, 3, 0.25)
    assert sorted([*train.tolist(), *test.tolist()]) == list(range(len(labels)))
    held = labels[test].tolist()
    # A class keeps its share; a class of one row stays in training.
    assert (held.count("a"), held.count("b"), held.count("c")) == (5, 2, 0)
    again = data.split(labels, 3, 0.25)
    assert again[1].tolist() == test.tolist()
    others = {tuple(data.split(labels, seed, 0.25)[1].tolist()) for seed in range(5)}
    assert len(others) > 1
    # At most all but one row of a class is held out.
    pairs = np.array(["a", "a", "b", "b"])
    assert sorted(pairs[data.split(pairs, 0, 0.9)[1]].tolist()) == ["a", "b"]


def test_a_regression_split_holds_out_the_share_of_all_rows():
    targets = np.linspace(0.0, 1.0, 10)
    train, test = data.split(targets, 0, 0.3)
    assert len(test) == 3 and len(train) == 7
    assert sorted([*train.tolist(), *test.tolist()]) == list(range(10))
    assert train.tolist() == sorted(train.tolist())


def test_statistics_cover_present_values_and_the_share_missing():
    x = np.array([[1.0, np.nan], [3.0, np.nan], [-2.0, np.nan], [np.nan, np.nan]])
    stats = data.feature_statistics(x, ["a", "b"])
    assert stats["a"] == {"min": -2.0, "max": 3.0, "mean": 2.0 / 3.0, "missing": 0.25}
    assert stats["b"] == {"min": None, "max": None, "mean": None, "missing": 1.0}
    empty = data.feature_statistics(np.empty((0, 1)), ["a"])
    assert empty["a"]["missing"] == 0.0


def test_values_outside_the_training_range_are_named_per_feature_up_to_five():
    stats = {f"f{n}": {"min": 0.0, "max": 1.0} for n in range(7)}
    stats["f0"] = {"min": None, "max": 1.0}  # never seen: nothing to compare with
    inside = np.array([[0.0] * 7, [1.0] * 7])
    assert data.out_of_range(inside, list(stats), stats) == []
    x = np.array([[5.0, -1.0, 0.5, 2.0, 2.0, 2.0, 2.0], [0.5, 0.5, 0.5, 0.5, 0.5, 2.0, 2.0]])
    lines = data.out_of_range(x, list(stats), stats)
    assert lines[0] == (
        "f1: 1 value(s) outside 0 to 1, the range the model was trained on (from -1 to 0.5)"
    )
    assert [line.split(":")[0] for line in lines] == ["f1", "f3", "f4", "f5", "f6"]
    assert lines[3].startswith("f5: 2 value(s)")
    more = np.full((1, 7), 9.0)
    assert data.out_of_range(more, list(stats), stats)[-1] == "and 1 more feature(s)"
