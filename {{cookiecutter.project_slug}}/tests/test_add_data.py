"""add-data: the [data] table, the checksum, what stays out of git, and every refusal."""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path

import numpy as np
import pytest

from {{ cookiecutter.module_name }} import add_data

from conftest import CONTRACT, MODULE, command, git

# The file configs/train.toml names: the digits, or the user's own once registered.
REGISTERED = CONTRACT.path
NAME = Path(REGISTERED).name
NOTE = "# Data over 1 MB stays out of git; its .sha256 is committed (data/README.md)."
SMALL = "a,b,label\n1,2.5,x\n3,4,y\n5,6,x\n"
# The [data] table as the project ships it, with the comments add-data must keep.
COMMENTS = {
    "path": "  # relative to the project folder; its .sha256 beside it",
    "label": "  # the column to predict",
    "features": "  # the columns to learn from; [] means every column but label and id",
    "id": '  # a column that names each row in predictions; "" numbers them by line',
    "task": '  # "classification" (classes) or "regression" (a number)',
    "test_fraction": "  # the share of rows held out for testing (by class)",
    "missing": '  # an empty cell: "refuse", "drop" its row, or "impute" the mean',
}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def commit_all(workdir: Path) -> None:
    git(workdir, "add", "--all")
    git(workdir, "commit", "--quiet", "--no-verify", "--message", "More")


def data_table(workdir: Path) -> list[str]:
    """The lines of the [data] table of the copy's configs/train.toml, its header included."""
    lines = (workdir / "configs" / "train.toml").read_text(encoding="utf-8").splitlines()
    return lines[lines.index("[data]") :]


def sized_csv(size: int) -> str:
    """A CSV of exactly ``size`` bytes: an id, one feature, a label of two classes."""
    rows = ["name,a,label\n"]
    total = len(rows[0])
    number = 0
    while total + 40 < size:
        rows.append(f"row-{number},{number % 5}.5,{number % 2}\n")
        total += len(rows[-1])
        number += 1
    last = ",1.5,1\n"
    rows.append("r" * (size - total - len(last)) + last)
    text = "".join(rows)
    assert len(text.encode()) == size
    return text


def changed(workdir: Path) -> list[str]:
    """Every file changed, deleted or added (untracked) since the last commit."""
    return git(workdir, "ls-files", "--modified", "--others", "--exclude-standard").splitlines()


def refused(workdir: Path, name: str, text: str, *options: str):
    """Commit ``data/<name>`` holding ``text``, run add-data on it with
    ``options``, check that it wrote nothing, and return what it printed."""
    (workdir / "data" / name).write_text(text, encoding="utf-8")
    commit_all(workdir)
    done = command("add_data", f"data/{name}", *options, cwd=workdir)
    assert done.stdout == ""
    assert changed(workdir) == []
    return done


# What the table says --------------------------------------------------------


def test_registering_with_every_option_sets_each_key_and_keeps_every_comment(workdir):
    (workdir / "data" / "plants.csv").write_text(
        "name,a,b,c,Größe\np1,1,2,3,0.5\np2,4,5,6,1.5\n", encoding="utf-8"
    )
    done = command(
        "add_data",
        "data/plants.csv",
        "--label",
        "Größe",
        "--id",
        "name",
        "--features",
        " a , b ,,",
        "--task",
        "regression",
        "--missing",
        "impute",
        cwd=workdir,
    )
    assert done.returncode == 0, done.stderr
    assert data_table(workdir) == [
        "[data]",
        f'path = "data/plants.csv"{COMMENTS["path"]}',
        f'label = "Größe"{COMMENTS["label"]}',
        f'features = ["a", "b"]{COMMENTS["features"]}',
        f'id = "name"{COMMENTS["id"]}',
        f'task = "regression"{COMMENTS["task"]}',
        f"test_fraction = 0.25{COMMENTS['test_fraction']}",
        f'missing = "impute"{COMMENTS["missing"]}',
    ]


def test_registering_with_defaults_writes_no_id_every_feature_and_refuse(workdir):
    (workdir / "data" / "small.csv").write_text(SMALL, encoding="utf-8")
    done = command("add_data", "data/small.csv", "--label", "label", cwd=workdir)
    assert done.returncode == 0, done.stderr
    assert data_table(workdir) == [
        "[data]",
        f'path = "data/small.csv"{COMMENTS["path"]}',
        f'label = "label"{COMMENTS["label"]}',
        f"features = []{COMMENTS['features']}",
        f'id = ""{COMMENTS["id"]}',
        f'task = "classification"{COMMENTS["task"]}',
        f"test_fraction = 0.25{COMMENTS['test_fraction']}",
        f'missing = "refuse"{COMMENTS["missing"]}',
    ]


def test_registering_writes_the_files_sha256_and_prints_the_exact_summary(workdir):
    (workdir / "data" / "small.csv").write_text(SMALL, encoding="utf-8")
    done = command("add_data", "data/small.csv", "--label", "label", cwd=workdir)
    assert done.returncode == 0, done.stderr
    digest = sha256(SMALL.encode())
    written = (workdir / "data" / "small.csv.sha256").read_text(encoding="utf-8")
    assert written == f"{digest}  small.csv\n"
    assert done.stdout.splitlines() == [
        "registered data/small.csv: 3 rows, 2 features, label 'label' "
        "(classification; change it with --task)",
        f"wrote small.csv.sha256 (sha256 {digest[:12]}...) and the [data] table "
        "of configs/train.toml",
        "commit it:",
        "  git add configs/train.toml data/small.csv.sha256 data/small.csv",
        '  git commit -m "Train on small.csv"',
    ]
    assert done.stderr == ""


@pytest.mark.parametrize(
    ("missing", "note"),
    [
        (
            "refuse",
            [
                "note: data/gaps.csv, line 3, column 'b' is empty; training will refuse it: "
                'register again with ARGS="--missing drop" or "--missing impute"'
            ],
        ),
        ("drop", []),
        ("impute", []),
    ],
)
def test_an_empty_cell_gets_a_note_only_when_training_would_refuse_it(workdir, missing, note):
    (workdir / "data" / "gaps.csv").write_text("a,b,label\n1,2,x\n3,,y\n", encoding="utf-8")
    done = command(
        "add_data", "data/gaps.csv", "--label", "label", "--missing", missing, cwd=workdir
    )
    assert done.returncode == 0, done.stderr
    assert [line for line in done.stdout.splitlines() if line.startswith("note:")] == note


def test_a_file_without_empty_cells_gets_no_note(workdir):
    (workdir / "data" / "small.csv").write_text(SMALL, encoding="utf-8")
    done = command("add_data", "data/small.csv", "--label", "label", cwd=workdir)
    assert done.returncode == 0, done.stderr
    assert "note:" not in done.stdout


def test_a_config_without_a_data_table_gets_one_appended(workdir):
    config = workdir / "configs" / "train.toml"
    text = config.read_text(encoding="utf-8")
    before = text[: text.index("[data]")]
    config.write_text(before, encoding="utf-8")
    (workdir / "data" / "small.csv").write_text(SMALL, encoding="utf-8")
    done = command("add_data", "data/small.csv", "--label", "label", cwd=workdir)
    assert done.returncode == 0, done.stderr
    assert config.read_text(encoding="utf-8") == before.rstrip("\n") + (
        "\n\n[data]\n"
        'path = "data/small.csv"\n'
        'label = "label"\n'
        "features = []\n"
        'id = ""\n'
        'task = "classification"\n'
        'missing = "refuse"\n'
    )


def test_writing_the_table_changes_only_the_data_table_and_keeps_the_tables_after_it(tmp_path):
    path = tmp_path / "train.toml"
    path.write_text(
        'seed = 1\npath = "top"\n\n[data]  # the contract\npath = "a"  # mine\n\n'
        '[later]\npath = "keep"\n',
        encoding="utf-8",
    )
    text = add_data.table_text(path, {"path": "b", "label": "y"}).decode("utf-8")
    assert tomllib.loads(text) == {
        "seed": 1,
        "path": "top",
        "data": {"path": "b", "label": "y"},
        "later": {"path": "keep"},
    }
    assert '[data]  # the contract\npath = "b"  # mine\n' in text


# The task it guesses ---------------------------------------------------------


@pytest.mark.parametrize(
    ("labels", "task"),
    [
        ([str(n) for n in range(20)], "classification"),  # 20 classes, at the limit
        ([str(n) for n in range(21)], "regression"),  # one value more: a number
        (["1", "2.5", "1"], "regression"),  # a fraction: a number
        (["1.0", "2.0", "-3"], "classification"),  # whole numbers written with .0
        (["", "0.5", ""], "regression"),  # empty labels do not count
        (["", ""], "classification"),
        (["rose", "1.5"], "classification"),  # one word: classes
    ],
)
def test_the_task_guessed_from_the_labels(labels, task):
    assert add_data.guess_task(np.array(labels, dtype=str)) == task


# What stays out of git ------------------------------------------------------


@pytest.mark.parametrize(("size", "tracked"), [(1024 * 1024, True), (1024 * 1024 + 1, False)])
def test_a_file_up_to_exactly_1_mb_is_committed_and_one_byte_more_stays_out(workdir, size, tracked):
    ignore = workdir / ".gitignore"
    before = ignore.read_text(encoding="utf-8")
    (workdir / "data" / "big.csv").write_text(sized_csv(size), encoding="utf-8")
    done = command("add_data", "data/big.csv", "--label", "label", "--id", "name", cwd=workdir)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    if tracked:
        assert "  git add configs/train.toml data/big.csv.sha256 data/big.csv" in lines
        assert ignore.read_text(encoding="utf-8") == before
        assert not any("over 1 MB" in line for line in lines)
    else:
        assert "  git add configs/train.toml data/big.csv.sha256 .gitignore" in lines
        assert ignore.read_text(encoding="utf-8") == f"{before}{NOTE}\n/data/big.csv\n"
        assert (
            "data/big.csv is over 1 MB: it stays out of git; say where it lives, so that "
            'make fetch-data and CI can get it: ARGS="--url ADDRESS" (data/README.md)'
        ) in lines
    git(workdir, "add", "--all")
    assert ("data/big.csv" in git(workdir, "ls-files", "data").splitlines()) == tracked


def test_registering_a_large_file_again_leaves_gitignore_as_it_was(workdir):
    (workdir / "data" / "big.csv").write_text(sized_csv(1024 * 1024 + 1), encoding="utf-8")
    options = ("data/big.csv", "--label", "label", "--id", "name")
    assert command("add_data", *options, cwd=workdir).returncode == 0
    ignore = (workdir / ".gitignore").read_text(encoding="utf-8")
    assert ignore.endswith(f"{NOTE}\n/data/big.csv\n")
    done = command("add_data", *options, cwd=workdir)
    assert done.returncode == 0, done.stderr
    assert (workdir / ".gitignore").read_text(encoding="utf-8") == ignore
    assert "  git add configs/train.toml data/big.csv.sha256" in done.stdout.splitlines()


def test_a_second_large_file_is_ignored_under_the_same_note(workdir):
    ignore = workdir / ".gitignore"
    before = ignore.read_text(encoding="utf-8")
    for name in ("one.csv", "two.csv"):
        (workdir / "data" / name).write_text(sized_csv(1024 * 1024 + 1), encoding="utf-8")
        done = command("add_data", f"data/{name}", "--label", "label", "--id", "name", cwd=workdir)
        assert done.returncode == 0, done.stderr
    assert ignore.read_text(encoding="utf-8") == f"{before}{NOTE}\n/data/one.csv\n/data/two.csv\n"


def test_a_large_file_in_a_project_without_gitignore_gets_one(workdir):
    (workdir / ".gitignore").unlink()
    (workdir / "data" / "big.csv").write_text(sized_csv(1024 * 1024 + 1), encoding="utf-8")
    done = command("add_data", "data/big.csv", "--label", "label", "--id", "name", cwd=workdir)
    assert done.returncode == 0, done.stderr
    assert (workdir / ".gitignore").read_text(encoding="utf-8") == f"{NOTE}\n/data/big.csv\n"


# A file from elsewhere -------------------------------------------------------


def test_a_file_from_elsewhere_is_copied_into_data_and_registered_there(workdir, tmp_path):
    outside = tmp_path / "small.csv"
    outside.write_text(SMALL, encoding="utf-8")
    done = command("add_data", str(outside), "--label", "label", cwd=workdir)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == f"copied {outside} to data/small.csv"
    assert (workdir / "data" / "small.csv").read_text(encoding="utf-8") == SMALL
    assert data_table(workdir)[1] == f'path = "data/small.csv"{COMMENTS["path"]}'
    assert "  git add configs/train.toml data/small.csv.sha256 data/small.csv" in done.stdout


def test_a_file_from_elsewhere_may_replace_an_identical_copy_in_data(workdir, tmp_path):
    (workdir / "data" / "small.csv").write_text(SMALL, encoding="utf-8")
    outside = tmp_path / "small.csv"
    outside.write_text(SMALL, encoding="utf-8")
    done = command("add_data", str(outside), "--label", "label", cwd=workdir)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == f"copied {outside} to data/small.csv"


def test_a_file_from_elsewhere_never_overwrites_other_data_of_its_name(workdir, tmp_path):
    (workdir / "data" / "small.csv").write_text(SMALL, encoding="utf-8")
    commit_all(workdir)
    outside = tmp_path / "small.csv"
    outside.write_text(SMALL.replace("x", "z"), encoding="utf-8")
    done = command("add_data", str(outside), "--label", "label", cwd=workdir)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"add-data: error: data/small.csv exists and holds other data; rename {outside} "
        "and try again"
    ]
    assert done.stdout == ""
    assert changed(workdir) == []


# Refusals ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["data/nothing.csv", "data"])
def test_a_path_that_is_not_a_file_is_refused_by_name(workdir, name):
    done = command("add_data", name, "--label", "label", cwd=workdir)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"add-data: error: {name} is not a file; give the path of a CSV file"
    ]
    assert changed(workdir) == []


def test_a_missing_label_column_is_refused_naming_the_columns_and_writes_nothing(workdir):
    done = refused(workdir, "small.csv", SMALL, "--label", "species")
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "add-data: error: data/small.csv, line 1: no column 'species'; the columns are "
        "a, b, label; name the right ones in the [data] table of configs/train.toml "
        '(or in make add-data: LABEL=, ARGS="--id ... --features ...")'
    ]


def test_a_text_column_is_refused_with_how_to_make_it_the_id_and_writes_nothing(workdir):
    done = refused(workdir, "plants.csv", "name,a,label\np1,1,x\n", "--label", "label")
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "add-data: error: data/plants.csv, line 2, column 'name': 'p1' is not a number "
        "(write plain decimals such as 3, -0.5 or 1e-3); a column that names rows is an id: "
        'ARGS="--id COLUMN"; to leave columns out, list the features: ARGS="--features a,b,c"'
    ]


def test_an_unknown_task_is_refused_by_argparse_with_the_command_as_typed(workdir):
    done = refused(workdir, "small.csv", SMALL, "--label", "label", "--task", "ranking")
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert lines[0].startswith(f"usage: python -m {MODULE} add-data [-h]")
    assert lines[-1].startswith(
        f"python -m {MODULE} add-data: error: argument --task: invalid choice: 'ranking'"
    )
    assert "classification" in lines[-1] and "regression" in lines[-1]


def test_a_feature_named_twice_is_refused_and_writes_nothing(workdir):
    done = refused(workdir, "small.csv", SMALL, "--label", "label", "--features", "a,a")
    assert done.returncode == 1
    assert "data.features = ['a', 'a']: a column is named twice" in done.stderr


def test_registering_over_a_multi_line_list_or_a_path_with_a_hash_leaves_valid_toml(workdir):
    config = workdir / "configs" / "train.toml"
    text = config.read_text(encoding="utf-8").replace("features = []", 'features = [\n  "a",\n]')
    config.write_text(text, encoding="utf-8")
    (workdir / "data" / "a#b.csv").write_text(SMALL, encoding="utf-8")
    for name, features in (("a#b.csv", "b"), ("a#b.csv", "a")):
        options = ("--label", "label", "--features", features)
        done = command("add_data", f"data/{name}", *options, cwd=workdir)
        assert done.returncode == 0, done.stderr
        table = tomllib.loads(config.read_text(encoding="utf-8"))["data"]
        assert (table["path"], table["features"]) == ("data/a#b.csv", [features])
    # Each value kept its comment, and the list now fits one line.
    lines = data_table(workdir)
    assert lines[1] == 'path = "data/a#b.csv"' + COMMENTS["path"]
    assert lines[3] == 'features = ["a"]' + COMMENTS["features"]


def test_a_data_table_add_data_cannot_edit_safely_is_left_as_it_was(workdir):
    config = workdir / "configs" / "train.toml"
    before = config.read_text(encoding="utf-8").replace(
        "features = []", "features = [  # the columns\n  'a', # ] in a comment\n]"
    )
    config.write_text(before, encoding="utf-8")
    commit_all(workdir)
    # A label named in other letters than ASCII is shown as the user wrote it.
    small = SMALL.replace("label", "étiquette")
    (workdir / "data" / "small.csv").write_text(small, encoding="utf-8")
    done = command("add_data", "data/small.csv", "--label", "étiquette", cwd=workdir)
    assert done.returncode == 1
    assert done.stderr == (
        "add-data: error: configs/train.toml: its [data] table is laid out in a way add-data "
        "cannot edit safely; nothing was written. Set these keys in it by hand: "
        'path = "data/small.csv", label = "étiquette", features = [], id = "", '
        'task = "classification", missing = "refuse"\n'
    )
    assert config.read_text(encoding="utf-8") == before
    assert changed(workdir) == ["data/small.csv"]


# A registered file that changed ------------------------------------------------


def test_a_changed_registered_file_gets_its_new_checksum_and_keeps_the_table(workdir):
    config = (workdir / "configs" / "train.toml").read_bytes()
    path = workdir / REGISTERED
    raw = path.read_bytes() + path.read_bytes().splitlines(keepends=True)[1]
    path.write_bytes(raw)
    done = command("add_data", REGISTERED, cwd=workdir)
    assert done.returncode == 0, done.stderr
    digest = sha256(raw)
    assert done.stdout.splitlines() == [
        f"recorded the new checksum of {REGISTERED} (sha256 {digest[:12]}...) in {NAME}.sha256",
        f"commit it: git add {REGISTERED}.sha256",
    ]
    sums = (workdir / f"{REGISTERED}.sha256").read_text(encoding="utf-8")
    assert sums == f"{digest}  {NAME}\n"
    assert (workdir / "configs" / "train.toml").read_bytes() == config
    assert changed(workdir) == [REGISTERED, f"{REGISTERED}.sha256"]


def test_a_file_not_registered_needs_its_label_and_nothing_is_written(workdir):
    done = refused(workdir, "small.csv", SMALL)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "add-data: error: data/small.csv is not the registered data file; register it with "
        "its label: make add-data FILE=data/small.csv LABEL=column"
    ]


def test_a_new_version_from_elsewhere_never_replaces_the_registered_file(workdir, tmp_path):
    outside = tmp_path / NAME
    rows = (workdir / REGISTERED).read_bytes().splitlines(keepends=True)
    outside.write_bytes(b"".join(rows[:-1]))
    done = command("add_data", str(outside), cwd=workdir)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"add-data: error: {REGISTERED} holds other data than {outside}; to record a new "
        f"version, copy it over {REGISTERED} yourself, then: make add-data FILE={REGISTERED}"
    ]
    assert changed(workdir) == []


def test_the_registered_file_from_elsewhere_is_copied_in_where_data_has_none(workdir, tmp_path):
    outside = tmp_path / NAME
    registered = workdir / REGISTERED
    outside.write_bytes(registered.read_bytes())
    registered.unlink()
    done = command("add_data", str(outside), cwd=workdir)
    assert done.returncode == 0, done.stderr
    assert registered.read_bytes() == outside.read_bytes()
    recorded = (workdir / f"{REGISTERED}.sha256").read_text(encoding="utf-8").split()[0]
    assert recorded == sha256(registered.read_bytes())
    assert changed(workdir) == []
