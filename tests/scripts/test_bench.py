"""The golden-model benchmark: tables with every column filled, engines agreeing, the
machine header; with and without pychop (an optional `bench` extra)."""

from __future__ import annotations

import io

import pytest

from fp8forge.scripts import bench


def test_gemm_table_side_by_side():
    rows = bench.bench_gemm(1, shapes=[(3, 40, 5, 8), (2, 33, 4, None), (2, 20, 3, 1)])
    assert [row[:2] for row in rows] == [["3x40x5", "8"], ["2x33x4", "none"], ["2x20x3", "1"]]
    for row in rows:
        assert row[-1] == "bit-identical"
        for figure in (row[2], row[3], row[6]):
            assert float(figure) > 0
        assert row[4].endswith("x") and float(row[4][:-1]) > 0


def test_without_pychop_the_column_says_so(monkeypatch):
    monkeypatch.setattr(bench, "_has_pychop", lambda: False)
    (row,) = bench.bench_gemm(1, shapes=[(2, 16, 3, 4)])
    assert row[5] == "not installed"
    assert "not installed" in bench.bench_chunk1_vs_pychop()[1]


@pytest.mark.slow  # probes every tool's version: scheduled early
def test_header_names_machine_and_versions():
    out = io.StringIO()
    tables = bench.run_benchmarks(repeats=1, out=out, rtl=False, gemm_shapes=[(2, 16, 3, 4)],
                                  train_limit=64)
    text = out.getvalue()
    first = text.splitlines()[0]
    for word in ("cores", "load", "Python", "numpy", "numba", "medians of 1 runs"):
        assert word in first
    assert set(tables) == {"quantize", "gemm", "pychop", "training"}
    assert "DIFFERENT" not in text
