"""Bit-exact arithmetic on arrays of bit patterns: quantize, mul, add, fma.

Contract: ``docs/contract.md`` section 2. Each operation forms the exact result as integers
(``golden.bits``) and rounds it once (``golden.rounding``). Specials follow IEEE 754: any NaN
input gives the canonical NaN, ``0 * inf`` and ``inf - inf`` give NaN, product signs are the
XOR, ``x + (-x)`` is +0 in every mode and -0 only when both addends are -0.

Decisions where the spec is silent (documented in docs/decisions.md):

* Infinite operands give infinite results in ``ieee`` formats. An ``fn`` format has no
  infinity, so there they give NaN, or ±max_finite with ``saturate=True`` (OCP's saturating
  conversion). Saturation otherwise applies to finite overflow only.
* NaN results are always the canonical, unsigned NaN (including ``fn`` overflow).
* Arithmetic (mul/add/fma) accepts formats with at most 24 significand bits (fp32) so the
  exact aligned sum fits 62-bit integers; quantize accepts every format.
"""

from __future__ import annotations

import numpy as np

from . import compiled
from .bits import FLOAT64, Unpacked, as_bits, bits_dtype, decode, unpack
from .fastcast import quantize_by_table, table_applies
from .formats import FloatFormat, Rounding, as_format
from .rounding import bit_length, check_rand, round_exact

__all__ = ["quantize", "mul", "add", "fma", "is_exact_product"]

#: Widest significand (with hidden bit) the arithmetic operations accept: fp32's.
MAX_ARITH_PRECISION = 24

# Bit of the aligned window where the larger addend's leading one is placed. Sums stay below
# 2**62 and a 24-bit result keeps >= 36 dropped bits whenever alignment set the sticky bit.
_WINDOW_TOP = 60


def _check_format(fmt: object, name: str, op: str) -> FloatFormat:
    """``fmt`` as a FloatFormat (``as_format``); with ``op``, one the arithmetic supports."""
    fmt = as_format(fmt, name)
    if op and fmt.precision > MAX_ARITH_PRECISION:
        raise ValueError(
            f"{op} supports formats of at most {MAX_ARITH_PRECISION} significand bits; "
            f"{name}={fmt.name} has {fmt.precision}"
        )
    return fmt


def _broadcast(**arrays: np.ndarray) -> list[np.ndarray]:
    try:
        return list(np.broadcast_arrays(*arrays.values()))
    except ValueError:
        shapes = ", ".join(f"{k}{np.shape(v)}" for k, v in arrays.items())
        raise ValueError(f"shapes do not broadcast: {shapes}") from None


def _finish(
    bits: np.ndarray,
    fmt: FloatFormat,
    *,
    nan: np.ndarray,
    inf: np.ndarray,
    inf_neg: np.ndarray,
    saturate: bool,
) -> np.ndarray:
    """Overlay special results on ``bits`` and return them in the format's dtype."""
    sign = np.uint64(fmt.sign_mask)
    if fmt.inf_bits is not None:
        inf_mag = np.uint64(fmt.inf_bits)
    elif saturate:
        inf_mag = np.uint64(fmt.max_finite_bits)
    else:
        inf_mag = None
    if inf_mag is None:
        bits = np.where(inf, np.uint64(fmt.nan_bits), bits)
    else:
        bits = np.where(inf, np.where(inf_neg, sign | inf_mag, inf_mag), bits)
    bits = np.where(nan, np.uint64(fmt.nan_bits), bits)
    return bits.astype(bits_dtype(fmt))


def quantize(
    x: object,
    fmt: FloatFormat,
    rounding: Rounding = Rounding.RNE,
    *,
    src_fmt: FloatFormat | None = None,
    saturate: bool = False,
    rand: object = None,
    rbits: int = 0,
    _use_table: bool = True,
) -> np.ndarray:
    """Round values into ``fmt``: ``round(x)`` with a single rounding from the exact input.

    Parameters
    ----------
    x : array
        Floating-point values (float16/32/64; converted exactly to float64), or, with
        ``src_fmt``, integer bit patterns of that format.
    fmt : FloatFormat
        Output format.
    rounding : Rounding
        RNE, RTZ or SR.
    saturate : bool
        Finite overflow (and infinities in ``fn`` formats) give ±max_finite.
    rand, rbits :
        SR only: one random integer in ``[0, 2**rbits)`` per element.

    Returns
    -------
    Bit patterns of ``fmt`` in the smallest unsigned dtype that holds them.
    """
    fmt = _check_format(fmt, "fmt", "")
    if src_fmt is None:
        arr = np.asarray(x)
        if arr.dtype.kind != "f":
            raise TypeError(
                f"x must be a floating-point array (or pass src_fmt for bit patterns), "
                f"not dtype {arr.dtype}"
            )
        if arr.itemsize > 8:  # long double: going through float64 would round twice
            raise TypeError(
                f"x has dtype {arr.dtype}, wider than float64: convert it to float64 yourself "
                "(double rounding), or pass bit patterns of a format with src_fmt"
            )
        if arr.dtype not in (np.float32, np.float64):
            arr = arr.astype(np.float32 if arr.itemsize < 4 else np.float64)  # exact widening
        if _use_table and rand is None and table_applies(arr.itemsize * 8, fmt, rounding,
                                                         arr.size):
            return quantize_by_table(arr, fmt, rounding, saturate)
        src = FLOAT64
        with np.errstate(invalid="ignore"):  # signalling NaNs are quieted, still NaN
            bits = arr.astype(np.float64).view(np.uint64)
    else:
        src = _check_format(src_fmt, "src_fmt", "")
        bits = as_bits(x, src, "x")
    r = check_rand(rounding, rand, rbits, bits.shape)
    u = unpack(bits, src)
    out = round_exact(
        u.neg, u.sig, u.exp, fmt, rounding, rand=r, rbits=rbits, saturate=saturate
    )
    return _finish(out, fmt, nan=u.nan, inf=u.inf, inf_neg=u.neg, saturate=saturate)


def is_exact_product(in_fmt: FloatFormat, out_fmt: FloatFormat) -> bool:
    """True when every product of two finite ``in_fmt`` values is exact in ``out_fmt``.

    Needs enough precision (``2 * precision``), range above (the largest product is finite)
    and range below (the smallest nonzero product is representable; without subnormals in
    ``out_fmt`` it must also be normal). Generators use this to omit rounding logic.
    """
    if 2 * in_fmt.precision > out_fmt.precision:
        return False
    if in_fmt.max_finite**2 > out_fmt.max_finite:
        return False
    smallest = in_fmt.min_subnormal**2
    if not out_fmt.subnormals:
        return smallest >= out_fmt.min_normal
    # Lowest set bit of any product lies on the out_fmt subnormal grid.
    return smallest >= out_fmt.min_subnormal


def _product(ua: Unpacked, ub: Unpacked) -> tuple[np.ndarray, ...]:
    """Exact product fields and its special classes."""
    neg = ua.neg ^ ub.neg
    nan = ua.nan | ub.nan | (ua.inf & ub.zero) | (ub.inf & ua.zero)
    inf = (ua.inf | ub.inf) & ~nan
    return neg, ua.sig * ub.sig, ua.exp + ub.exp, nan, inf


def mul(
    a: object,
    b: object,
    in_fmt: FloatFormat,
    out_fmt: FloatFormat,
    rounding: Rounding = Rounding.RNE,
    *,
    saturate: bool = False,
    rand: object = None,
    rbits: int = 0,
) -> np.ndarray:
    """``round(a * b)``: ``a``, ``b`` bit patterns of ``in_fmt``, result in ``out_fmt``."""
    in_fmt = _check_format(in_fmt, "in_fmt", "mul")
    out_fmt = _check_format(out_fmt, "out_fmt", "")
    a_bits, b_bits = _broadcast(a=as_bits(a, in_fmt, "a"), b=as_bits(b, in_fmt, "b"))
    r = check_rand(rounding, rand, rbits, a_bits.shape)
    neg, sig, exp, nan, inf = _product(unpack(a_bits, in_fmt), unpack(b_bits, in_fmt))
    out = round_exact(neg, sig, exp, out_fmt, rounding, rand=r, rbits=rbits, saturate=saturate)
    return _finish(out, out_fmt, nan=nan, inf=inf, inf_neg=neg, saturate=saturate)


def _exact_sum(
    neg1: np.ndarray,
    sig1: np.ndarray,
    exp1: np.ndarray,
    neg2: np.ndarray,
    sig2: np.ndarray,
    exp2: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Exact ``x1 + x2`` as ``(neg, sig, exp, sticky)`` for significands below ``2**49``.

    The addend with the higher leading bit is placed with its leading one at bit 60; the other
    is aligned to it, and bits shifted below bit 0 become ``sticky``. With a borrow folded in
    for subtraction, the exact sum lies strictly between ``sig`` and ``sig + 1`` units whenever
    ``sticky`` is set. Exact cancellation gives ``sig == 0`` with ``neg`` False (+0).
    """
    nb1, nb2 = bit_length(sig1), bit_length(sig2)
    lead1 = np.where(sig1 == 0, np.iinfo(np.int64).min // 2, exp1 + nb1)
    lead2 = np.where(sig2 == 0, np.iinfo(np.int64).min // 2, exp2 + nb2)
    swap = lead2 > lead1
    big_neg, small_neg = np.where(swap, neg2, neg1), np.where(swap, neg1, neg2)
    big_sig, small_sig = np.where(swap, sig2, sig1), np.where(swap, sig1, sig2)
    big_exp, small_exp = np.where(swap, exp2, exp1), np.where(swap, exp1, exp2)
    big_nb = np.where(swap, nb2, nb1)

    up = np.maximum(_WINDOW_TOP + 1 - big_nb, 0)
    big = big_sig << up
    base = big_exp - up  # exponent of the window's bit 0
    gap = base - small_exp  # > 0: small loses bits; <= 0: small shifts left (stays in window)
    right = np.clip(gap, 0, 62)
    small = np.where(gap > 0, small_sig >> right, small_sig << np.clip(-gap, 0, 62))
    lost = small_sig & ((np.int64(1) << right) - 1)
    sticky = (gap > 0) & (lost != 0)

    same = big_neg == small_neg
    diff = big - small - sticky  # borrow: the lost bits are strictly inside (0, 1) unit
    total = np.where(same, big + small, diff)
    neg = np.where(same, big_neg, np.where(diff < 0, small_neg, big_neg))
    sig = np.abs(total)
    neg = np.where(sig != 0, neg, (big_sig == 0) & (small_sig == 0) & neg1 & neg2)
    return neg, sig, base, sticky


def _sum_fields(
    u1: tuple[np.ndarray, ...], u2: tuple[np.ndarray, ...]
) -> tuple[np.ndarray, ...]:
    """Exact sum plus special classes of two operands given as (neg, sig, exp, nan, inf)."""
    neg1, sig1, exp1, nan1, inf1 = u1
    neg2, sig2, exp2, nan2, inf2 = u2
    nan = nan1 | nan2 | (inf1 & inf2 & (neg1 != neg2))
    inf = (inf1 | inf2) & ~nan
    inf_neg = np.where(inf1, neg1, neg2)
    # Zeros: sig 0 with any exponent; -0 only when both are -0 (handled in _exact_sum).
    neg, sig, exp, sticky = _exact_sum(neg1, sig1, exp1, neg2, sig2, exp2)
    return neg, sig, exp, sticky, nan, inf, inf_neg


def _fields(u: Unpacked) -> tuple[np.ndarray, ...]:
    return u.neg, u.sig, u.exp, u.nan, u.inf


def add(
    a: object,
    b: object,
    fmt: FloatFormat,
    rounding: Rounding = Rounding.RNE,
    *,
    saturate: bool = False,
    rand: object = None,
    rbits: int = 0,
) -> np.ndarray:
    """``round(a + b)`` with ``a``, ``b`` and the result in ``fmt``."""
    fmt = _check_format(fmt, "fmt", "add")
    a_bits, b_bits = _broadcast(a=as_bits(a, fmt, "a"), b=as_bits(b, fmt, "b"))
    r = check_rand(rounding, rand, rbits, a_bits.shape)
    return add_unchecked(a_bits, b_bits, fmt, rounding, r, rbits, saturate)


def add_unchecked(
    a_bits: np.ndarray,
    b_bits: np.ndarray,
    fmt: FloatFormat,
    rounding: Rounding,
    rand: np.ndarray | None = None,
    rbits: int = 0,
    saturate: bool = False,
) -> np.ndarray:
    """``add`` without argument checks, for loops that validated their inputs once."""
    neg, sig, exp, sticky, nan, inf, inf_neg = _sum_fields(
        _fields(unpack(a_bits, fmt)), _fields(unpack(b_bits, fmt))
    )
    out = round_exact(
        neg, sig, exp, fmt, rounding, sticky=sticky, rand=rand, rbits=rbits, saturate=saturate
    )
    return _finish(out, fmt, nan=nan, inf=inf, inf_neg=inf_neg, saturate=saturate)


def fma(
    a: object,
    x: object,
    y: object,
    fmt: FloatFormat,
    rounding: Rounding = Rounding.RNE,
    *,
    saturate: bool = False,
    rand: object = None,
    rbits: int = 0,
    engine: str = "auto",
) -> np.ndarray:
    """Fused AXPY ``round(a * x + y)`` with one rounding; operands and result in ``fmt``.

    ``engine``: ``"exact"`` forms the exact result as integers (the definition);
    ``"compiled"`` runs ``golden.compiled.fma`` (float64 with round-to-odd, every mode, not
    with ``saturate``); ``"auto"`` takes the compiled one where it applies. Same bits.
    """
    fmt = _check_format(fmt, "fmt", "fma")
    a_bits, x_bits, y_bits = _broadcast(
        a=as_bits(a, fmt, "a"), x=as_bits(x, fmt, "x"), y=as_bits(y, fmt, "y")
    )
    r = check_rand(rounding, rand, rbits, a_bits.shape)
    if engine not in ("auto", "compiled", "exact"):
        raise ValueError(f"engine must be one of auto, compiled, exact, not {engine!r}")
    fast = not saturate and compiled.applies(fmt, rounding, rbits)
    if engine == "compiled" and not fast:
        raise ValueError("engine='compiled' cannot compute this fma (saturate, or a format, "
                         "rounding or rbits it does not cover); use 'auto'")
    if fast and engine != "exact":
        shape = a_bits.shape
        a_val, x_val, y_val = (decode(v, fmt).ravel() for v in (a_bits, x_bits, y_bits))
        with np.errstate(invalid="ignore", over="ignore"):
            out = compiled.fma(a_val, x_val, y_val, fmt, rounding,
                               None if r is None else r.ravel(), rbits)
        return quantize(out.reshape(shape), fmt)
    product = _product(unpack(a_bits, fmt), unpack(x_bits, fmt))
    neg, sig, exp, sticky, nan, inf, inf_neg = _sum_fields(product, _fields(unpack(y_bits, fmt)))
    out = round_exact(
        neg, sig, exp, fmt, rounding, sticky=sticky, rand=r, rbits=rbits, saturate=saturate
    )
    return _finish(out, fmt, nan=nan, inf=inf, inf_neg=inf_neg, saturate=saturate)
