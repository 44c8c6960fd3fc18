"""Exact scalar oracle for the golden model, written independently of ``golden/``.

It works on exact rationals and the raw format parameters only (``exp_bits``, ``man_bits``,
``bias``, ``specials``, ``subnormals``), re-deriving every limit, so a shared mistake with the
vectorised implementation is unlikely. Slow by design: one value at a time, exact rationals
throughout. Rounding follows contract section 2 literally.

The rationals are GMP's (``gmpy2.mpq``, named ``Fraction`` here): the same exact arithmetic as
Python's ``fractions.Fraction``, which the oracle used before, about ten times faster (the
suite's golden checks run millions of them).
"""

from __future__ import annotations

from functools import lru_cache

from gmpy2 import mpq as Fraction

from fp8forge.golden.formats import FloatFormat, Rounding, Specials

NAN = "nan"
INF = "inf"


@lru_cache(maxsize=4096)
def _pow2(n: int) -> Fraction:
    return Fraction(2) ** n


def decode(bits: int, fmt: FloatFormat) -> tuple[int, Fraction | str]:
    """(sign, magnitude) of a bit pattern; magnitude is a Fraction, INF or NaN."""
    e, m = fmt.exp_bits, fmt.man_bits
    sign = (bits >> (e + m)) & 1
    field = (bits >> m) & ((1 << e) - 1)
    frac = bits & ((1 << m) - 1)
    if fmt.specials is Specials.IEEE and field == (1 << e) - 1:
        return sign, (NAN if frac else INF)
    if fmt.specials is Specials.FN and field == (1 << e) - 1 and frac == (1 << m) - 1:
        return sign, NAN
    if field == 0:
        mag = Fraction(frac) * _pow2(1 - fmt.bias - m) if fmt.subnormals else Fraction(0)
    else:
        mag = Fraction((1 << m) + frac) * _pow2(field - fmt.bias - m)
    return sign, mag


@lru_cache(maxsize=64)
def max_finite(fmt: FloatFormat) -> Fraction:
    e, m = fmt.exp_bits, fmt.man_bits
    if fmt.specials is Specials.IEEE:
        top = (((1 << e) - 1) << m) - 1
    else:
        top = (1 << (e + m)) - 2
    return decode(top, fmt)[1]  # type: ignore[return-value]


def nan_bits(fmt: FloatFormat) -> int:
    e, m = fmt.exp_bits, fmt.man_bits
    if fmt.specials is Specials.FN:
        return (1 << (e + m)) - 1
    return (((1 << e) - 1) << m) | (1 << (m - 1))


def inf_bits(fmt: FloatFormat, sign: int, saturate: bool) -> int:
    """Encoding of an infinite result: inf, or NaN / max_finite in fn formats."""
    if fmt.specials is Specials.IEEE:
        return (sign << (fmt.width - 1)) | (((1 << fmt.exp_bits) - 1) << fmt.man_bits)
    if saturate:
        return encode(sign, max_finite(fmt), fmt)
    return nan_bits(fmt)


def floor_log2(x: Fraction) -> int:
    """n with 2**n <= x < 2**(n+1), by integer bit lengths (no floating point)."""
    n = x.numerator.bit_length() - x.denominator.bit_length()
    if _pow2(n) > x:
        n -= 1
    assert _pow2(n) <= x < _pow2(n + 1)
    return n


def encode(sign: int, mag: Fraction, fmt: FloatFormat) -> int:
    """Bit pattern of an exactly representable finite magnitude."""
    m = fmt.man_bits
    out = sign << (fmt.width - 1)
    if mag == 0:
        return out
    emin = 1 - fmt.bias
    e = floor_log2(mag)
    if e < emin:
        frac = mag / _pow2(emin - m)
        assert frac.denominator == 1 and frac < (1 << m)
        return out | int(frac)
    frac = mag / _pow2(e - m) - (1 << m)
    assert frac.denominator == 1, (mag, fmt)
    return out | ((e + fmt.bias) << m) | int(frac)


def round_value(
    sign: int,
    mag: Fraction,
    fmt: FloatFormat,
    mode: Rounding,
    *,
    rand: int = 0,
    rbits: int = 0,
    saturate: bool = False,
) -> int:
    """Round an exact finite magnitude once into ``fmt`` (contract section 2)."""
    if mag == 0:
        return sign << (fmt.width - 1)
    m = fmt.man_bits
    emin = 1 - fmt.bias
    e = floor_log2(mag)
    q = (max(e, emin) if fmt.subnormals else e) - m
    scaled = mag / _pow2(q)
    t = scaled.numerator // scaled.denominator
    f = scaled - t
    if mode is Rounding.RNE:
        up = f > Fraction(1, 2) or (f == Fraction(1, 2) and t % 2 == 1)
    elif mode is Rounding.RTZ:
        up = False
    else:
        big_f = (f * (1 << rbits)).numerator // (f * (1 << rbits)).denominator
        up = rand < big_f
    result = (t + up) * _pow2(q)
    if result > max_finite(fmt):
        if saturate or mode is Rounding.RTZ:
            return encode(sign, max_finite(fmt), fmt)
        return inf_bits(fmt, sign, saturate=False)
    if not fmt.subnormals and result < _pow2(emin):
        return sign << (fmt.width - 1)
    return encode(sign, result, fmt)


def _finish(sign, mag, fmt, mode, rand, rbits, saturate) -> int:
    if mag == NAN:
        return nan_bits(fmt)
    if mag == INF:
        return inf_bits(fmt, sign, saturate)
    return round_value(sign, mag, fmt, mode, rand=rand, rbits=rbits, saturate=saturate)


def quantize(bits, src, fmt, mode, rand=0, rbits=0, saturate=False) -> int:
    sign, mag = decode(bits, src)
    return _finish(sign, mag, fmt, mode, rand, rbits, saturate)


def quantize_float(x: float, fmt, mode, rand=0, rbits=0, saturate=False) -> int:
    if x != x:
        return nan_bits(fmt)
    sign = 1 if (x < 0 or (x == 0 and str(x).startswith("-"))) else 0
    if abs(x) == float("inf"):
        return inf_bits(fmt, sign, saturate)
    return round_value(sign, abs(Fraction(x)), fmt, mode, rand=rand, rbits=rbits,
                       saturate=saturate)


def _product(a, b, fmt):
    (sa, ma), (sb, mb) = decode(a, fmt), decode(b, fmt)
    sign = sa ^ sb
    if NAN in (ma, mb):
        return 0, NAN
    if INF in (ma, mb):
        if ma == 0 or mb == 0:
            return 0, NAN
        return sign, INF
    return sign, ma * mb


def mul(a, b, in_fmt, out_fmt, mode, rand=0, rbits=0, saturate=False) -> int:
    sign, mag = _product(a, b, in_fmt)
    return _finish(sign, mag, out_fmt, mode, rand, rbits, saturate)


def _sum(s1, m1, s2, m2):
    if NAN in (m1, m2):
        return 0, NAN
    if m1 == INF and m2 == INF:
        return (s1, INF) if s1 == s2 else (0, NAN)
    if m1 == INF:
        return s1, INF
    if m2 == INF:
        return s2, INF
    total = (-m1 if s1 else m1) + (-m2 if s2 else m2)
    if total == 0:
        both_neg_zero = m1 == 0 and m2 == 0 and s1 == 1 and s2 == 1
        return (1 if both_neg_zero else 0), Fraction(0)
    return (1 if total < 0 else 0), abs(total)


def add(a, b, fmt, mode, rand=0, rbits=0, saturate=False) -> int:
    sign, mag = _sum(*decode(a, fmt), *decode(b, fmt))
    return _finish(sign, mag, fmt, mode, rand, rbits, saturate)


def fma(a, x, y, fmt, mode, rand=0, rbits=0, saturate=False) -> int:
    sign, mag = _sum(*_product(a, x, fmt), *decode(y, fmt))
    return _finish(sign, mag, fmt, mode, rand, rbits, saturate)


def chunked_sum(values: list[tuple[int, Fraction | str]], fmt, chunk, mode=Rounding.RNE):
    """Chunk-based sum (contract section 2) of exact (sign, magnitude) addends already in fmt."""
    def add_exact(acc, v):
        sign, mag = _sum(*acc, *v)
        bits = _finish(sign, mag, fmt, mode, 0, 0, False)
        return decode(bits, fmt)

    step = len(values) if chunk is None or chunk >= len(values) else chunk
    outer = (0, Fraction(0))
    for start in range(0, len(values), max(step, 1)):
        inner = (0, Fraction(0))
        for v in values[start:start + step]:
            inner = add_exact(inner, v)
        outer = add_exact(outer, inner)
    sign, mag = outer
    return _finish(sign, mag, fmt, mode, 0, 0, False)


def rounding_case(sign: int, mag: Fraction | str, fmt: FloatFormat) -> str:
    """Classify an exact result for stimulus coverage: special, zero, exact, tie, overflow,
    subnormal or inexact."""
    if mag in (NAN, INF):
        return "special"
    if mag == 0:
        return "zero"
    if mag > max_finite(fmt):
        return "overflow"
    emin = 1 - fmt.bias
    e = floor_log2(mag)
    q = (max(e, emin) if fmt.subnormals else e) - fmt.man_bits
    f = mag / _pow2(q) - (mag / _pow2(q)).numerator // (mag / _pow2(q)).denominator
    if f == 0:
        return "subnormal" if e < emin else "exact"
    if f == Fraction(1, 2):
        return "tie"
    return "subnormal" if e < emin else "inexact"


def exact_sum(a: int, b: int, fmt: FloatFormat):
    return _sum(*decode(a, fmt), *decode(b, fmt))


def exact_fma(a: int, x: int, y: int, fmt: FloatFormat):
    return _sum(*_product(a, x, fmt), *decode(y, fmt))


def reference(fn, *arrays, **kwargs):
    """Apply a scalar oracle function elementwise; arrays are broadcast together."""
    import numpy as np

    cols = np.broadcast_arrays(*arrays)
    flat = [c.ravel().tolist() for c in cols]
    rand = kwargs.pop("rand", None)
    if rand is not None:
        rand_flat = np.broadcast_to(rand, cols[0].shape).ravel().tolist()
        out = [fn(*args, rand=r, **kwargs) for *args, r in zip(*flat, rand_flat, strict=True)]
    else:
        out = [fn(*args, **kwargs) for args in zip(*flat, strict=True)]
    return np.array(out, dtype=np.uint64).reshape(cols[0].shape)
