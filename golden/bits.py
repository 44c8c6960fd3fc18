"""Bit-pattern handling: validation, unpacking into exact fields, decoding to float64.

Contract: ``docs/contract.md`` section 1 (layout, specials, subnormals). Every finite value is
``(-1)**neg * sig * 2**exp`` with integer ``sig`` (hidden bit included) and ``exp``; this exact
integer view is what ``golden.rounding`` consumes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from .formats import FloatFormat, Specials, as_format

__all__ = ["FLOAT64", "Unpacked", "as_bits", "bits_dtype", "decode", "unpack"]

#: IEEE binary64 as a FloatFormat, so float64 inputs go through the same exact path.
FLOAT64 = FloatFormat(11, 52)


def bits_dtype(fmt: FloatFormat) -> type[np.unsignedinteger]:
    """Smallest unsigned integer dtype holding one ``fmt`` bit pattern."""
    for dtype in (np.uint8, np.uint16, np.uint32, np.uint64):
        if np.iinfo(dtype).bits >= fmt.width:
            return dtype
    raise AssertionError("formats are at most 64 bits wide")


def as_bits(x: object, fmt: FloatFormat, name: str) -> np.ndarray:
    """Validate ``x`` as an array of ``fmt`` bit patterns and return it as uint64.

    Raises ``TypeError`` for a non-integer array and ``ValueError`` for patterns wider than
    the format; both messages name the argument ``name``.
    """
    arr = np.asarray(x)
    if arr.dtype.kind not in "ui":
        raise TypeError(
            f"{name} must be an integer array of {fmt.name} bit patterns, not dtype {arr.dtype}"
        )
    if arr.size:
        lo, hi = int(arr.min()), int(arr.max())
        if lo < 0 or hi >= 1 << fmt.width:
            bad = lo if lo < 0 else hi
            raise ValueError(
                f"{name} holds {bad:#x}, which is not a {fmt.width}-bit {fmt.name} pattern"
            )
    return arr.astype(np.uint64)


@dataclass(frozen=True)
class Unpacked:
    """Exact fields of an array of values; ``sig``/``exp`` are meaningful where finite."""

    neg: np.ndarray  # bool: sign bit set
    sig: np.ndarray  # int64: significand with hidden bit (0 for zeros)
    exp: np.ndarray  # int64: exponent of the significand's LSB
    nan: np.ndarray  # bool
    inf: np.ndarray  # bool

    @property
    def zero(self) -> np.ndarray:
        return (self.sig == 0) & ~self.nan & ~self.inf


def unpack(bits: np.ndarray, fmt: FloatFormat) -> Unpacked:
    """Split validated uint64 ``bits`` into sign, significand, exponent and special classes.

    Subnormal encodings read as zero of the same sign when ``fmt.subnormals`` is False.
    """
    bits = np.asarray(bits, dtype=np.uint64)
    neg = (bits >> np.uint64(fmt.width - 1)) & np.uint64(1) == 1
    mag = bits & np.uint64(fmt.sign_mask - 1)
    exp_field = (mag >> np.uint64(fmt.man_bits)).astype(np.int64)
    man = (mag & np.uint64(fmt.man_mask)).astype(np.int64)
    if fmt.specials is Specials.IEEE:
        top = exp_field == (1 << fmt.exp_bits) - 1
        nan = top & (man != 0)
        inf = top & (man == 0)
    else:
        nan = mag == np.uint64(fmt.sign_mask - 1)
        inf = np.zeros(bits.shape, dtype=bool)
    normal = exp_field > 0
    sig = np.where(normal, man | (1 << fmt.man_bits), man if fmt.subnormals else 0)
    exp = np.maximum(exp_field, 1) - (fmt.bias + fmt.man_bits)
    special = nan | inf
    sig = np.where(special, 0, sig)
    return Unpacked(neg=neg, sig=sig.astype(np.int64), exp=exp.astype(np.int64), nan=nan, inf=inf)


#: Widest format decoded by table lookup (a 2**16-entry float64 table is 512 KiB).
_TABLE_WIDTH = 16
#: Smallest array worth a table (building one decodes every pattern once).
_TABLE_MIN_SIZE = 4096


@cache
def _decode_table(fmt: FloatFormat) -> np.ndarray:
    """The float64 value of every bit pattern of a narrow ``fmt`` (by the exact path)."""
    table = _decode_exact(np.arange(1 << fmt.width, dtype=np.uint64), fmt)
    table.flags.writeable = False
    return table


def decode(bits: object, fmt: FloatFormat) -> np.ndarray:
    """Return the float64 values of ``fmt`` bit patterns (exact: every format fits float64).

    NaN patterns give NaN, infinities give ±inf, zeros keep their sign. Large arrays of
    formats up to 16 bits wide are looked up in a table filled by the same exact decoding.
    """
    fmt = as_format(fmt)
    checked = as_bits(bits, fmt, "bits")
    if fmt.width <= _TABLE_WIDTH and checked.size >= _TABLE_MIN_SIZE:
        return _decode_table(fmt)[checked]
    return _decode_exact(checked, fmt)


def _decode_exact(bits: np.ndarray, fmt: FloatFormat) -> np.ndarray:
    u = unpack(bits, fmt)
    # sig < 2**53 and sig * 2**exp lies in float64's range (checked by FloatFormat), so exact.
    mag = np.ldexp(u.sig.astype(np.float64), u.exp.astype(np.int32))
    mag = np.where(u.inf, np.inf, mag)
    out = np.where(u.neg, -mag, mag)
    return np.where(u.nan, np.nan, out)
