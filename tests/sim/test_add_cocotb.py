"""FpAdd on Verilator and Icarus: e5m2 on all 65,536 pairs in RNE, RTZ and SR; e6m9 and fp32 in
RNE, RTZ and SR with TestFloat-style stimuli; fp16 vs NumPy.

Stimuli per format and mode: 10**5 on Verilator and 10**4 on Icarus (which evaluates a 16-lane
fp32 adder at about 3,000 sums a second). In make test Verilator runs every format and mode but
fp32 in RTZ (a mode no design uses it in; e6m9 covers the generator's RTZ), and Icarus checks
e5m2 and e6m9 in SR (the mode with the most logic; the three modes' RTL comes from one
generator). ``pytest --long`` (``make test-long``) runs every format and mode on Icarus too,
with 10**6 and 10**5 stimuli, and the fp16 and scoreboard checks (Icarus only in make test) on
Verilator.
"""

from __future__ import annotations

import pytest

from fp8forge.golden import PRESETS, Rounding
from fp8forge.hdl.arith import FpAdd
from fp8forge.hdl.lanes import Lanes
from fp8forge.sim.runner import SIMULATORS, run_bench

from .conftest import icarus_in_make_test, require_simulator

pytestmark = pytest.mark.rtl_sim
LANES = 16
#: Stimuli per (format, mode): make test, make test-long.
WIDE_STIMULI = {"verilator": (10**5, 10**6), "icarus": (10**4, 10**5)}


#: The rounding mode Icarus runs in make test (make test-long runs every mode on both).
ICARUS_MODE = Rounding.SR


def _on_both(mode: Rounding, simulator: str) -> list:
    return [] if simulator == "verilator" or mode is ICARUS_MODE else [pytest.mark.long]


@pytest.mark.parametrize("mode, simulator", [
    pytest.param(mode, sim, marks=_on_both(mode, sim), id=f"{sim}-{mode.name}")
    for mode in Rounding for sim in SIMULATORS])
def test_e5m2_all_pairs(mode, simulator):
    require_simulator(simulator)
    unit = Lanes(lambda: FpAdd(PRESETS["e5m2"], rounding=mode, rbits=12), LANES)
    run_bench("comb", unit, {"op": "add", "fmt": "e5m2", "rounding": mode.name, "rbits": 12,
                             "lanes": LANES, "stimuli": "all_pairs"}, sim=simulator)


def _wide_marks(fmt: str, mode: Rounding, simulator: str) -> list:
    # The baseline format on one simulator in make test, in the modes designs use it in (the
    # baseline's RNE accumulation and updates, a swept datapath's SR updates): its RTL comes
    # from the generator e6m9's does, which runs every mode on Verilator and SR on both. make
    # test-long runs fp32 in every mode on both.
    if fmt == "fp32":
        return [] if simulator == "verilator" and mode is not Rounding.RTZ else [pytest.mark.long]
    return _on_both(mode, simulator)


@pytest.mark.parametrize("fmt, mode, simulator", [
    pytest.param(fmt, mode, sim, id=f"{mode.name}-{fmt}-{sim}", marks=_wide_marks(fmt, mode, sim))
    for fmt in ("e6m9", "fp32") for mode in Rounding for sim in SIMULATORS])
def test_wide_stimuli(fmt, mode, simulator, request):
    require_simulator(simulator)
    count = WIDE_STIMULI[simulator][bool(request.config.getoption("--long"))]
    unit = Lanes(lambda: FpAdd(PRESETS[fmt], rounding=mode, rbits=12), LANES)
    run_bench("comb", unit, {"op": "add", "fmt": fmt, "rounding": mode.name, "rbits": 12,
                             "lanes": LANES, "stimuli": count}, sim=simulator)


@icarus_in_make_test  # the generator of the e6m9 and fp32 adders
def test_fp16_against_numpy_float16(simulator):
    unit = Lanes(lambda: FpAdd(PRESETS["fp16"]), LANES)
    run_bench("comb", unit, {"op": "add", "fmt": "fp16", "rounding": "RNE", "rbits": 0,
                             "lanes": LANES, "stimuli": 10_000, "numpy_float16": True},
              sim=simulator)


@icarus_in_make_test  # the scoreboard is the bench's, the same on both
def test_scoreboard_catches_a_wrong_unit(simulator):
    """An RTZ adder checked against RNE expectations must fail (the bench can fail)."""
    from fp8forge.sim.runner import BenchFailed

    unit = Lanes(lambda: FpAdd(PRESETS["e5m2"], rounding=Rounding.RTZ), LANES)
    with pytest.raises(BenchFailed, match=r"expected 0x[0-9a-f]+, got 0x[0-9a-f]+ "
                                          r"\(replay: FP8FORGE_SEED="):
        run_bench("comb", unit, {"op": "add", "fmt": "e5m2", "rounding": "RNE", "rbits": 0,
                                 "lanes": LANES, "stimuli": 2_000}, sim=simulator)
