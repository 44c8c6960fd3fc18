"""What synthesis built still computes the golden model: the Yosys gate-level netlist of the FP8
MAC PE, simulated on Verilator and Icarus, on >= 10**4 products in framed dot products."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fp8forge.golden import PRESETS
from fp8forge.hdl.accumulator import MacPE
from fp8forge.hdl.generate import generate_verilog
from fp8forge.scripts.synth import synthesized_netlist
from fp8forge.sim.runner import TOPLEVEL, run_bench

pytestmark = pytest.mark.simulator


def test_fp8_pe_netlist_matches_golden(simulator):
    rtl = generate_verilog(MacPE(PRESETS["e5m2"], PRESETS["e6m9"], chunk=64), TOPLEVEL)
    netlist = synthesized_netlist(rtl, TOPLEVEL, cache_dir=Path("build") / "synth" / "cache")
    assert "always" in netlist and "MacPE" not in netlist  # gates and flops, no RTL left
    lengths = [1, 63, 64, 65, 323] + np.random.default_rng(5).integers(1, 400, 55).tolist()
    assert sum(lengths) >= 10_000
    run_bench("accumulate", netlist, {"unit": "mac", "in_fmt": "e5m2", "acc_fmt": "e6m9",
                                      "chunk": 64, "lengths": lengths, "stall": 0.1,
                                      "specials": 0.02}, sim=simulator)
