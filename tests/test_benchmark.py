"""The benchmark runs in its reduced mode and reports well-formed figures.

Timings are never checked here; only the shape of what the benchmark writes.
All but the scale stage's run (slow: it sets up a project) are fast tier.
"""

from __future__ import annotations

import json
import sys

import benchmark
import pytest

from conftest import TEMPLATE, run


def test_quick_benchmark_prints_a_table_and_writes_matching_json(tmp_path):
    out = tmp_path / "bench.json"
    done = run(
        [
            sys.executable,
            TEMPLATE / "tests" / "benchmark.py",
            "--quick",
            "--stages",
            "bake",
            "--json",
            out,
        ],
        cwd=tmp_path,
    )
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["machine"]["cores"] >= 1
    assert report["machine"]["cpu"]
    names = [figure["name"] for figure in report["figures"]]
    assert names == [
        "bake floor (one-file template)",
        "bake (default answers)",
        "bake / floor",
        "bake without hooks (--accept-hooks no)",
        "bake without git (init_git=no)",
    ]
    for figure in report["figures"]:
        assert len(figure["samples"]) == 1
        assert figure["min"] <= figure["median"] <= figure["max"]
        assert figure["median"] > 0
    floor, default, ratio, *_ = report["figures"]
    assert abs(ratio["median"] - default["median"] / floor["median"]) < 1e-9

    rows = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    assert rows[0].startswith("| figure | median |")
    assert len(rows) == 2 + len(names)  # header, separator, one row a figure
    for name, row in zip(names, rows[2:], strict=True):
        assert row.startswith(f"| {name} |")
        assert row.count("|") == 7
    assert "cores" in done.stdout


def test_unknown_stage_is_refused_with_the_allowed_ones(tmp_path):
    done = run(
        [sys.executable, TEMPLATE / "tests" / "benchmark.py", "--stages", "bogus"],
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 2
    assert "unknown stage bogus" in done.stderr
    assert "bake, setup, pipeline" in done.stderr
    assert "scale" in done.stderr


def test_scale_names_its_rows_and_linearity_ratios():
    assert benchmark.scale_names(benchmark.SCALE) == [
        "read + check CSV, 1M rows",
        "read + check CSV, 1M rows, 1% empty cells",
        "make train, 10k rows",
        "make train, 100k rows",
        "make train, 1M rows",
        "make train, 100k / 10k rows",
        "make train, 1M / 100k rows",
    ]
    # The reads and the ratios show their targets; one training alone has none.
    names = benchmark.scale_names(benchmark.SCALE)
    assert [name for name in names if name in benchmark.TARGETS] == names[:2] + names[-2:]
    quick = benchmark.SCALE_QUICK
    assert quick.read_rows <= 100_000 and max(quick.train_rows) <= quick.read_rows
    assert benchmark.rows_name(1500) == "1500"


@pytest.mark.slow
def test_quick_scale_stage_reads_and_trains_in_a_set_up_project(tmp_path):
    out = tmp_path / "scale.json"
    done = run(
        [
            sys.executable,
            TEMPLATE / "tests" / "benchmark.py",
            "--quick",
            "--stages",
            "scale",
            "--json",
            out,
        ],
        cwd=tmp_path,
    )
    report = json.loads(out.read_text(encoding="utf-8"))
    names = [figure["name"] for figure in report["figures"]]
    assert names == benchmark.scale_names(benchmark.SCALE_QUICK)
    for figure in report["figures"]:
        assert figure["median"] > 0
        if "/" not in figure["name"]:
            assert figure["peak_mib"] > 0
    assert "fast path" in done.stderr
