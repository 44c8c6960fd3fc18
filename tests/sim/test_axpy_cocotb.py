"""AxpyUnit with its internal LFSR on Verilator and Icarus: bit-exact against golden fma fed
the mirrored LFSR stream, and SR unbiased on the RTL output."""

from __future__ import annotations

import pytest

from fp8forge.golden import PRESETS
from fp8forge.hdl.axpy import AxpyUnit
from fp8forge.sim.runner import run_bench

pytestmark = pytest.mark.rtl_sim


def test_axpy_lfsr(simulator):
    unit = AxpyUnit(PRESETS["e6m9"], lanes=4, rbits=12, seed=0xBEEF, stages=1)
    run_bench("axpy", unit, {"fmt": "e6m9", "lanes": 4, "rbits": 12, "seed_lfsr": 0xBEEF,
                             "lfsr_width": unit.lfsr_width, "count": 2_000, "stall": 0.2,
                             "latency": unit.latency}, sim=simulator)
