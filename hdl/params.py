"""Parameter checks shared by the generators (messages in Amaranth's style, pinned by tests)."""

from __future__ import annotations

import operator

from fp8forge.golden.accumulate import check_chunk
from fp8forge.golden.arith import MAX_ARITH_PRECISION
from fp8forge.golden.formats import FloatFormat, Rounding
from fp8forge.golden.rounding import MAX_RBITS

__all__ = ["MAX_PRECISION", "check_chunk", "check_format", "check_int", "check_interleave",
           "check_rbits", "check_rounding"]

#: Widest significand the arithmetic generators accept: the golden model's limit (fp32's), so
#: every unit that can be built has a reference to be checked against.
MAX_PRECISION = MAX_ARITH_PRECISION


def check_format(value: object, name: str, *, arithmetic: bool = True) -> FloatFormat:
    if not isinstance(value, FloatFormat):
        raise TypeError(f"{name} must be a FloatFormat, not {value!r}")
    if arithmetic and value.precision > MAX_PRECISION:
        raise ValueError(
            f"{name} must have at most {MAX_PRECISION} significand bits, not {value.precision} "
            f"({value.name})"
        )
    return value


def check_rounding(value: object) -> Rounding:
    if not isinstance(value, Rounding):
        raise TypeError(f"Rounding must be a Rounding, not {value!r}")
    return value


def check_int(value: object, name: str, lo: int, hi: int | None = None) -> int:
    try:
        if isinstance(value, bool):
            raise TypeError
        number = operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"{name} must be an integer, not {value!r}") from None
    if number < lo or (hi is not None and number > hi):
        bound = f"at least {lo}" if hi is None else f"in {lo}..{hi}"
        raise ValueError(f"{name} must be {bound}, not {number}")
    return number


def check_rbits(value: object) -> int:
    return check_int(value, "rbits", 1, MAX_RBITS)


def check_interleave(value: object) -> int:
    """Independent dot products per accumulation loop: 1, or 2 (the loop cut once, between the
    exact sum and the rounding; see ``accumulator.running_sum``)."""
    return check_int(value, "interleave", 1, 2)
