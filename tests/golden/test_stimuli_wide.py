"""16-bit and wider formats: TestFloat-style stimuli against the exact oracle and MPFR.

Default volume: 2*10**4 cases per (format, operation, mode), i.e. 10**5 per operation and mode
over the five formats. ``pytest --long`` (``make test-long``) multiplies that by 10.
"""

from __future__ import annotations

import numpy as np
import pytest

from fp8forge.golden import PRESETS, Rounding, add, fma, mul, quantize
from fp8forge.golden.bits import FLOAT64
from fp8forge.golden.stimuli import operands

from ..conftest import assert_bits_equal
from . import mpfr_ref, oracle

FORMATS = [PRESETS[n] for n in ("e6m9", "fp16", "bf16", "fp32", "dlfloat16")]
MODES = list(Rounding)
RBITS = 12
#: Narrow targets for conversions from each wide format.
NARROW = [PRESETS["e5m2"], PRESETS["e4m3fn"]]


@pytest.fixture
def count(volume):
    return volume(10_000)


def _rand(mode, rng, n):
    return rng.integers(0, 1 << RBITS, n) if mode is Rounding.SR else None


def _sr_kwargs(mode, rand):
    return {"rand": rand, "rbits": RBITS} if mode is Rounding.SR else {}


@pytest.mark.parametrize("fmt", FORMATS, ids=str)
@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.name)
@pytest.mark.parametrize("op", ["mul", "add", "fma"])
def test_arith_stimuli(fmt, mode, op, rng, count):
    ops = operands(fmt, count, rng, op=op)
    rand = _rand(mode, rng, count)
    kw = _sr_kwargs(mode, rand)
    if op == "mul":
        got = mul(*ops, fmt, fmt, mode, **kw)
        want = oracle.reference(oracle.mul, *ops, in_fmt=fmt, out_fmt=fmt, mode=mode, **kw)
    elif op == "add":
        got = add(*ops, fmt, mode, **kw)
        want = oracle.reference(oracle.add, *ops, fmt=fmt, mode=mode, **kw)
    else:
        got = fma(*ops, fmt, mode, **kw)
        want = oracle.reference(oracle.fma, *ops, fmt=fmt, mode=mode, **kw)
    names = ("a", "b") if op != "fma" else ("a", "x", "y")
    assert_bits_equal(
        got, want, fmt, **dict(zip(names, ops, strict=True)), rand=rand if rand is not None else 0
    )


@pytest.mark.parametrize("fmt", FORMATS, ids=str)
@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.name)
@pytest.mark.parametrize("saturate", [False, True], ids=["inf", "sat"])
def test_quantize_from_float64(fmt, mode, saturate, rng, count):
    """float64 -> fmt, single rounding from the exact float64 value."""
    (x_bits,) = operands(FLOAT64, count // 2, rng, op="quantize")
    # Also values around fmt's own range, where rounding decisions happen.
    near = rng.standard_normal(count // 2) * np.exp2(
        rng.integers(
            -(1 << fmt.exp_bits) // 2 - fmt.man_bits, (1 << fmt.exp_bits) // 2 + 2, count // 2
        )
    )
    x = np.concatenate([x_bits.view(np.float64), near])
    rand = _rand(mode, rng, count)
    got = quantize(x, fmt, mode, saturate=saturate, **_sr_kwargs(mode, rand))
    want = oracle.reference(
        oracle.quantize,
        x.view(np.uint64),
        src=FLOAT64,
        fmt=fmt,
        mode=mode,
        saturate=saturate,
        **_sr_kwargs(mode, rand),
    )
    assert_bits_equal(got, want, fmt, x=x.view(np.uint64), rand=rand if rand is not None else 0)


@pytest.mark.parametrize("src", FORMATS, ids=str)
@pytest.mark.parametrize("dst", NARROW, ids=str)
@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.name)
def test_quantize_between_formats(src, dst, mode, rng, count):
    (x,) = operands(src, count // 4, rng, op="quantize")
    rand = _rand(mode, rng, len(x))
    got = quantize(x, dst, mode, src_fmt=src, **_sr_kwargs(mode, rand))
    want = oracle.reference(
        oracle.quantize, x, src=src, fmt=dst, mode=mode, **_sr_kwargs(mode, rand)
    )
    assert_bits_equal(got, want, dst, x=x, rand=rand if rand is not None else 0)


@pytest.mark.parametrize("fmt", FORMATS, ids=str)
@pytest.mark.parametrize("op", ["mul", "add", "fma"])
@pytest.mark.parametrize("mode", [Rounding.RNE, Rounding.RTZ], ids=lambda m: m.name)
def test_arith_stimuli_mpfr(fmt, op, mode, rng):
    """MPFR as a second reference on a smaller sample."""
    ops = operands(fmt, 5_000, rng, op=op)
    if op == "mul":
        got = mul(*ops, fmt, fmt, mode)
        want = oracle.reference(mpfr_ref.mul, *ops, in_fmt=fmt, out_fmt=fmt, mode=mode)
    elif op == "add":
        got = add(*ops, fmt, mode)
        want = oracle.reference(mpfr_ref.add, *ops, fmt=fmt, mode=mode)
    else:
        got = fma(*ops, fmt, mode)
        want = oracle.reference(mpfr_ref.fma, *ops, fmt=fmt, mode=mode)
    assert_bits_equal(got, want, fmt, **{f"op{i}": o for i, o in enumerate(ops)})


@pytest.mark.parametrize("fmt", FORMATS, ids=str)
@pytest.mark.parametrize("op", ["add", "fma"])
def test_stimuli_reach_every_rounding_case(fmt, op, rng):
    """The catalogue must exercise ties, overflow, subnormal results and exact cancellation."""
    ops = operands(fmt, 20_000, rng, op=op)
    exact = oracle.exact_sum if op == "add" else oracle.exact_fma
    cases = [oracle.rounding_case(*exact(*map(int, t), fmt), fmt) for t in zip(*ops, strict=True)]
    counts = {c: cases.count(c) for c in set(cases)}
    for case in ("tie", "overflow", "zero", "special", "inexact", "exact"):
        assert counts.get(case, 0) >= 100, counts
    if fmt.subnormals:
        assert counts.get("subnormal", 0) >= 100, counts
