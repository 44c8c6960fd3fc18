"""FloatFormat: presets against published constants, finfo-style invariants, errors."""

from __future__ import annotations

from fractions import Fraction

import ml_dtypes
import numpy as np
import pytest

from fp8forge.golden import decode
from fp8forge.golden.formats import PRESETS, FloatFormat, Specials, parse_format

# Independent references: NumPy / ml_dtypes finfo for the formats they implement.
FINFO = {
    "e5m2": ml_dtypes.finfo(ml_dtypes.float8_e5m2),
    "e4m3fn": ml_dtypes.finfo(ml_dtypes.float8_e4m3fn),
    "fp16": np.finfo(np.float16),
    "bf16": ml_dtypes.finfo(ml_dtypes.bfloat16),
    "fp32": np.finfo(np.float32),
}


@pytest.mark.parametrize("name", sorted(FINFO))
def test_presets_match_finfo(name):
    fmt, info = PRESETS[name], FINFO[name]
    assert fmt.max_finite == Fraction(float(info.max))
    assert fmt.min_normal == Fraction(float(info.smallest_normal))
    assert fmt.min_subnormal == Fraction(float(info.smallest_subnormal))
    assert fmt.eps == Fraction(float(info.eps))
    assert fmt.width == info.bits


def test_paper_formats():
    e6m9 = PRESETS["e6m9"]
    assert (e6m9.exp_bits, e6m9.man_bits, e6m9.bias, e6m9.width) == (6, 9, 31, 16)
    assert e6m9.max_finite == (2 - Fraction(1, 512)) * 2**31
    assert e6m9.min_subnormal == Fraction(1, 2**39)
    dl = PRESETS["dlfloat16"]
    assert not dl.subnormals and dl.min_subnormal == dl.min_normal == Fraction(1, 2**30)
    assert PRESETS["e5m2"].max_finite == 57344 and PRESETS["e4m3fn"].max_finite == 448


def _random_formats(n, seed=7):
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < n:
        e, m = int(rng.integers(2, 12)), int(rng.integers(0, 53))
        specials = Specials.FN if rng.random() < 0.3 else Specials.IEEE
        bias = int(2 ** (e - 1) - 1 + rng.integers(-3, 4))
        try:
            out.append(FloatFormat(e, m, bias, specials, bool(rng.random() < 0.8)))
        except ValueError:
            continue
    return out


@pytest.mark.parametrize("fmt", list(PRESETS.values()) + _random_formats(40), ids=str)
def test_invariants(fmt):
    """finfo-style relations, every limit checked against a decoded encoding."""
    def value(bits):
        return Fraction(float(decode(np.array([bits], dtype=np.uint64), fmt)[0]))

    assert fmt.width == 1 + fmt.exp_bits + fmt.man_bits
    assert value(fmt.max_finite_bits) == fmt.max_finite
    assert value(1 << fmt.man_bits) == fmt.min_normal == Fraction(2) ** (1 - fmt.bias)
    assert fmt.eps == Fraction(1, 2**fmt.man_bits)
    if 1 <= fmt.bias <= fmt.emax_field:  # 1.0 is a normal number of this format
        one = fmt.bias << fmt.man_bits
        assert value(one) == 1
        assert value(one + 1) - 1 == fmt.eps
    if fmt.subnormals:
        assert value(1) == fmt.min_subnormal == fmt.min_normal * fmt.eps
    else:
        assert value(1) == 0 and fmt.min_subnormal == fmt.min_normal
    nan = decode(np.array([fmt.nan_bits], dtype=np.uint64), fmt)[0]
    assert np.isnan(nan)
    above = fmt.max_finite_bits + 1
    top = float(decode(np.array([above], dtype=np.uint64), fmt)[0])
    assert np.isnan(top) if fmt.specials is Specials.FN else top == np.inf
    assert parse_format(fmt.name) == fmt


def test_parse_format_names():
    assert parse_format("E5M2") is PRESETS["e5m2"]
    assert parse_format("e3m4") == FloatFormat(3, 4)
    assert parse_format("e4m3fn") == PRESETS["e4m3fn"]
    assert parse_format("e2m1fn").specials is Specials.FN
    assert FloatFormat(3, 4).name == "e3m4"
    assert FloatFormat(6, 9, bias=30).name == "e6m9[bias=30]"
    assert parse_format("e6m9[bias=30,ftz]") == FloatFormat(6, 9, 30, subnormals=False)
    with pytest.raises(ValueError, match="unknown format option 'x' in 'e6m9\\[x\\]'"):
        parse_format("e6m9[x]")


@pytest.mark.parametrize(
    "args, message",
    [
        ((1, 2), "exp_bits must be in 2..11, not 1"),
        ((12, 2), "exp_bits must be in 2..11, not 12"),
        ((5, 53), "man_bits must be in 0..52, not 53"),
        ((5, -1), "man_bits must be in 0..52, not -1"),
        ((5, 0), "man_bits must be at least 1 for ieee specials (NaN needs a mantissa)"),
        ((5, 2.5), "man_bits must be an integer, not 2.5"),
        ((5, 2, 1100), "bias 1100 puts e5m2 outside float64's exponent range"),
        ((11, 52, 1000), "bias 1000 puts e11m52 outside float64's exponent range"),
        ((5, 2, None, "xyz"), "specials must be 'ieee' or 'fn', not 'xyz'"),
        ((5, 2, None, "ieee", 1), "subnormals must be a bool, not 1"),
    ],
)
def test_invalid_parameters(args, message):
    with pytest.raises(ValueError) as info:
        FloatFormat(*args)
    assert str(info.value) == message


def test_unknown_name():
    with pytest.raises(ValueError, match="unknown format 'fp8'"):
        parse_format("fp8")
