"""Bad inputs give TypeError/ValueError naming the argument."""

from __future__ import annotations

import numpy as np
import pytest

from fp8forge.golden import PRESETS, Rounding, add, chunked_sum, decode, fma, gemm, mul, quantize

E5M2, E6M9 = PRESETS["e5m2"], PRESETS["e6m9"]
U8 = np.array([1, 2], dtype=np.uint8)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: add(np.array([1.0]), U8, E5M2), TypeError,
         "a must be an integer array of e5m2 bit patterns, not dtype float64"),
        (lambda: add(U8, np.array([256]), E5M2), ValueError,
         "b holds 0x100, which is not a 8-bit e5m2 pattern"),
        (lambda: add(U8, np.array([-1]), E5M2), ValueError,
         "b holds -0x1, which is not a 8-bit e5m2 pattern"),
        (lambda: add(U8, np.array([1, 2, 3], dtype=np.uint8), E5M2), ValueError,
         "shapes do not broadcast: a(2,), b(3,)"),
        (lambda: add(U8, U8, E5M2, Rounding.SR, rbits=4), ValueError,
         "rand is required for Rounding.SR (one random integer per result)"),
        (lambda: add(U8, U8, E5M2, Rounding.SR, rand=np.array([16, 0]), rbits=4), ValueError,
         "rand values must lie in [0, 2**4)"),
        (lambda: add(U8, U8, E5M2, Rounding.SR, rand=np.array([1, 0]), rbits=0), ValueError,
         "rbits must be in 1..32 for Rounding.SR, not 0"),
        (lambda: add(U8, U8, E5M2, Rounding.SR, rand=np.array([1, 0, 1]), rbits=4), ValueError,
         "rand shape (3,) does not match the result shape (2,)"),
        (lambda: add(U8, U8, E5M2, rand=np.array([1, 0])), ValueError,
         "rand is only used with Rounding.SR, not RNE"),
        (lambda: add(U8, U8, E5M2, "rne"), TypeError, "rounding must be a Rounding, not 'rne'"),
        (lambda: add(U8, U8, 5.2), TypeError,
         "fmt must be a FloatFormat or a format name, not 5.2"),
        (lambda: add(U8, U8, "fp8"), ValueError, "unknown format 'fp8': use one of e5m2, "
         "e4m3fn, e6m9, dlfloat16, fp16, bf16, fp32, or eXmY / eXmYfn"),
        (lambda: add(U8, U8, PRESETS["fp32"].__class__(11, 52)), ValueError,
         "add supports formats of at most 24 significand bits; fmt=e11m52 has 53"),
        (lambda: mul(U8, U8, E5M2, E6M9, Rounding.SR, rand=np.array([0.5, 1]), rbits=2),
         TypeError, "rand must be an integer array, not dtype float64"),
        (lambda: fma(U8, U8, np.array([1.0]), E5M2), TypeError,
         "y must be an integer array of e5m2 bit patterns, not dtype float64"),
        (lambda: quantize(U8, E5M2), TypeError,
         "x must be a floating-point array (or pass src_fmt for bit patterns), not dtype uint8"),
        (lambda: decode(np.array([1.5]), E5M2), TypeError,
         "bits must be an integer array of e5m2 bit patterns, not dtype float64"),
        (lambda: chunked_sum(U8, E5M2, 0), ValueError,
         "Chunk length must be a positive integer or None, not 0"),
        (lambda: chunked_sum(np.uint8(3), E5M2, 2), ValueError,
         "addends must have at least one axis (the summed one)"),
        (lambda: gemm(np.zeros((2, 3), np.uint8), np.zeros((2, 3), np.uint8), E5M2, E6M9,
                      chunk=4), ValueError, "A is (2, 3) and B is (2, 3): inner dimensions differ"),
        (lambda: gemm(U8, U8, E5M2, E6M9, chunk=4), ValueError,
         "A and B must be 2-D, not shapes (2,) and (2,)"),
    ],
)
def test_errors_name_the_argument(call, error, message):
    with pytest.raises(error) as info:
        call()
    assert str(info.value) == message


def test_every_function_takes_format_names():
    """A format name works wherever a FloatFormat does, with the same bits."""
    e5m2, e6m9 = PRESETS["e5m2"], PRESETS["e6m9"]
    x = np.array([0.1, -3.0, 1e9, 2.0**-17])
    a = quantize(x, e5m2)
    b = a[::-1].copy()
    assert np.array_equal(quantize(x, "e5m2"), a)
    assert np.array_equal(decode(a, "e5m2"), decode(a, e5m2), equal_nan=True)
    assert np.array_equal(mul(a, b, "e5m2", "e6m9"), mul(a, b, e5m2, e6m9))
    p = mul(a, b, e5m2, e6m9)
    assert np.array_equal(add(p, p, "e6m9"), add(p, p, e6m9))
    assert np.array_equal(fma(p, p, p, "e6m9"), fma(p, p, p, e6m9))
    assert np.array_equal(chunked_sum(p[None], "e6m9", 2), chunked_sum(p[None], e6m9, 2))
    A, B = a.reshape(2, 2), b.reshape(2, 2)
    assert np.array_equal(gemm(A, B, "e5m2", "e6m9", chunk=1, out_fmt="e5m2"),
                          gemm(A, B, e5m2, e6m9, chunk=1, out_fmt=e5m2))


@pytest.mark.parametrize("call", [
    lambda: decode(np.zeros(2, np.uint8), 3),
    lambda: chunked_sum(np.zeros((1, 2), np.uint16), PRESETS, 4),
    lambda: gemm(np.zeros((1, 1), np.uint8), np.zeros((1, 1), np.uint8), None, "e6m9", chunk=1),
    lambda: quantize(np.zeros(2), object()),
])
def test_non_formats_are_type_errors(call):
    with pytest.raises(TypeError, match="must be a FloatFormat or a format name"):
        call()


def test_accumulation_rejects_formats_the_arithmetic_cannot_round():
    """chunked_sum and gemm have add's limit (24 significand bits), not a silent wrong SR."""
    wide = "e11m52"
    with pytest.raises(ValueError, match="chunked_sum supports formats of at most 24"):
        chunked_sum(np.zeros((1, 2), np.uint64), wide, 1)
    with pytest.raises(ValueError, match="gemm supports formats of at most 24"):
        gemm(np.zeros((1, 1), np.uint8), np.zeros((1, 1), np.uint8), "e5m2", wide, chunk=1)


def test_long_double_input_is_not_rounded_twice():
    x = np.array([1 + 2.0**-3 + 2.0**-60], dtype=np.longdouble)
    if np.finfo(np.longdouble).nmant <= 52:
        pytest.skip("long double is float64 on this platform")
    with pytest.raises(TypeError, match="wider than float64"):
        quantize(x, "e5m2")
