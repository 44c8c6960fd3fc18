"""quantize against ml_dtypes' C++ casts and NumPy float16, including every tie midpoint."""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

from fp8forge.golden import PRESETS, Rounding, add, decode, mul, quantize

from ..conftest import assert_bits_equal
from . import oracle

TARGETS = {
    "e5m2": ml_dtypes.float8_e5m2,
    "e4m3fn": ml_dtypes.float8_e4m3fn,
    "fp16": np.float16,
    "bf16": ml_dtypes.bfloat16,
}


def _canonical_nan(bits, fmt):
    """ml_dtypes keeps the sign of NaN; the contract's canonical NaN is unsigned. Compare
    classes."""
    bits = bits.astype(np.uint64)
    return np.where(np.isnan(decode(bits, fmt)), np.uint64(fmt.nan_bits), bits)


def _ml_dtypes_cast(x32, name):
    fmt = PRESETS[name]
    with np.errstate(over="ignore", invalid="ignore"):
        return _canonical_nan(x32.astype(TARGETS[name]).view(f"u{fmt.width // 8}"), fmt)


def midpoints(fmt):
    """Every midpoint between adjacent finite values (and past max_finite), with neighbours."""
    codes = np.arange(fmt.max_finite_bits + 1, dtype=np.uint64)
    values = decode(codes, fmt)
    top = float(fmt.max_finite) + float(fmt.max_finite - decode(
        np.array([fmt.max_finite_bits - 1], dtype=np.uint64), fmt)[0])
    upper = np.append(values[1:], top)
    mids = ((values + upper) / 2).astype(np.float32)  # exact: precision <= 11 bits
    assert np.all(mids.astype(np.float64) == (values + upper) / 2)
    near = np.concatenate([mids, np.nextafter(mids, np.float32(0)), np.nextafter(mids,
                                                                              np.float32(np.inf))])
    return np.concatenate([near, -near])


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_ml_dtypes_tie_midpoints(name):
    fmt = PRESETS[name]
    x = midpoints(fmt)
    assert_bits_equal(quantize(x, fmt), _ml_dtypes_cast(x, name), fmt, x=x.view(np.uint32))


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_ml_dtypes_random_float32(name, rng):
    n = 10**6
    x = (rng.standard_normal(n) * np.exp2(rng.integers(-40, 40, n))).astype(np.float32)
    raw = rng.integers(0, 2**32, n // 10, dtype=np.uint64).astype(np.uint32).view(np.float32)
    x = np.concatenate([x, raw])
    fmt = PRESETS[name]
    assert_bits_equal(quantize(x, fmt), _ml_dtypes_cast(x, name), fmt, x=x.view(np.uint32))


def test_float64_input_is_rounded_once():
    """A float64 just above an e5m2 tie must round up; through float32 it would be a tie."""
    fmt = PRESETS["e5m2"]
    tie = 1.125  # midpoint of 1.0 and 1.25
    x = np.array([tie + 2.0**-40, tie - 2.0**-40, -(tie + 2.0**-40)])
    assert (x.astype(np.float32).astype(np.float64) == [tie, tie, -tie]).all()
    want = [oracle.quantize_float(float(v), fmt, Rounding.RNE) for v in x]
    assert quantize(x, fmt).tolist() == want == [0x3D, 0x3C, 0xBD]


@pytest.mark.parametrize("op", ["add", "mul"])
def test_fp16_against_numpy_float16(op, rng):
    """NumPy float16 arithmetic is a third reference for fp16 add and mul."""
    fmt = PRESETS["fp16"]
    a = rng.integers(0, 1 << 16, 10**6, dtype=np.uint64).astype(np.uint16)
    b = rng.integers(0, 1 << 16, 10**6, dtype=np.uint64).astype(np.uint16)
    with np.errstate(all="ignore"):
        ref = (np.add if op == "add" else np.multiply)(a.view(np.float16), b.view(np.float16))
    got = add(a, b, fmt) if op == "add" else mul(a, b, fmt, fmt)
    assert_bits_equal(got, _canonical_nan(ref.view(np.uint16), fmt), fmt, a=a, b=b)


def test_saturation_and_specials():
    e4m3, e5m2 = PRESETS["e4m3fn"], PRESETS["e5m2"]
    x = np.array([1e6, -1e6, np.inf, -np.inf, np.nan, 464.0, 465.0, -0.0])
    assert quantize(x, e4m3).tolist() == [0x7F, 0x7F, 0x7F, 0x7F, 0x7F, 0x7E, 0x7F, 0x80]
    assert quantize(x, e4m3, saturate=True).tolist() == [
        0x7E, 0xFE, 0x7E, 0xFE, 0x7F, 0x7E, 0x7E, 0x80]
    assert quantize(x, e5m2).tolist() == [0x7C, 0xFC, 0x7C, 0xFC, 0x7E, 0x5F, 0x5F, 0x80]
    assert quantize(x, e5m2, Rounding.RTZ).tolist() == [
        0x7B, 0xFB, 0x7C, 0xFC, 0x7E, 0x5F, 0x5F, 0x80]
