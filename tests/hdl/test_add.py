"""FpAdd in amaranth.sim against the golden model: e5m2 pairs in RNE, RTZ and SR (4,096 random
pairs; all 65,536 with ``--long``: the exhaustive runs in make test are the cocotb ones,
tests/sim/test_add_cocotb.py); e6m9/fp32 stimuli."""

from __future__ import annotations

import pytest

from fp8forge.golden import PRESETS, Rounding, add
from fp8forge.golden.stimuli import operands
from fp8forge.hdl.arith import FpAdd

from ..conftest import assert_bits_equal
from .simkit import operand_pairs, run_vectors

pytestmark = pytest.mark.amaranth_sim
E5M2 = PRESETS["e5m2"]


@pytest.fixture
def pairs(request, rng):
    """All e5m2 operand pairs with ``--long``, else 4,096 of them drawn at random."""
    return operand_pairs(E5M2, rng, None if request.config.getoption("--long") else 4096)


@pytest.mark.parametrize("mode", [Rounding.RNE, Rounding.RTZ], ids=lambda m: m.name)
def test_e5m2_pairs(mode, pairs):
    a, b = pairs
    got = run_vectors(FpAdd(E5M2, rounding=mode), {"a": a, "b": b})
    assert_bits_equal(got, add(a, b, E5M2, mode), E5M2, a=a, b=b)


def test_e5m2_pairs_sr(pairs, rng):
    """A random value per pair (12-bit SR)."""
    a, b = pairs
    rand = rng.integers(0, 1 << 12, a.shape)
    got = run_vectors(FpAdd(E5M2, rounding=Rounding.SR, rbits=12), {"a": a, "b": b, "rand": rand})
    want = add(a, b, E5M2, Rounding.SR, rand=rand, rbits=12)
    assert_bits_equal(got, want, E5M2, a=a, b=b, rand=rand)


@pytest.mark.parametrize("name", ["e6m9", "fp32"])
@pytest.mark.parametrize("mode", list(Rounding), ids=lambda m: m.name)
def test_wide_stimuli(name, mode, rng, volume):
    """A quick check in amaranth.sim (10**3 stimuli, 10**4 with ``--long``); the 10**5-stimuli
    runs per mode are the cocotb ones (tests/sim/test_add_cocotb.py, Verilator and Icarus)."""
    fmt = PRESETS[name]
    a, b = operands(fmt, volume(1_000), rng, op="add")
    inputs = {"a": a, "b": b}
    kwargs = {}
    if mode is Rounding.SR:
        inputs["rand"] = kwargs["rand"] = rng.integers(0, 1 << 12, len(a))
        kwargs["rbits"] = 12
    got = run_vectors(FpAdd(fmt, rounding=mode), inputs)
    assert_bits_equal(got, add(a, b, fmt, mode, **kwargs), fmt, a=a, b=b)


@pytest.mark.parametrize("stages", [1, 2])
def test_pipelined(stages, rng):
    fmt = PRESETS["dlfloat16"]
    a, b = operands(fmt, 2_000, rng, op="add")
    dut = FpAdd(fmt, stages=stages, saturate=True)
    assert dut.latency == stages
    got = run_vectors(dut, {"a": a, "b": b})
    assert_bits_equal(got, add(a, b, fmt, saturate=True), fmt, a=a, b=b)
