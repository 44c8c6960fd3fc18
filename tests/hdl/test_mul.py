"""FpMul against the golden model: e5m2 pairs (exhaustive with ``--long``), stimuli for
fp16 -> fp32 and the rounded formats, latency."""

from __future__ import annotations

import pytest

from fp8forge.golden import PRESETS, Rounding, mul
from fp8forge.golden.stimuli import operands
from fp8forge.hdl.arith import FpMul

from ..conftest import assert_bits_equal
from .simkit import operand_pairs, run_vectors

pytestmark = pytest.mark.amaranth_sim
E5M2, E6M9, FP16, FP32 = (PRESETS[n] for n in ("e5m2", "e6m9", "fp16", "fp32"))


# e5m2 -> e6m9 on all pairs runs on both simulators (tests/sim/test_mul_cocotb.py); here the
# rounded product: all 65,536 pairs with ``--long`` (make test-long), a quarter of them drawn
# at random in make test (amaranth.sim takes about 0.1 ms a pair).
@pytest.mark.parametrize("out", ["e5m2"])
def test_e5m2_pairs(out, request, rng):
    out_fmt = PRESETS[out]
    a, b = operand_pairs(E5M2, rng, None if request.config.getoption("--long") else 1 << 14)
    dut = FpMul(E5M2, out_fmt)
    assert dut.exact == (out == "e6m9")
    got = run_vectors(dut, {"a": a, "b": b})
    assert_bits_equal(got, mul(a, b, E5M2, out_fmt), out_fmt, a=a, b=b)


def test_fp16_to_fp32_stimuli(rng):
    a, b = operands(FP16, 10_000, rng, op="mul")
    dut = FpMul(FP16, FP32)
    assert dut.exact
    got = run_vectors(dut, {"a": a, "b": b})
    assert_bits_equal(got, mul(a, b, FP16, FP32), FP32, a=a, b=b)


@pytest.mark.parametrize("mode", list(Rounding), ids=lambda m: m.name)
@pytest.mark.parametrize("name", ["e4m3fn", "e6m9", "bf16"])
def test_rounded_products(name, mode, rng):
    fmt = PRESETS[name]
    a, b = operands(fmt, 3_000, rng, op="mul")
    dut = FpMul(fmt, fmt, rounding=mode, rbits=8)
    inputs = {"a": a, "b": b}
    kwargs = {}
    if mode is Rounding.SR:
        inputs["rand"] = kwargs["rand"] = rng.integers(0, 256, len(a))
        kwargs["rbits"] = 8
    got = run_vectors(dut, inputs)
    assert_bits_equal(got, mul(a, b, fmt, fmt, mode, **kwargs), fmt, a=a, b=b)


@pytest.mark.parametrize("stages", [0, 1, 2])
def test_latency_equals_stages(stages, rng):
    a, b = operands(E5M2, 2_000, rng, op="mul")
    dut = FpMul(E5M2, E5M2, stages=stages)
    assert dut.latency == stages and dut.throughput == 1
    got = run_vectors(dut, {"a": a, "b": b})  # misaligned results if latency were wrong
    assert_bits_equal(got, mul(a, b, E5M2, E5M2), E5M2, a=a, b=b)


def test_exact_product_emits_no_rounding_port():
    assert "rand" not in FpMul(E5M2, E6M9, rounding=Rounding.SR).signature.members
    assert "rand" in FpMul(E5M2, E5M2, rounding=Rounding.SR).signature.members
