"""Stochastic rounding: exact up-probability, unbiasedness, exact results stay exact."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from fp8forge.golden import PRESETS, Rounding, add, decode, fma, quantize

E5M2, E6M9 = PRESETS["e5m2"], PRESETS["e6m9"]


def grid_neighbours(x: float, fmt) -> tuple[Fraction, Fraction]:
    """The two adjacent representable magnitudes around |x| (via RTZ and a step up)."""
    lo_bits = int(quantize(np.array([abs(x)]), fmt, Rounding.RTZ)[0])
    lo = Fraction(float(decode(np.array([lo_bits]), fmt)[0]))
    hi = Fraction(float(decode(np.array([lo_bits + 1]), fmt)[0]))
    return lo, hi


@pytest.mark.parametrize("rbits", [1, 3, 8])
def test_up_probability_is_exactly_F_over_2r(rbits, rng):
    """Enumerating every R in [0, 2**r): the number of round-ups is floor(f * 2**r)."""
    xs = rng.uniform(-3, 3, 200) * np.exp2(rng.integers(-18, 14, 200))
    for x in xs:
        lo, hi = grid_neighbours(x, E5M2)
        f = (abs(Fraction(x)) - lo) / (hi - lo)
        expected_ups = (f * 2**rbits).__floor__()
        rand = np.arange(1 << rbits)
        out = quantize(np.full(1 << rbits, x), E5M2, Rounding.SR, rand=rand, rbits=rbits)
        mags = np.abs(decode(out, E5M2))
        assert set(mags.tolist()) <= {float(lo), float(hi)}
        assert int((mags == float(hi)).sum()) == expected_ups, x
        assert np.all(np.signbit(decode(out, E5M2)) == (x < 0))


def test_exact_values_stay_exact():
    codes = np.arange(0x7C, dtype=np.uint8)  # every finite non-negative e5m2 value
    values = decode(codes, E5M2)
    for r in range(16):
        out = quantize(values, E5M2, Rounding.SR, rand=np.full(values.shape, r), rbits=4)
        assert np.array_equal(out, codes)


@pytest.mark.parametrize("rbits", [8, 12])
def test_quantize_sr_is_unbiased(rbits, rng):
    """Mean of many SR results equals the value within 5 sigma plus the rbits truncation."""
    n = 200_000
    for x in rng.uniform(0.1, 100, 10):
        lo, hi = grid_neighbours(x, E6M9)
        out = quantize(np.full(n, x), E6M9, Rounding.SR, rand=rng.integers(0, 1 << rbits, n),
                       rbits=rbits)
        mean = decode(out, E6M9).mean()
        step = float(hi - lo)
        sigma = step / 2 / np.sqrt(n)
        assert abs(mean - x) <= 5 * sigma + step * 2.0**-rbits, (x, mean)


def test_weight_update_sr_tracks_exact_in_expectation(rng):
    """w = w - lr*g with updates far below half an ulp: RNE loses them all, SR keeps them."""
    n = 100_000
    w = quantize(np.full(n, 1.0), E6M9)
    lr = quantize(np.array(-2.0**-14), E6M9)
    g = quantize(np.full(n, 1.0), E6M9)
    rne = fma(lr, g, w, E6M9)
    assert np.array_equal(rne, w)  # 2**-14 is below half an ulp of 1.0 (2**-10)
    sr = fma(lr, g, w, E6M9, Rounding.SR, rand=rng.integers(0, 1 << 12, n), rbits=12)
    mean = decode(sr, E6M9).mean()
    # The exact update is 1 - 2**-14; ulp below 1.0 is 2**-10, so p(down) = 2**-4.
    assert abs(mean - (1 - 2.0**-14)) <= 5 * 2.0**-10 * 0.25 / np.sqrt(n)


def test_sr_add_unbiased_over_many_values(rng):
    """QPyTorch-style: the mean SR error over random sums is zero within its bound."""
    n = 200_000
    a = quantize(rng.standard_normal(n), E6M9)
    b = quantize(rng.standard_normal(n) * 1e-3, E6M9)
    exact = decode(a, E6M9) + decode(b, E6M9)  # exact in float64 at these magnitudes
    out = add(a, b, E6M9, Rounding.SR, rand=rng.integers(0, 1 << 16, n), rbits=16)
    err = decode(out, E6M9) - exact
    assert abs(err.mean()) <= 5 * err.std() / np.sqrt(n) + 2.0**-16 * np.abs(exact).max()
    rne_err = decode(add(a, b, E6M9), E6M9) - exact
    assert np.abs(err).max() < 2 * np.abs(rne_err).max() + 1e-12
