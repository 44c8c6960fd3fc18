"""FpMul on Verilator and Icarus: e5m2 x e5m2 -> e6m9 on all 65,536 pairs; fp16 against NumPy
(on Icarus in make test: its RTL comes from the generator of the e5m2 one; on both in make
test-long)."""

from __future__ import annotations

import pytest

from fp8forge.golden import PRESETS
from fp8forge.hdl.arith import FpMul
from fp8forge.hdl.lanes import Lanes
from fp8forge.sim.runner import run_bench

from .conftest import icarus_in_make_test

pytestmark = pytest.mark.rtl_sim
LANES = 16


def test_e5m2_e6m9_all_pairs(simulator):
    unit = Lanes(lambda: FpMul(PRESETS["e5m2"], PRESETS["e6m9"]), LANES)
    run_bench("comb", unit, {"op": "mul", "fmt": "e5m2", "out_fmt": "e6m9", "rounding": "RNE",
                             "rbits": 0, "lanes": LANES, "stimuli": "all_pairs"}, sim=simulator)


@icarus_in_make_test
def test_fp16_against_numpy_float16(simulator):
    unit = Lanes(lambda: FpMul(PRESETS["fp16"], PRESETS["fp16"]), LANES)
    run_bench("comb", unit, {"op": "mul", "fmt": "fp16", "out_fmt": "fp16", "rounding": "RNE",
                             "rbits": 0, "lanes": LANES, "stimuli": 10_000,
                             "numpy_float16": True}, sim=simulator)
