"""The conversion table equals the exact path for every table class and random lower bits."""

from __future__ import annotations

import numpy as np
import pytest

from fp8forge.golden import PRESETS, FloatFormat, Rounding, quantize
from fp8forge.golden.fastcast import table_applies

from ..conftest import assert_bits_equal


@pytest.mark.parametrize("name", ["e5m2", "e4m3fn", "e3m4"])
@pytest.mark.parametrize("mode", [Rounding.RNE, Rounding.RTZ], ids=lambda m: m.name)
@pytest.mark.parametrize("saturate", [False, True], ids=["inf", "sat"])
def test_float32_every_class(name, mode, saturate, rng):
    fmt = PRESETS.get(name) or FloatFormat(3, 4)
    top = np.arange(1 << 16, dtype=np.uint32) << np.uint32(16)
    lows = [np.zeros_like(top), np.ones_like(top), rng.integers(0, 1 << 16, top.shape,
                                                                 dtype=np.uint32)]
    x = np.concatenate([top | low for low in lows]).view(np.float32)
    assert table_applies(32, fmt, mode, x.size)
    got = quantize(x, fmt, mode, saturate=saturate)
    want = quantize(x, fmt, mode, saturate=saturate, _use_table=False)
    assert_bits_equal(got, want, fmt, x=x.view(np.uint32))


@pytest.mark.parametrize("name", ["e5m2", "e4m3fn"])
def test_float64_random_bits(name, rng):
    fmt = PRESETS[name]
    x = rng.integers(0, 2**64 - 1, 1 << 18, dtype=np.uint64, endpoint=True).view(np.float64)
    got = quantize(x, fmt)
    want = quantize(x, fmt, _use_table=False)
    assert_bits_equal(got, want, fmt, x=x.view(np.uint64))


def test_table_not_used_where_invalid():
    assert not table_applies(32, PRESETS["fp16"], Rounding.RNE, 1 << 20)  # too many man bits
    assert not table_applies(32, PRESETS["e5m2"], Rounding.SR, 1 << 20)
    assert not table_applies(32, PRESETS["e5m2"], Rounding.RNE, 100)  # too small to pay off
    # e3m4 with a huge bias reaches below float32's normal range: subnormal inputs matter.
    assert not table_applies(32, FloatFormat(3, 4, bias=130), Rounding.RNE, 1 << 20)
