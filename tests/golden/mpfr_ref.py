"""Second independent reference: MPFR (through gmpy2) for RNE and RTZ.

MPFR rounds with the format's precision and, with ``subnormalize``, its gradual underflow; the
exponent range is left unbounded above (and below for flush-to-zero formats) so the contract's
overflow and flush rules are applied here explicitly from the rounded value.
"""

from __future__ import annotations

import gmpy2

from fp8forge.golden.formats import FloatFormat, Rounding

from . import oracle

_MODES = {Rounding.RNE: gmpy2.RoundToNearest, Rounding.RTZ: gmpy2.RoundToZero}


def _context(fmt: FloatFormat, mode: Rounding) -> gmpy2.context:
    emin = 1 - fmt.bias
    return gmpy2.context(
        precision=fmt.precision,
        emin=(emin - fmt.man_bits + 1) if fmt.subnormals else -(10**6),
        emax=10**6,
        subnormalize=fmt.subnormals,
        round=_MODES[mode],
    )


def _exact(bits: int, fmt: FloatFormat) -> gmpy2.mpfr:
    sign, mag = oracle.decode(bits, fmt)
    with gmpy2.context(precision=200, emin=-(10**6), emax=10**6):
        if mag == oracle.NAN:
            return gmpy2.nan()
        if mag == oracle.INF:
            value = gmpy2.inf()
        else:
            value = gmpy2.mpfr(gmpy2.mpq(mag.numerator, mag.denominator))
        return -value if sign else value


def _to_bits(r: gmpy2.mpfr, fmt: FloatFormat, mode: Rounding) -> int:
    if gmpy2.is_nan(r):
        return oracle.nan_bits(fmt)
    sign = 1 if gmpy2.is_signed(r) else 0
    if gmpy2.is_infinite(r):
        return oracle.inf_bits(fmt, sign, saturate=False)
    mag = abs(gmpy2.mpq(*r.as_integer_ratio()))  # (the oracle's rationals)
    if mag > oracle.max_finite(fmt):
        if mode is Rounding.RTZ:
            return oracle.encode(sign, oracle.max_finite(fmt), fmt)
        return oracle.inf_bits(fmt, sign, saturate=False)
    if not fmt.subnormals and 0 < mag < gmpy2.mpq(2) ** (1 - fmt.bias):
        mag = gmpy2.mpq(0)
    return oracle.encode(sign, mag, fmt)


def mul(a: int, b: int, in_fmt: FloatFormat, out_fmt: FloatFormat, mode: Rounding) -> int:
    ctx = _context(out_fmt, mode)
    return _to_bits(ctx.mul(_exact(a, in_fmt), _exact(b, in_fmt)), out_fmt, mode)


def add(a: int, b: int, fmt: FloatFormat, mode: Rounding) -> int:
    ctx = _context(fmt, mode)
    return _to_bits(ctx.add(_exact(a, fmt), _exact(b, fmt)), fmt, mode)


def fma(a: int, x: int, y: int, fmt: FloatFormat, mode: Rounding) -> int:
    ctx = _context(fmt, mode)
    return _to_bits(ctx.fma(_exact(a, fmt), _exact(x, fmt), _exact(y, fmt)), fmt, mode)
