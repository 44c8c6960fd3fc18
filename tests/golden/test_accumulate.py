"""chunked_sum and gemm against a slow scalar reference that follows the contract's loop
literally."""

from __future__ import annotations

import numpy as np
import pytest

from fp8forge.golden import PRESETS, Rounding, chunked_sum, gemm, mul, quantize

from ..conftest import assert_bits_equal
from . import oracle

E5M2, E6M9, FP16, FP32 = (PRESETS[n] for n in ("e5m2", "e6m9", "fp16", "fp32"))


def reference_gemm(a, b, in_fmt, acc_fmt, chunk, mode=Rounding.RNE):
    """Python loops over exact Fractions in the chunk order of contract section 2."""
    m, k_len = a.shape
    out = np.zeros((m, b.shape[1]), dtype=np.uint64)
    for i in range(m):
        for j in range(b.shape[1]):
            products = []
            for k in range(k_len):
                bits = oracle.mul(int(a[i, k]), int(b[k, j]), in_fmt, acc_fmt, Rounding.RNE)
                products.append(oracle.decode(bits, acc_fmt))
            out[i, j] = oracle.chunked_sum(products, acc_fmt, chunk, mode)
    return out


def random_operands(rng, shape, fmt, specials=0.0, scale=1.0):
    values = quantize(rng.standard_normal(shape) * scale, fmt)
    if specials:
        codes = np.array([fmt.nan_bits, fmt.inf_bits or 0, fmt.sign_mask | 1, 1, fmt.sign_mask])
        mask = rng.random(shape) < specials
        values = np.where(mask, codes[rng.integers(0, len(codes), shape)], values)
    return values.astype(values.dtype)


SHAPES = [  # (M, K, N, chunk)
    (3, 1, 2, 4),
    (2, 3, 3, 4),  # K < chunk
    (3, 4, 2, 4),  # K == chunk
    (2, 5, 3, 4),  # K == chunk + 1
    (2, 23, 2, 4),  # 5 * chunk + 3
    (3, 17, 2, 1),  # chunk = 1: sequential
    (2, 19, 3, None),  # no chunking
    (2, 40, 2, 64),
    (2, 16, 3, 4),  # four full chunks, summed side by side
]


@pytest.mark.parametrize("m, k, n, chunk", SHAPES)
@pytest.mark.parametrize("mode", [Rounding.RNE, Rounding.RTZ], ids=lambda m: m.name)
def test_gemm_e5m2_against_reference(m, k, n, chunk, mode, rng):
    a = random_operands(rng, (m, k), E5M2, specials=0.05, scale=8.0)
    b = random_operands(rng, (k, n), E5M2, scale=1 / 8)
    got = gemm(a, b, E5M2, E6M9, chunk=chunk, rounding=mode)
    assert_bits_equal(got, reference_gemm(a, b, E5M2, E6M9, chunk, mode), E6M9)


@pytest.mark.parametrize("m, k, n, chunk", SHAPES[::2])
def test_gemm_fp16_fp32_baseline(m, k, n, chunk, rng):
    a = random_operands(rng, (m, k), FP16, specials=0.05)
    b = random_operands(rng, (k, n), FP16)
    got = gemm(a, b, FP16, FP32, chunk=chunk)
    assert_bits_equal(got, reference_gemm(a, b, FP16, FP32, chunk), FP32)


def test_gemm_rounded_products(rng):
    """e4m3fn x e4m3fn -> e5m2 accumulation: products are rounded before accumulation."""
    fmt, acc = PRESETS["e4m3fn"], E5M2
    a = random_operands(rng, (3, 9), fmt)
    b = random_operands(rng, (9, 2), fmt)
    assert_bits_equal(gemm(a, b, fmt, acc, chunk=4), reference_gemm(a, b, fmt, acc, 4), acc)


@pytest.mark.parametrize("fmt", ["e6m9", "fp16", "e4m3fn", "e5m2"])
@pytest.mark.parametrize("chunk", [1, 4, None])
def test_gemm_products_rounded_into_the_same_format(fmt, chunk, rng):
    """Products rounded into acc_fmt (the 16-bit first/last layers of the paper's recipe):
    specials, overflow and subnormal products against the Fraction reference."""
    f = PRESETS[fmt]
    for scale in (1.0, float(f.max_finite) ** 0.5, float(f.min_normal) ** 0.5):
        a = random_operands(rng, (3, 11), f, specials=0.05, scale=scale)
        b = random_operands(rng, (11, 2), f, scale=scale)
        assert_bits_equal(gemm(a, b, f, f, chunk=chunk), reference_gemm(a, b, f, f, chunk), f)


def test_gemm_out_fmt(rng):
    a = random_operands(rng, (4, 30), E5M2)
    b = random_operands(rng, (30, 5), E5M2)
    acc = gemm(a, b, E5M2, E6M9, chunk=8)
    out = gemm(a, b, E5M2, E6M9, chunk=8, out_fmt=E5M2)
    assert_bits_equal(out, quantize(acc, E5M2, src_fmt=E6M9), E5M2)


@pytest.mark.parametrize("acc", ["e6m9", "fp32", "dlfloat16", "bf16"])
@pytest.mark.parametrize("chunk", [1, 16, None])
def test_fast_paths_equal_integer_path(acc, chunk, rng):
    """The float64 NumPy path and the compiled one (RNE) agree with the exact integer path."""
    acc_fmt = PRESETS[acc]
    scale = np.exp2(rng.integers(-12, 12, (24, 300)))
    values = quantize(rng.standard_normal((24, 300)) * scale, acc_fmt)
    values[0, 5] = acc_fmt.nan_bits
    if acc_fmt.inf_bits is not None:
        values[1, 7] = acc_fmt.inf_bits
    values[2, :] = acc_fmt.max_finite_bits  # overflow
    values[3, :] = 1  # smallest subnormal (zero without subnormals)
    exact = chunked_sum(values, acc_fmt, chunk, engine="exact")
    assert_bits_equal(chunked_sum(values, acc_fmt, chunk, engine="numpy"), exact, acc_fmt)
    assert_bits_equal(chunked_sum(values, acc_fmt, chunk, engine="compiled"), exact, acc_fmt)


def test_swamping_and_chunking_rescue():
    """4096 addends of 2**-4 in e6m9 (10-bit significand).

    Sequentially, once the sum reaches 2**10 addends = 2**6, each addend is exactly half an ulp
    and the tie rounds to the even value: the sum stalls at 64 instead of 256. With chunk 64
    every partial sum (4) and the outer sum (256) is exact.
    """
    addend = quantize(np.full((1, 4096), 2.0**-4), E6M9)
    from fp8forge.golden import decode

    plain = decode(chunked_sum(addend, E6M9, 1), E6M9)[0]
    chunked = decode(chunked_sum(addend, E6M9, 64), E6M9)[0]
    assert plain == 64.0 and chunked == 256.0


@pytest.mark.parametrize("chunk", [1, 5, None])
def test_chunked_sum_sr_matches_scalar_loop(chunk, rng):
    """SR with explicit random numbers: inner rand per addend, outer rand per chunk."""
    from fp8forge.golden import add

    values = quantize(rng.standard_normal((6, 13)), E6M9)
    n_chunks = 1 if chunk is None else -(-13 // chunk)
    rand = rng.integers(0, 1 << 8, (6, 13))
    rand_outer = rng.integers(0, 1 << 8, (6, n_chunks))
    got = chunked_sum(values, E6M9, chunk, Rounding.SR, rand=rand, rand_outer=rand_outer, rbits=8)
    step = 13 if chunk is None else chunk
    want = []
    for row in range(6):
        outer = np.uint16(0)
        for c, start in enumerate(range(0, 13, step)):
            inner = np.uint16(0)
            for k in range(start, min(start + step, 13)):
                inner = add(inner, values[row, k], E6M9, Rounding.SR, rand=rand[row, k], rbits=8)
            outer = add(outer, inner, E6M9, Rounding.SR, rand=rand_outer[row, c], rbits=8)
        want.append(int(outer))
    assert_bits_equal(got, np.array(want), E6M9)


def test_products_are_exact_for_paper_formats():
    from fp8forge.golden import is_exact_product

    assert is_exact_product(E5M2, E6M9)
    assert is_exact_product(FP16, FP32)
    assert not is_exact_product(E5M2, E5M2)
    assert not is_exact_product(FP16, E6M9)
    assert not is_exact_product(E5M2, PRESETS["dlfloat16"])  # 2**-32 is below min normal
    codes = np.arange(256, dtype=np.uint8)
    a, b = np.meshgrid(codes, codes)
    exact = mul(a, b, E5M2, E6M9, Rounding.RTZ)
    assert np.array_equal(exact, mul(a, b, E5M2, E6M9, Rounding.RNE))
