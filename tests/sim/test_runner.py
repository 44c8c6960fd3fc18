"""The runner's build cache: a build key says what is built, never where results go."""

from __future__ import annotations

import pytest

from fp8forge.scripts.rtl_demo import macarray_demo

pytestmark = pytest.mark.rtl_sim


def test_demo_rtl_step_builds_once(tmp_path, monkeypatch):
    """Two runs of the demo's RTL step (its summary file differs each time) share one
    Verilator build: one build folder, and the model's executable is not rebuilt."""
    monkeypatch.chdir(tmp_path)
    first = macarray_demo(rows=2, cols=2, m=2, n=2, k=8)
    builds = list((tmp_path / "build" / "sim").iterdir())
    (model,) = [p for p in builds[0].glob("verilator/dut") if p.is_file()]
    built_at = model.stat().st_mtime_ns
    second = macarray_demo(rows=2, cols=2, m=2, n=2, k=8)
    assert list((tmp_path / "build" / "sim").iterdir()) == builds and len(builds) == 1
    assert model.stat().st_mtime_ns == built_at
    assert "bit-exact" in first and first.split("\n")[:2] == second.split("\n")[:2]
