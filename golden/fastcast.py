"""Table-driven RNE/RTZ conversion of float32/float64 arrays into narrow formats.

This is a memo of ``quantize``, not a second implementation of rounding: for a target with few
mantissa bits, the result depends only on the input's top bits (sign, exponent and enough
mantissa bits to hold the rounding and half bits) plus whether any lower bit is set. A table
indexed by ``(top bits, any lower bit set)`` is filled once by the exact integer path with one
representative per class (lower bits ``0`` or ``...01``) and looked up afterwards.

Valid when (checked by ``table_applies``):
* the target's rounding point and half bit lie inside the kept mantissa bits
  (``man_bits + 1 <= KEPT``), and
* every subnormal input is below half the target's smallest value, so it rounds to zero
  whatever its top bits are (``2 * src.min_normal <= fmt.min_subnormal``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from .formats import FloatFormat, Rounding

__all__ = ["table_applies", "quantize_by_table"]

#: Mantissa bits kept in the table index, per source width (32 or 64 bits).
KEPT = {32: 7, 64: 8}
_EXP_BITS = {32: 8, 64: 11}
_MIN_NORMAL = {32: 2.0**-126, 64: 2.0**-1022}
#: Below this many elements the table build (up to 2**21 conversions) costs more than it saves.
MIN_ELEMENTS = 1 << 16


def table_applies(src_bits: int, fmt: FloatFormat, rounding: Rounding, size: int) -> bool:
    return (
        size >= MIN_ELEMENTS
        and src_bits in KEPT
        and rounding in (Rounding.RNE, Rounding.RTZ)
        and fmt.man_bits + 1 <= KEPT[src_bits]
        and 2 * _MIN_NORMAL[src_bits] <= fmt.min_subnormal
    )


@lru_cache(maxsize=16)
def _table(src_bits: int, fmt: FloatFormat, rounding: Rounding, saturate: bool) -> np.ndarray:
    from .arith import quantize  # the exact path fills the table

    utype = np.uint32 if src_bits == 32 else np.uint64
    ftype = np.float32 if src_bits == 32 else np.float64
    top = 1 + _EXP_BITS[src_bits] + KEPT[src_bits]
    low = src_bits - top
    index = np.arange(1 << (top + 1), dtype=np.uint64)
    representative = ((index >> np.uint64(1)) << np.uint64(low)) | (index & np.uint64(1))
    values = representative.astype(utype).view(ftype)
    return quantize(values, fmt, rounding, saturate=saturate, _use_table=False)


def quantize_by_table(
    x: np.ndarray, fmt: FloatFormat, rounding: Rounding, saturate: bool
) -> np.ndarray:
    """Convert float32/float64 ``x``; the caller checked ``table_applies``."""
    src_bits = x.dtype.itemsize * 8
    table = _table(src_bits, fmt, rounding, saturate)
    utype = np.uint32 if src_bits == 32 else np.uint64
    low = src_bits - (1 + _EXP_BITS[src_bits] + KEPT[src_bits])
    bits: Any = np.ascontiguousarray(x).view(utype)
    index = (bits >> utype(low - 1)) & ~utype(1)
    index |= (bits & utype((1 << low) - 1)) != 0
    return table[index]
