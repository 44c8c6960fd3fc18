"""Chunk-based accumulation and GEMM, bit-exact.

Contract: ``docs/contract.md`` section 2, "Chunk-based accumulation"::

    outer = +0
    for each chunk of CL consecutive addends p (the last may be shorter):
        inner = +0
        for p in chunk: inner = round(inner + p)     # in fmt
        outer = round(outer + inner)                  # in fmt
    result = outer

``chunk=None`` (or any CL >= K) means no chunking. In ``gemm`` the addends are the products
``round(A[i, k] * B[k, j])`` in ``acc_fmt`` (exact for e5m2 -> e6m9 and fp16 -> fp32), in
index order ``k = 0, 1, ...``: the same order the MAC hardware and the throughput model use.

Speed: three engines compute the same bits (``engine=``): ``"exact"``, the integer path of
``golden.arith`` that defines every result; ``"numpy"``, for RNE and an accumulator of at most
25 significand bits, the additions in float64 followed by an exact RNE re-rounding to ``fmt``;
``"compiled"``, the numba kernels of ``golden.compiled`` (RNE and RTZ; in ``chunked_sum`` SR
with explicit random bits too; why they are exact is stated there). ``"auto"`` (the default)
takes the first of compiled, numpy, exact that applies. The numpy path's result equals one
rounding of the exact sum because double rounding through 53 bits is innocuous for a sum of two
p-bit numbers when 53 >= 2p + 2 (Figueroa, "When is double rounding innocuous?", 1995), and sums
landing in the subnormal range are exact in float64. Tests compare every engine with the integer
path bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from . import compiled
from .arith import _check_format, add_unchecked, is_exact_product, mul, quantize
from .bits import as_bits, bits_dtype, decode
from .formats import FloatFormat, Rounding
from .rounding import check_rand

__all__ = ["ENGINES", "chunked_sum", "gemm", "round_float64_rne"]

#: Ways to compute a chunked sum or GEMM, all bit-identical (module text).
ENGINES = ("auto", "compiled", "numpy", "exact")

_SIGN64 = np.uint64(1 << 63)
_FLOAT64_MAX = float(np.finfo(np.float64).max)
#: Largest accumulator precision for the float64 fast path (53 >= 2p + 2).
_FAST_PRECISION = 25
#: Elements per block in the fast path: keeps the working arrays in the L2 cache.
_BLOCK = 1 << 14
#: Largest working set (outputs x full chunks) summed side by side in one block.
_BLOCK_SIDE = 1 << 18


def check_chunk(chunk: object) -> int | None:
    """A chunk length: a positive integer (Python or NumPy), or None for no chunking. The one
    check behind every API and generator that takes a chunk (ValueError otherwise)."""
    if chunk is None:
        return None
    if isinstance(chunk, bool) or not isinstance(chunk, int | np.integer) or chunk < 1:
        raise ValueError(f"Chunk length must be a positive integer or None, not {chunk!r}")
    return int(chunk)


def _pick_engine(engine: object, compiled_applies: bool, numpy_applies: bool) -> str:
    """The engine that runs: ``engine`` itself when it applies (ValueError when it does
    not), or for ``"auto"`` the first of compiled, numpy and exact that does."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    if engine == "auto":
        return "compiled" if compiled_applies else "numpy" if numpy_applies else "exact"
    if (engine == "compiled" and not compiled_applies) or (engine == "numpy"
                                                           and not numpy_applies):
        why = ("numba is not installed" if engine == "compiled" and not compiled.AVAILABLE
               else "it does not apply to these formats, rounding or randomness")
        raise ValueError(f"engine={engine!r} cannot compute this: {why}; use 'auto'")
    return str(engine)


def _compiled_applies(fmt: FloatFormat, rounding: Rounding, rand: object) -> bool:
    return (rounding in (Rounding.RNE, Rounding.RTZ) and rand is None
            and compiled.applies(fmt, rounding))


def _compiled_sum_applies(fmt: FloatFormat, rounding: Rounding, rand: object,
                          rbits: int) -> bool:
    """The compiled engine of ``chunked_sum``: RNE and RTZ as for a GEMM, and SR with explicit
    random bits (``compiled.sum_rows_sr``)."""
    if rounding is Rounding.SR:
        return rand is not None and compiled.applies(fmt, rounding, rbits)
    return _compiled_applies(fmt, rounding, rand)


def _chunk_bounds(k_len: int, chunk: int | None) -> list[tuple[int, int]]:
    step = k_len if chunk is None or chunk >= k_len else chunk
    return [(s, min(s + step, k_len)) for s in range(0, k_len, max(step, 1))]


@dataclass(frozen=True)
class _RneConstants:
    shift: np.uint64
    half_minus_one: np.uint64
    keep: np.uint64
    min_normal: float
    magic: float | None  # subnormal grid rounding constant; None without subnormals
    max_finite: float
    overflow_value: float


@cache
def _rne_constants(fmt: FloatFormat) -> _RneConstants:
    """Per-format constants of ``round_float64_rne`` (Fraction arithmetic done once)."""
    k = 52 - fmt.man_bits
    return _RneConstants(
        np.uint64(k), np.uint64((1 << (k - 1)) - 1), np.uint64(~((1 << k) - 1) & (2**64 - 1)),
        float(fmt.min_normal),
        1.5 * 2.0**52 * float(fmt.min_subnormal) if fmt.subnormals else None,
        float(fmt.max_finite), np.inf if fmt.inf_bits is not None else np.nan)


def round_float64_rne(x: np.ndarray, fmt: FloatFormat) -> np.ndarray:
    """Round float64 values to ``fmt`` (RNE, contract overflow/underflow rules), as float64.

    Normal range: round-to-nearest-even on the float64 encoding (add half-ulp-minus-one plus the
    kept LSB, then clear the dropped bits; carries move into the exponent by themselves).
    Subnormal range: ``(|x| + C) - C`` with ``C = 1.5 * 2**52 * ulp`` rounds to the fixed grid.
    The rarer cases (tiny, overflowing or non-finite values) are only patched in when present:
    this runs once per addend of every fast-path GEMM.
    """
    c = _rne_constants(fmt)
    bits = np.ascontiguousarray(x, dtype=np.float64).view(np.uint64)
    sign = bits & _SIGN64
    mag = bits ^ sign
    lsb = (mag >> c.shift) & np.uint64(1)
    y = ((mag + c.half_minus_one + lsb) & c.keep).view(np.float64)
    absx = mag.view(np.float64)
    tiny = absx < c.min_normal
    if tiny.any():
        if c.magic is not None:
            y = np.where(tiny, (absx + c.magic) - c.magic, y)
        else:
            y = np.where(y < c.min_normal, 0.0, y)
    with np.errstate(invalid="ignore"):
        unusual = not (absx <= _FLOAT64_MAX).all() or not (y <= c.max_finite).all()
    if unusual:  # overflow, inf or NaN
        y = np.where(y > c.max_finite, c.overflow_value, y)
        y = np.where(np.isnan(absx), np.nan, y)
    return (y.view(np.uint64) | sign).view(np.float64)


def _fast_path(fmt: FloatFormat, rounding: Rounding) -> bool:
    return rounding is Rounding.RNE and fmt.precision <= _FAST_PRECISION


def _accumulate_float64(columns, k_len: int, chunk: int | None, fmt: FloatFormat,
                        side_by_side: bool = False) -> np.ndarray:
    """Chunked RNE accumulation in float64; ``columns(ks)`` returns the addends ``k in ks``
    (exact float64) stacked on a new first axis. ``side_by_side`` sums the inner sums of all
    full-length chunks together (see ``_side_by_side``)."""
    # inf - inf and inf * 0 are NaN by design here, exactly as contract section 2 asks.
    with np.errstate(invalid="ignore", over="ignore"):
        return _accumulate_chunks(columns, k_len, chunk, fmt, side_by_side)


def _full_chunks(k_len: int, chunk: int | None) -> int:
    """Number of leading chunks of full length (all chunks but a shorter last one)."""
    return 1 if chunk is None or chunk >= k_len else k_len // chunk


def _side_by_side(k_len: int, chunk: int | None, elements: int) -> bool:
    """Whether summing the full chunks side by side pays: the inner sums of different chunks
    are independent, so one rounding call per position in the chunk replaces one per addend,
    as long as all ``elements`` outputs times the chunks fit one working block."""
    chunks = _full_chunks(k_len, chunk)
    return chunk is not None and chunk > 1 and chunks > 1 and elements * chunks <= _BLOCK_SIDE


def _accumulate_chunks(columns, k_len: int, chunk: int | None, fmt: FloatFormat,
                       side_by_side: bool) -> np.ndarray:
    bounds = _chunk_bounds(k_len, chunk)
    sums = []
    if side_by_side:  # the outer sum below still adds the chunks in order: same roundings
        length = bounds[0][1] - bounds[0][0]
        starts = np.array([start for start, stop in bounds if stop - start == length])
        inner = columns(starts) + 0.0  # round(+0 + p) is p, except that -0 becomes +0
        for j in range(1, length):
            inner = round_float64_rne(inner + columns(starts + j), fmt)
        sums, bounds = list(inner), bounds[len(starts):]
    for start, stop in bounds:
        inner = columns(np.array([start]))[0] + 0.0
        for k in range(start + 1, stop):
            inner = round_float64_rne(inner + columns(np.array([k]))[0], fmt)
        sums.append(inner)
    outer = sums[0]
    for partial in sums[1:]:
        outer = round_float64_rne(outer + partial, fmt)
    return outer


def chunked_sum(
    addends: object,
    fmt: FloatFormat,
    chunk: int | None,
    rounding: Rounding = Rounding.RNE,
    *,
    rand: object = None,
    rand_outer: object = None,
    rbits: int = 0,
    engine: str = "auto",
) -> np.ndarray:
    """Chunk-based sum of ``fmt`` bit patterns over the last axis (contract section 2).

    Parameters
    ----------
    addends : integer array (..., K)
        Bit patterns of ``fmt``, summed in index order.
    chunk : int or None
        Chunk length CL >= 1; None means no chunking.
    rounding : Rounding
        Rounding of every addition.
    rand, rand_outer : integer arrays, SR only
        ``rand[..., k]`` rounds the inner addition of addend k; ``rand_outer[..., c]`` the
        outer addition closing chunk c. Values in ``[0, 2**rbits)``.
    engine : "auto", "compiled", "numpy" or "exact"
        How to compute it (module text); every engine gives the same bits.

    Returns
    -------
    Bit patterns of ``fmt``, shape ``addends.shape[:-1]``; +0 for K = 0.
    """
    chunk = check_chunk(chunk)
    fmt = _check_format(fmt, "fmt", "chunked_sum")
    bits = as_bits(addends, fmt, "addends")
    if bits.ndim == 0:
        raise ValueError("addends must have at least one axis (the summed one)")
    k_len = bits.shape[-1]
    bounds = _chunk_bounds(k_len, chunk)
    r_in = check_rand(rounding, rand, rbits, bits.shape)
    r_out = check_rand(rounding, rand_outer, rbits, bits.shape[:-1] + (len(bounds),), "rand_outer")
    if k_len == 0:
        _pick_engine(engine, True, True)
        return np.zeros(bits.shape[:-1], dtype=bits_dtype(fmt))
    engine = _pick_engine(engine, _compiled_sum_applies(fmt, rounding, r_in, rbits),
                          _fast_path(fmt, rounding) and rand is None)
    if engine == "compiled":
        columns = decode(bits, fmt).reshape(-1, k_len).T
        if r_in is None:
            total = compiled.sum_rows(columns, chunk, fmt, rounding)
        else:
            assert r_out is not None  # check_rand requires both for SR
            total = compiled.sum_rows_sr(columns, r_in.reshape(-1, k_len).T,
                                         r_out.reshape(-1, len(bounds)).T, chunk, fmt, rbits)
        return quantize(total.reshape(bits.shape[:-1]), fmt)
    if engine == "numpy":
        values = decode(bits, fmt)
        # the addends are in memory already, so summing the chunks side by side costs one
        # copy of them (elements=0: no working-set limit)
        total = _accumulate_float64(lambda ks: np.moveaxis(values[..., ks], -1, 0), k_len,
                                    chunk, fmt, _side_by_side(k_len, chunk, 0))
        return quantize(total, fmt)
    zero = np.zeros(bits.shape[:-1], dtype=np.uint64)

    def step(acc, addend, r):
        return add_unchecked(acc, addend, fmt, rounding, r, rbits).astype(np.uint64)

    outer = zero
    for c, (start, stop) in enumerate(bounds):
        inner = zero
        for k in range(start, stop):
            inner = step(inner, bits[..., k], None if r_in is None else r_in[..., k])
        outer = step(outer, inner, None if r_out is None else r_out[..., c])
    return outer.astype(bits_dtype(fmt))


def gemm(
    A: object,
    B: object,
    in_fmt: FloatFormat,
    acc_fmt: FloatFormat,
    *,
    chunk: int | None,
    rounding: Rounding = Rounding.RNE,
    out_fmt: FloatFormat | None = None,
    out_rounding: Rounding = Rounding.RNE,
    rand: object = None,
    rand_outer: object = None,
    out_rand: object = None,
    rbits: int = 0,
    engine: str = "auto",
) -> np.ndarray:
    """``C = A @ B`` with chunk-based accumulation, bit-exact (contract section 2).

    ``A`` (M x K) and ``B`` (K x N) hold ``in_fmt`` bit patterns. Each product is
    ``round(A[i,k] * B[k,j])`` into ``acc_fmt`` (RNE; exact for the paper's formats), summed by
    ``chunked_sum`` semantics with ``rounding``; with ``out_fmt`` the sums are then rounded
    once more with ``out_rounding``. SR randomness: ``rand`` (M, N, K), ``rand_outer``
    (M, N, chunks), ``out_rand`` (M, N). ``engine`` picks how (module text; same bits).
    Returns bit patterns, shape (M, N).
    """
    chunk = check_chunk(chunk)
    in_fmt = _check_format(in_fmt, "in_fmt", "gemm")
    acc_fmt = _check_format(acc_fmt, "acc_fmt", "gemm")
    out_fmt = None if out_fmt is None else _check_format(out_fmt, "out_fmt", "")
    a = as_bits(A, in_fmt, "A")
    b = as_bits(B, in_fmt, "B")
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError(f"A and B must be 2-D, not shapes {a.shape} and {b.shape}")
    if a.shape[1] != b.shape[0]:
        raise ValueError(f"A is {a.shape} and B is {b.shape}: inner dimensions differ")
    m, k_len = a.shape
    n = b.shape[1]
    if rounding is not Rounding.SR and (rand is not None or rand_outer is not None):
        raise ValueError(f"rand is only used with Rounding.SR, not {rounding.name}")
    exact = is_exact_product(in_fmt, acc_fmt)
    # A float64 product of two operands is exact when their significands fit 53 bits
    # together and the exponents stay inside float64's normal range; rounding it once
    # into acc_fmt is then the contract's RNE product.
    in_float64 = exact or (2 * in_fmt.precision <= 53
                           and 2 * (in_fmt.emin - in_fmt.man_bits) >= -1022
                           and 2 * (in_fmt.emax + 1) <= 1023)
    engine = _pick_engine(
        engine, in_float64 and _compiled_applies(acc_fmt, rounding, rand),
        k_len > 0 and _fast_path(acc_fmt, rounding))
    if engine == "compiled":
        with np.errstate(invalid="ignore", over="ignore"):
            acc = quantize(compiled.gemm(decode(a, in_fmt), decode(b, in_fmt), chunk, in_fmt,
                                         acc_fmt, rounding, exact), acc_fmt)
    elif engine == "numpy":
        out = np.empty((m, n), dtype=np.float64)
        a_val = decode(a, in_fmt) if in_float64 else None
        b_val = decode(b, in_fmt) if in_float64 else None
        side_by_side = _side_by_side(k_len, chunk, m * n)
        rows = m if side_by_side else max(1, _BLOCK // max(n, 1))
        for r0 in range(0, m, rows):
            r1 = min(m, r0 + rows)
            if in_float64:
                def column(ks, r0=r0, r1=r1):
                    with np.errstate(invalid="ignore", over="ignore"):
                        product = a_val[r0:r1, ks].T[:, :, None] * b_val[ks][:, None, :]
                    return product if exact else round_float64_rne(product, acc_fmt)
            else:
                def column(ks, r0=r0, r1=r1):
                    p = mul(a[r0:r1, ks].T[:, :, None], b[ks][:, None, :], in_fmt, acc_fmt)
                    return decode(p, acc_fmt)
            out[r0:r1] = _accumulate_float64(column, k_len, chunk, acc_fmt, side_by_side)
        acc = quantize(out, acc_fmt)
    else:
        products = mul(a[:, None, :], b.T[None, :, :], in_fmt, acc_fmt)
        acc = chunked_sum(products, acc_fmt, chunk, rounding, rand=rand,
                          rand_outer=rand_outer, rbits=rbits, engine="exact")
    if out_fmt is None:
        if out_rand is not None:
            raise ValueError("out_rand is only used with out_fmt and Rounding.SR")
        return acc
    return quantize(acc, out_fmt, out_rounding, src_fmt=acc_fmt, rand=out_rand, rbits=rbits)
