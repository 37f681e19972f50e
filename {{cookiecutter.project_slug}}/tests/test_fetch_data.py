"""fetch-data: data kept out of git comes back from its recorded address, byte for byte.

Addresses are served for real: over HTTP by a server on this machine, as
file:// addresses and as paths.  Every refusal leaves data/ as it was.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import http.server
import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import CONTRACT, command, files_in, git

HEADER = "a,b,label\n"
BODY = "".join(f"{n % 7}.5,{n % 3},{n % 2}\n" for n in range(300))
ROWS = HEADER + BODY
IS_A_FOLDER = os.strerror(errno.EISDIR)


def sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """An HTTP server on this machine: its base address and the folder it serves."""
    folder = tmp_path_factory.mktemp("served")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(folder))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield f"http://127.0.0.1:{server.server_address[1]}", folder
        server.shutdown()


def kept_out(workdir: Path, raw: bytes, address: str | None, name: str = "kept.csv") -> Path:
    """A data file as a clone sees one kept out of git: its .sha256 (and .url), no file."""
    path = workdir / "data" / name
    checksum = path.with_name(f"{path.name}.sha256")
    checksum.write_text(f"{sha256(raw)}  {path.name}\n", encoding="utf-8")
    if address is not None:
        path.with_name(f"{path.name}.url").write_text(f"{address}\n", encoding="utf-8")
    return path


def fetch(workdir: Path, *files: str, cwd: Path | None = None):
    """Run fetch-data with the copy's code, from ``cwd`` (the copy itself by default)."""
    code = {"PYTHONPATH": str(workdir / "src")}
    return command("fetch_data", *files, cwd=cwd or workdir, env=code)


def refused(done, *words: str) -> None:
    assert done.returncode == 1, done.stdout
    assert "Traceback" not in done.stderr
    (line,) = [line for line in done.stderr.splitlines() if line.startswith("fetch-data: error:")]
    for word in words:
        assert word in line, line


def partial_files(workdir: Path) -> list[str]:
    return [name for name in files_in(workdir / "data") if name.endswith(".partial")]


def test_every_registered_file_present_is_checked_and_left_alone(workdir):
    # What CI runs in every project: with nothing kept out of git, nothing to get.
    before = {name: (workdir / "data" / name).read_bytes() for name in files_in(workdir / "data")}
    done = fetch(workdir)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"{CONTRACT.path}: present, sha256 matches {CONTRACT.path}.sha256"
    ]
    after = {name: (workdir / "data" / name).read_bytes() for name in files_in(workdir / "data")}
    assert after == before


def test_a_large_file_registered_with_its_address_comes_back_over_http(workdir, served):
    base, folder = served
    raw = (HEADER + BODY * 500).encode()  # over the 1 MB the commit hook allows
    assert len(raw) > 1024 * 1024
    (folder / "large.csv").write_bytes(raw)
    (workdir / "data" / "large.csv").write_bytes(raw)
    address = f"{base}/large.csv"
    done = command("add_data", "data/large.csv", "--label", "label", "--url", address, cwd=workdir)
    assert done.returncode == 0, done.stderr
    assert "data/large.csv is over 1 MB: it stays out of git; make fetch-data gets it" in (
        done.stdout.splitlines()
    )
    commit = "  git add configs/train.toml data/large.csv.sha256 data/large.csv.url .gitignore"
    assert commit in done.stdout.splitlines()
    assert (workdir / "data" / "large.csv.url").read_text(encoding="utf-8") == f"{address}\n"
    git(workdir, *commit.split()[1:])
    git(workdir, "commit", "--quiet", "--no-verify", "--message", "Train on large.csv")
    # A colleague's clone: everything committed, the data itself not.
    clone = workdir.parent / "clone"
    git(workdir.parent, "clone", "--quiet", str(workdir), str(clone))
    assert not (clone / "data" / "large.csv").exists()
    done = fetch(clone)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"fetched data/large.csv from {address}: {len(raw)} bytes, "
        "sha256 matches data/large.csv.sha256"
    ]
    path = clone / "data" / "large.csv"
    assert path.read_bytes() == raw
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    assert partial_files(clone) == []
    assert git(clone, "status", "--porcelain") == ""
    again = fetch(clone)
    assert again.stdout.splitlines() == [
        "data/large.csv: present, sha256 matches data/large.csv.sha256"
    ]


def test_a_file_url_and_a_path_relative_to_the_project_are_fetched_from_any_folder(workdir):
    raw = ROWS.encode()
    shared = workdir / "shared"
    shared.mkdir()
    (shared / "one.csv").write_bytes(raw)
    kept_out(workdir, raw, (shared / "one.csv").as_uri(), "one.csv")
    kept_out(workdir, raw, "# the lab's drive\n\nshared/one.csv", "two.csv")
    done = fetch(workdir, "one.csv", "two.csv", cwd=workdir / "data")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1] == (
        f"fetched data/two.csv from shared/one.csv: {len(raw)} bytes, "
        "sha256 matches data/two.csv.sha256"
    )
    assert (workdir / "data" / "one.csv").read_bytes() == raw
    assert (workdir / "data" / "two.csv").read_bytes() == raw


def test_without_files_named_it_gets_each_file_with_an_address_in_data(workdir):
    raw = ROWS.encode()
    source = workdir.parent / "elsewhere.csv"
    source.write_bytes(raw)
    (workdir / "data" / "deeper").mkdir()
    kept_out(workdir, raw, str(source), "deeper/nested.csv")
    done = fetch(workdir)
    assert done.returncode == 0, done.stderr
    assert f"fetched data/deeper/nested.csv from {source}: {len(raw)} bytes" in done.stdout
    assert (workdir / "data" / "deeper" / "nested.csv").read_bytes() == raw


def test_an_address_that_holds_other_bytes_writes_nothing(workdir, served):
    base, folder = served
    other = b"a,b,label\n1,2,3\n"
    (folder / "other.csv").write_bytes(other)
    path = kept_out(workdir, ROWS.encode(), f"{base}/other.csv")
    done = fetch(workdir)
    refused(
        done,
        f"{base}/other.csv holds other data than data/kept.csv (sha256 {sha256(other)[:12]}..., ",
        f"recorded {sha256(ROWS.encode())[:12]}... in data/kept.csv.sha256); nothing was written",
        "Fix the address in data/kept.csv.url",
    )
    assert not path.exists()
    assert partial_files(workdir) == []


def test_an_address_that_does_not_answer_is_named_with_the_servers_reason(workdir, served):
    base, _ = served
    kept_out(workdir, ROWS.encode(), f"{base}/absent.csv")
    done = fetch(workdir)
    refused(
        done,
        f"cannot fetch data/kept.csv from {base}/absent.csv: HTTP Error 404",
        "check the address in data/kept.csv.url",
    )
    assert partial_files(workdir) == []
    assert not (workdir / "data" / "kept.csv").exists()


def test_a_path_that_is_not_there_is_named_with_the_systems_reason(workdir):
    absent = workdir.parent / "absent.csv"
    kept_out(workdir, ROWS.encode(), str(absent))
    done = fetch(workdir)
    refused(
        done,
        f"cannot fetch data/kept.csv from {absent}: {os.strerror(errno.ENOENT)}; check the "
        "address in data/kept.csv.url, or copy the file into place as data/README.md says",
    )
    assert partial_files(workdir) == []


def test_a_file_that_is_there_with_other_bytes_is_never_replaced(workdir):
    source = workdir.parent / "right.csv"
    source.write_bytes(ROWS.encode())
    path = kept_out(workdir, ROWS.encode(), str(source))
    mine = b"my own edits\n"
    path.write_bytes(mine)
    done = fetch(workdir)
    refused(
        done,
        f"data/kept.csv is there with other bytes (sha256 {sha256(mine)[:12]}..., "
        f"recorded {sha256(ROWS.encode())[:12]}...); ",
        "fetch-data never replaces a file: move it aside",
        "make add-data FILE=data/kept.csv",
    )
    assert path.read_bytes() == mine


@pytest.mark.parametrize(
    ("address", "words"),
    [
        (None, "data/kept.csv is missing, and no data/kept.csv.url says where it lives"),
        ("# only a comment", "data/kept.csv.url: no address; give an https:// or http://"),
        ("s3://bucket/kept.csv", "data/kept.csv.url: s3:// addresses are not fetched"),
        ("a.csv\n# or\nb.csv", "data/kept.csv.url holds 2 addresses; keep the one to fetch"),
    ],
    ids=["no-address", "empty", "other-scheme", "two-addresses"],
)
def test_a_missing_file_without_a_usable_address_is_refused_by_name(workdir, address, words):
    kept_out(workdir, ROWS.encode(), address)
    done = fetch(workdir, "data/kept.csv")
    refused(done, words)
    assert done.stdout == ""
    assert not (workdir / "data" / "kept.csv").exists()


def test_the_registered_file_missing_is_named_after_the_files_fetched(workdir):
    # A clone of a project whose data stays out of git, before anyone said where it lives.
    source = workdir.parent / "right.csv"
    source.write_bytes(ROWS.encode())
    kept_out(workdir, ROWS.encode(), str(source))
    (workdir / CONTRACT.path).unlink()
    done = fetch(workdir)
    refused(done, f"{CONTRACT.path} is missing, and no {CONTRACT.path}.url says where it lives")
    # One file that could not be fetched does not stop the others.
    assert done.stdout.startswith("fetched data/kept.csv from ")
    assert (workdir / "data" / "kept.csv").read_bytes() == ROWS.encode()


@pytest.mark.parametrize(
    ("damage", "words"),
    [
        ("url-folder", f"data/kept.csv.url cannot be read as text ({IS_A_FOLDER}); "),
        ("url-binary", "data/kept.csv.url cannot be read as text ("),
        ("checksum-folder", "data/kept.csv: no checksum in data/kept.csv.sha256"),
        ("data-folder", f"data/kept.csv is there but cannot be read ({IS_A_FOLDER}); "),
    ],
)
def test_records_that_cannot_be_read_are_refused_by_name(workdir, damage, words):
    path = kept_out(workdir, ROWS.encode(), None)
    part, _, kind = damage.partition("-")
    target = {"url": path.with_name("kept.csv.url"), "data": path}.get(
        part, path.with_name("kept.csv.sha256")
    )
    target.unlink(missing_ok=True)
    if kind == "folder":
        target.mkdir()
    else:
        target.write_bytes(b"\xff\xfe not text")
    done = fetch(workdir, "data/kept.csv")
    refused(done, words)
    assert done.stdout == ""
    assert target.is_dir() == (kind == "folder")


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        ("no-path", "names no data file ([data] path)"),
        ("data-not-a-table", "names no data file ([data] path)"),
        ("not-toml", "cannot be read (Expected '=' after a key in a key/value pair (at line 1"),
        ("folder", f"cannot be read ({IS_A_FOLDER})"),
    ],
)
def test_a_config_that_names_no_data_file_is_refused_saying_how_to_go_on(workdir, damage, problem):
    config = workdir / "configs" / "train.toml"
    lines = config.read_text(encoding="utf-8").splitlines(keepends=True)
    if damage == "folder":
        config.unlink()
        config.mkdir()
    else:
        kept = {
            "no-path": [x for x in lines if not x.startswith("path =")],
            "data-not-a-table": ["data = 1\n"],
            "not-toml": ["this is not toml\n"],
        }[damage]
        config.write_text("".join(kept), encoding="utf-8")
    done = fetch(workdir)
    assert done.returncode == 1
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"fetch-data: error: configs/train.toml {problem}")
    assert line.endswith(
        "; restore it: git checkout -- configs/train.toml, or name the files: fetch-data FILE ..."
    )


def test_a_file_without_its_checksum_is_refused_since_nothing_could_check_it(workdir):
    source = workdir.parent / "any.csv"
    source.write_bytes(ROWS.encode())
    (workdir / "data" / "loose.csv.url").write_text(f"{source}\n", encoding="utf-8")
    done = fetch(workdir, "data/loose.csv")
    refused(done, "data/loose.csv: no checksum in data/loose.csv.sha256")
    assert not (workdir / "data" / "loose.csv").exists()


def test_a_full_disk_while_fetching_leaves_no_file_behind(workdir):
    resource = pytest.importorskip("resource")
    source = workdir.parent / "big.csv"
    source.write_bytes((HEADER + BODY * 50).encode())
    kept_out(workdir, source.read_bytes(), str(source))

    def small_files_only() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (2000, 2000))

    quiet = {"PYTHONDONTWRITEBYTECODE": "1"}
    done = command("fetch_data", cwd=workdir, env=quiet, preexec_fn=small_files_only)
    refused(
        done,
        f"cannot write data/kept.csv: {os.strerror(errno.EFBIG)}; check that data is a "
        "writable folder with free space",
    )
    assert not (workdir / "data" / "kept.csv").exists()
    assert partial_files(workdir) == []


def test_an_address_given_to_add_data_is_checked_before_anything_is_written(workdir):
    (workdir / "data" / "small.csv").write_text(ROWS, encoding="utf-8")
    git(workdir, "add", "data/small.csv")
    git(workdir, "commit", "--quiet", "--no-verify", "--message", "More")
    options = ("data/small.csv", "--label", "label", "--url", "gs://bucket/small.csv")
    done = command("add_data", *options, cwd=workdir)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "add-data: error: --url: gs:// addresses are not fetched; give an https:// or http:// "
        "address (a public or pre-signed link), a file:// address, or a path"
    ]
    assert git(workdir, "status", "--porcelain") == ""
