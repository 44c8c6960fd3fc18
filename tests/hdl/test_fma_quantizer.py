"""FpFma (the AXPY lane) and Quantizer against the golden model."""

from __future__ import annotations

import numpy as np
import pytest

from fp8forge.golden import PRESETS, Rounding, fma, quantize
from fp8forge.golden.stimuli import operands
from fp8forge.hdl.arith import FpFma, Quantizer

from ..conftest import assert_bits_equal, covering_params
from .simkit import run_vectors

pytestmark = pytest.mark.amaranth_sim


def _sr(mode, rng, n, inputs):
    if mode is not Rounding.SR:
        return {}
    inputs["rand"] = rand = rng.integers(0, 1 << 12, n)
    return {"rand": rand, "rbits": 12}


@pytest.mark.parametrize("name, mode", covering_params(
    # the baseline's lane in RNE, the paper's in every mode
    [("fp32",), ("e6m9",), ("dlfloat16",)], list(Rounding), per_config=1, full=[("e6m9",)]),
    ids=lambda v: getattr(v, "name", v))
def test_fma_stimuli(name, mode, rng, volume):
    fmt = PRESETS[name]
    # (the lane's Verilog: tests/sim/test_axpy_cocotb.py, on both simulators)
    a, x, y = operands(fmt, volume(800), rng, op="fma")
    inputs = {"a": a, "x": x, "y": y}
    kwargs = _sr(mode, rng, len(a), inputs)
    got = run_vectors(FpFma(fmt, rounding=mode), inputs)
    assert_bits_equal(got, fma(a, x, y, fmt, mode, **kwargs), fmt, a=a, x=x, y=y)


def test_quantizer_e6m9_to_e5m2_every_code():
    e6m9, e5m2 = PRESETS["e6m9"], PRESETS["e5m2"]
    codes = np.arange(1 << 16, dtype=np.uint64)
    got = run_vectors(Quantizer(e6m9, e5m2), {"i": codes})
    assert_bits_equal(got, quantize(codes, e5m2, src_fmt=e6m9), e5m2, i=codes)


@pytest.mark.parametrize("src, dst", [("e6m9", "e5m2"), ("fp32", "e4m3fn"), ("fp16", "bf16")])
@pytest.mark.parametrize("mode", list(Rounding), ids=lambda m: m.name)
@pytest.mark.parametrize("saturate", [False, True], ids=["inf", "sat"])
def test_quantizer_modes(src, dst, mode, saturate, rng):
    src_fmt, dst_fmt = PRESETS[src], PRESETS[dst]
    (x,) = operands(src_fmt, 2_000, rng, op="quantize")
    inputs = {"i": x}
    kwargs = _sr(mode, rng, len(x), inputs)
    dut = Quantizer(src_fmt, dst_fmt, rounding=mode, saturate=saturate, stages=1)
    got = run_vectors(dut, inputs)
    want = quantize(x, dst_fmt, mode, src_fmt=src_fmt, saturate=saturate, **kwargs)
    assert_bits_equal(got, want, dst_fmt, i=x)
