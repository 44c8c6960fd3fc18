"""The runner's build cache: a build key says what is built, never where results go."""

from __future__ import annotations

import pytest

from fp8forge.scripts.rtl_demo import macarray_demo

from ..ccache_log import ccache_found, ccache_log, misses

pytestmark = pytest.mark.rtl_sim


def test_demo_rtl_step_builds_once(tmp_path, monkeypatch, shared_ccache):
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


def _small_adder(fmt_name: str, root):
    from fp8forge.golden import PRESETS
    from fp8forge.hdl.arith import FpAdd
    from fp8forge.hdl.lanes import Lanes
    from fp8forge.sim.runner import run_bench

    return run_bench("comb", Lanes(lambda: FpAdd(PRESETS[fmt_name]), 2),
                     {"op": "add", "fmt": fmt_name, "out_fmt": fmt_name, "rounding": "RNE",
                      "rbits": 0, "lanes": 2, "stimuli": "200"}, sim="verilator",
                     build_root=root)


def test_second_verilator_build_reuses_the_compiled_runtime(tmp_path, monkeypatch,
                                                           shared_ccache):
    """With ccache, a build of another unit compiles only its own model: the Verilator
    runtime and cocotb's main come from the cache (the suite's, which an earlier build here
    or elsewhere filled), each a ccache hit in the second build's own stats log."""
    if not ccache_found():
        pytest.skip("ccache not installed: Verilator builds are not cached")
    root = tmp_path / "build" / "sim"
    _small_adder("e6m9", root)
    log = tmp_path / "second-build.log"
    monkeypatch.setenv("CCACHE_STATSLOG", str(log))  # this worker's builds only, from here
    _small_adder("fp16", root)
    compiled = ccache_log(log)
    runtime = {name for name in compiled
               if name.startswith("verilated") or name == "verilator.cpp"}
    assert {"verilated.cpp", "verilator.cpp"} <= runtime, sorted(compiled)
    missed = misses(compiled, runtime)
    assert not missed, f"compiled again: {sorted(missed)}"
    assert any(name.startswith("Vtop") for name in compiled)  # the model itself goes through it
    assert sorted(p.name for p in root.iterdir()) == sorted(p.name for p in root.iterdir()
                                                            if p.name.startswith("comb-"))


def test_without_ccache_builds_are_plain(monkeypatch):
    from fp8forge import tools

    monkeypatch.setattr(tools, "ccache", lambda: None)
    env = tools.verilator_env(ccache_dir="build/ccache", basedir="build/sim")
    assert "OBJCACHE" not in env["MAKEFLAGS"] and "CCACHE_DIR" not in env
    monkeypatch.setattr(tools, "ccache", lambda: "/usr/bin/ccache")
    env = tools.verilator_env(ccache_dir="build/ccache", basedir="build/sim")
    assert "OBJCACHE=ccache" in env["MAKEFLAGS"] and env["CCACHE_DIR"].endswith("build/ccache")
