"""All 65,536 operand pairs of the 8-bit formats against the exact oracle (and MPFR)."""

from __future__ import annotations

import numpy as np
import pytest

from fp8forge.golden import PRESETS, Rounding, add, mul

from ..conftest import assert_bits_equal
from . import mpfr_ref, oracle

FORMATS = [PRESETS["e5m2"], PRESETS["e4m3fn"]]
E6M9 = PRESETS["e6m9"]
SR_BITS = 4  # small so the few random values per pair cover both directions often


def all_pairs(fmt):
    codes = np.arange(1 << fmt.width, dtype=np.uint64)
    a, b = np.meshgrid(codes, codes, indexing="ij")
    return a.ravel(), b.ravel()


def commutative_reference(fn, operand_fmt, **kwargs):
    """``oracle.reference(fn, *all_pairs(fmt), **kwargs)`` for a commutative ``fn`` (exact
    addition and multiplication, one rounding): evaluated on the pairs a <= b and mirrored,
    which halves the time of the scalar oracle. A result that depended on the operand order
    would show up as a mismatch against the golden model, not pass unseen."""
    n = 1 << operand_fmt.width
    i, j = np.triu_indices(n)
    upper = oracle.reference(fn, i.astype(np.uint64), j.astype(np.uint64), **kwargs)
    out = np.empty((n, n), np.uint64)
    out[i, j] = upper
    out[j, i] = upper
    return out.ravel()


@pytest.mark.parametrize("fmt", FORMATS, ids=str)
@pytest.mark.parametrize(
    "out, mode",
    # e6m9 products are exact, so one mode suffices there.
    [("e6m9", Rounding.RNE), ("same", Rounding.RNE), ("same", Rounding.RTZ)],
    ids=["e6m9-RNE", "same-RNE", "same-RTZ"],
)
def test_mul_all_pairs(fmt, out, mode):
    out_fmt = E6M9 if out == "e6m9" else fmt
    a, b = all_pairs(fmt)
    got = mul(a, b, fmt, out_fmt, mode)
    want = commutative_reference(oracle.mul, fmt, in_fmt=fmt, out_fmt=out_fmt, mode=mode)
    assert_bits_equal(got, want, out_fmt, a=a, b=b)


@pytest.mark.parametrize("fmt", FORMATS, ids=str)
@pytest.mark.parametrize("mode", [Rounding.RNE, Rounding.RTZ], ids=lambda m: m.name)
def test_add_all_pairs(fmt, mode):
    a, b = all_pairs(fmt)
    got = add(a, b, fmt, mode)
    want = commutative_reference(oracle.add, fmt, fmt=fmt, mode=mode)
    assert_bits_equal(got, want, fmt, a=a, b=b)


@pytest.mark.parametrize("fmt", FORMATS, ids=str)
def test_add_all_pairs_sr(fmt, rng, volume):
    """Every pair with fresh random bits: once in make test, ten times in make test-long."""
    a, b = all_pairs(fmt)
    for _ in range(volume(1)):
        rand = rng.integers(0, 1 << SR_BITS, a.shape)
        got = add(a, b, fmt, Rounding.SR, rand=rand, rbits=SR_BITS)
        want = oracle.reference(oracle.add, a, b, fmt=fmt, mode=Rounding.SR, rand=rand,
                                rbits=SR_BITS)
        assert_bits_equal(got, want, fmt, a=a, b=b, rand=rand)


@pytest.mark.parametrize("fmt", FORMATS, ids=str)
def test_mul_sr_all_pairs(fmt, rng):
    a, b = all_pairs(fmt)
    rand = rng.integers(0, 1 << SR_BITS, a.shape)
    got = mul(a, b, fmt, fmt, Rounding.SR, rand=rand, rbits=SR_BITS)
    want = oracle.reference(oracle.mul, a, b, in_fmt=fmt, out_fmt=fmt, mode=Rounding.SR,
                            rand=rand, rbits=SR_BITS)
    assert_bits_equal(got, want, fmt, a=a, b=b, rand=rand)


@pytest.mark.parametrize("fmt", FORMATS, ids=str)
@pytest.mark.parametrize("op", ["add", "mul"])
def test_all_pairs_mpfr(fmt, op):
    """MPFR as a second, unrelated reference (RNE)."""
    a, b = all_pairs(fmt)
    if op == "add":
        got = add(a, b, fmt)
        want = commutative_reference(mpfr_ref.add, fmt, fmt=fmt, mode=Rounding.RNE)
    else:
        got = mul(a, b, fmt, fmt)
        want = commutative_reference(mpfr_ref.mul, fmt, in_fmt=fmt, out_fmt=fmt,
                                     mode=Rounding.RNE)
    assert_bits_equal(got, want, fmt, a=a, b=b)
