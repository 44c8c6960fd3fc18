"""What synthesis built still computes the golden model: the Yosys gate-level netlist of the FP8
MAC PE, simulated on Verilator and Icarus, on >= 10**4 products in framed dot products.

In make test both netlists run on Icarus (the energy flow's simulator when it is installed);
make test-long runs them on Verilator too (``tests/scripts/test_energy.py`` simulates a mapped
netlist on Verilator in make test)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fp8forge.golden import PRESETS
from fp8forge.hdl.accumulator import MacPE
from fp8forge.hdl.generate import generate_verilog
from fp8forge.scripts.synth import synthesized_netlist
from fp8forge.sim.runner import TOPLEVEL, run_bench

from .conftest import icarus_in_make_test

pytestmark = [pytest.mark.rtl_sim, pytest.mark.eda]


@icarus_in_make_test  # the module text says why
def test_fp8_pe_netlist_matches_golden(simulator):
    rtl = generate_verilog(MacPE(PRESETS["e5m2"], PRESETS["e6m9"], chunk=64), TOPLEVEL)
    netlist = synthesized_netlist(rtl, TOPLEVEL, cache_dir=Path("build") / "synth" / "cache")
    assert "always" in netlist and "MacPE" not in netlist  # gates and flops, no RTL left
    lengths = [1, 63, 64, 65, 323] + np.random.default_rng(5).integers(1, 400, 55).tolist()
    assert sum(lengths) >= 10_000
    run_bench("accumulate", netlist, {"unit": "mac", "in_fmt": "e5m2", "acc_fmt": "e6m9",
                                      "chunk": 64, "lengths": lengths, "stall": 0.1,
                                      "specials": 0.02}, sim=simulator)


@icarus_in_make_test  # the module text says why
def test_clock_gated_pe_netlist_matches_golden(simulator, tmp_path):
    """The energy figures of ``clock_gating`` come from this netlist: mapped to the shipped
    library with integrated clock-gating cells (and their models, ``clock_gate_models``), it
    still computes the golden dot products, stalls included."""
    from fp8forge.pdk import resolve_liberty
    from fp8forge.scripts.energy import simulation_model
    from fp8forge.scripts.synth import _prepare_liberty, _synthesize

    rtl = generate_verilog(MacPE(PRESETS["e5m2"], PRESETS["e6m9"], chunk=8), TOPLEVEL)
    report, work = _synthesize(rtl, TOPLEVEL, resolve_liberty(None),
                               Path("build") / "synth" / "cache", 24.7, clock_gating=True)
    assert report.clock_gates >= 2  # the chunk adder's and the outer sum's registers
    (tmp_path / "mapped.v").write_text((work / "mapped.v").read_text())
    lib_file = _prepare_liberty(resolve_liberty(None), tmp_path)
    netlist = simulation_model(tmp_path, lib_file, TOPLEVEL).read_text()
    lengths = [1, 7, 8, 9, 43] + np.random.default_rng(6).integers(1, 40, 40).tolist()
    run_bench("accumulate", netlist, {"unit": "mac", "in_fmt": "e5m2", "acc_fmt": "e6m9",
                                      "chunk": 8, "lengths": lengths, "stall": 0.2,
                                      "specials": 0.02}, sim=simulator)
