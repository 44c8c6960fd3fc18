"""ChunkAccumulator and MacPE on Verilator and Icarus: dot products across chunk boundaries with
specials inside, under random valid stalls.

The chunked standalone ChunkAccumulator runs on Icarus in make test (on both in make
test-long): on Verilator it runs inside the MacPE here. The unchunked one runs on both."""

from __future__ import annotations

import pytest

from fp8forge.golden import PRESETS
from fp8forge.hdl.accumulator import ChunkAccumulator, MacPE
from fp8forge.sim.runner import run_bench

pytestmark = pytest.mark.rtl_sim


def lengths(chunk):
    cl = chunk or 8
    return [1, cl - 1 or 1, cl, cl + 1, 5 * cl + 3] * 2


@pytest.mark.parametrize("chunk, simulator", [
    pytest.param(4, "icarus"), pytest.param(4, "verilator", marks=pytest.mark.long),
    pytest.param(None, "icarus"), pytest.param(None, "verilator")], indirect=["simulator"])
def test_chunk_accumulator(chunk, simulator):
    unit = ChunkAccumulator(PRESETS["e6m9"], chunk=chunk)
    run_bench("accumulate", unit, {"unit": "acc", "in_fmt": "e5m2", "acc_fmt": "e6m9",
                                   "chunk": chunk, "lengths": lengths(chunk), "stall": 0.3,
                                   "specials": 0.03}, sim=simulator)


def test_mac_pe(simulator):
    unit = MacPE(PRESETS["e5m2"], PRESETS["e6m9"], chunk=8, stages=1)
    run_bench("accumulate", unit, {"unit": "mac", "in_fmt": "e5m2", "acc_fmt": "e6m9",
                                   "chunk": 8, "lengths": lengths(8), "stall": 0.3,
                                   "specials": 0.05}, sim=simulator)
