"""TestFloat-style stimulus catalogue for any format.

Contract: ``docs/contract.md`` section 4. ``operands(fmt, n, rng, op=...)`` returns ``n``
operand tuples (bit patterns) mixing:

* boundary values: ±0, ±inf, NaNs, smallest/largest subnormal, smallest normal, largest finite
  and their neighbours, ±1 and its neighbours;
* operation-directed cases: sums that land exactly on a tie midpoint, carries into the exponent
  (all-ones significands), near and exact cancellation, huge exponent gaps, fused products
  cancelled by the addend;
* weighted random values (exponent uniform over the whole range, significands biased towards
  runs of ones and zeros) and plain uniform bit patterns.

All randomness comes from the ``numpy.random.Generator`` passed in.
"""

from __future__ import annotations

import numpy as np

from .bits import bits_dtype
from .formats import FloatFormat

__all__ = ["boundary_values", "operands", "random_values"]

#: Operations ``operands`` knows how to direct stimuli at, with their arity.
ARITY = {"quantize": 1, "mul": 2, "add": 2, "fma": 3}


def boundary_values(fmt: FloatFormat) -> np.ndarray:
    """Both signs of every boundary encoding of ``fmt`` (uint64 bit patterns, unique)."""
    man_top = fmt.man_mask
    one = fmt.bias << fmt.man_bits
    mags = [
        0,
        1,
        2,
        man_top,  # largest subnormal
        1 << fmt.man_bits,  # smallest normal
        (1 << fmt.man_bits) + 1,
        fmt.max_finite_bits,
        fmt.max_finite_bits - 1,
        one,
        one + 1,
        one - 1,
        one | man_top,
    ]
    if fmt.inf_bits is not None:
        mags += [fmt.inf_bits, fmt.nan_bits, fmt.inf_bits | 1, fmt.inf_bits | man_top]
    else:
        mags += [fmt.nan_bits]
    mags_arr = np.unique(np.array([m for m in mags if 0 <= m < fmt.sign_mask], dtype=np.uint64))
    return np.concatenate([mags_arr, mags_arr | np.uint64(fmt.sign_mask)])


def random_values(fmt: FloatFormat, n: int, rng: np.random.Generator) -> np.ndarray:
    """Weighted random finite-or-special encodings: exponents uniform over the full range."""
    exp_field = rng.integers(0, 1 << fmt.exp_bits, n, dtype=np.uint64)
    kind = rng.integers(0, 4, n)
    man = (
        rng.integers(0, 1 << fmt.man_bits, n, dtype=np.uint64)
        if fmt.man_bits
        else np.zeros(n, dtype=np.uint64)
    )
    # Runs of ones from the top or bottom make carries and sticky bits likely.
    run = rng.integers(0, fmt.man_bits + 1, n).astype(np.uint64)
    low_ones = (np.uint64(1) << run) - np.uint64(1)
    high_ones = np.uint64(fmt.man_mask) ^ (np.uint64(fmt.man_mask) >> run)
    man = np.select([kind == 0, kind == 1, kind == 2], [man, low_ones, high_ones], man & ~low_ones)
    sign = rng.integers(0, 2, n, dtype=np.uint64) << np.uint64(fmt.width - 1)
    return sign | (exp_field << np.uint64(fmt.man_bits)) | (man & np.uint64(fmt.man_mask))


def _pick(pool: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    return pool[rng.integers(0, len(pool), n)]


def _with_exponent_offset(
    fmt: FloatFormat, base: np.ndarray, offset: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Random-significand values whose exponent field is ``base``'s plus ``offset`` (clipped)."""
    field = (base >> np.uint64(fmt.man_bits)) & np.uint64((1 << fmt.exp_bits) - 1)
    new_field = np.clip(field.astype(np.int64) + offset, 0, fmt.emax_field).astype(np.uint64)
    man = rng.integers(0, 1 << fmt.man_bits, len(base), dtype=np.uint64)
    sign = rng.integers(0, 2, len(base), dtype=np.uint64) << np.uint64(fmt.width - 1)
    return sign | (new_field << np.uint64(fmt.man_bits)) | man


def _directed_second(fmt: FloatFormat, a: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Second addends aimed at ties, carries, cancellation and exponent gaps relative to ``a``."""
    n = len(a)
    sign_bit = np.uint64(fmt.sign_mask)
    case = rng.integers(0, 5, n)
    # exact cancellation and near cancellation (a few ulps apart), opposite sign
    near = (a ^ sign_bit) + rng.integers(-3, 4, n).astype(np.uint64)
    near = np.where(near >> np.uint64(fmt.width) != 0, a ^ sign_bit, near)
    # an addend whose value is half an ulp of a (tie) or half-ulp plus/minus one step lower
    tie_offset = -(fmt.man_bits + 1) + rng.integers(-1, 2, n)
    tie = _with_exponent_offset(fmt, a, tie_offset, rng)
    tie = tie & ~np.uint64(fmt.man_mask)  # power of two: exactly on the midpoint grid
    # huge exponent gaps in either direction
    gap = _with_exponent_offset(
        fmt, a, rng.integers(-(1 << fmt.exp_bits), 1 << fmt.exp_bits, n), rng
    )
    # carries: a small same-sign value added to an all-ones significand
    carry = _with_exponent_offset(fmt, a, -rng.integers(0, fmt.man_bits + 3, n), rng)
    carry = (carry & ~sign_bit) | (a & sign_bit)
    random = random_values(fmt, n, rng)
    return np.select([case == 0, case == 1, case == 2, case == 3], [near, tie, gap, carry], random)


def operands(
    fmt: FloatFormat, n: int, rng: np.random.Generator, *, op: str = "add"
) -> tuple[np.ndarray, ...]:
    """``n`` stimulus tuples for ``op`` (``quantize``, ``mul``, ``add`` or ``fma``).

    Returns one array per operand in the format's bit dtype. About a tenth of the operands are
    boundary values, a fifth uniform bit patterns, the rest weighted random or directed.
    """
    if op not in ARITY:
        raise ValueError(f"op must be one of {', '.join(ARITY)}, not {op!r}")
    pool = boundary_values(fmt)

    def mixed() -> np.ndarray:
        choice = rng.random(n)
        uniform = rng.integers(0, 1 << fmt.width, n, dtype=np.uint64)
        return np.where(
            choice < 0.1,
            _pick(pool, n, rng),
            np.where(choice < 0.3, uniform, random_values(fmt, n, rng)),
        )

    first = mixed()
    # All-ones significands make carries into the exponent likely.
    ones = rng.random(n) < 0.1
    first = np.where(ones, first | np.uint64(fmt.man_mask), first)
    if op == "quantize":
        result: tuple[np.ndarray, ...] = (first,)
    elif op == "mul":
        result = (first, mixed())
    elif op == "add":
        directed = rng.random(n) < 0.6
        result = (first, np.where(directed, _directed_second(fmt, first, rng), mixed()))
    else:
        x = mixed()
        # Powers of two make a*x exact, so the directed addend can cancel it exactly.
        power = rng.random(n) < 0.25
        x = np.where(power, x & ~np.uint64(fmt.man_mask), x)
        # y near -(a*x): compute the product's encoding offset from a's exponent and x's.
        directed = rng.random(n) < 0.6
        y_target = _directed_second(fmt, _approx_product(fmt, first, x), rng)
        result = (first, x, np.where(directed, y_target, mixed()))
    dtype = bits_dtype(fmt)
    return tuple(arr.astype(dtype) for arr in result)


def _approx_product(fmt: FloatFormat, a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """An encoding close to ``a * x`` (exponents added, a's significand), clipped to the range."""
    field_a = ((a >> np.uint64(fmt.man_bits)) & np.uint64((1 << fmt.exp_bits) - 1)).astype(np.int64)
    field_x = ((x >> np.uint64(fmt.man_bits)) & np.uint64((1 << fmt.exp_bits) - 1)).astype(np.int64)
    field = np.clip(field_a + field_x - fmt.bias, 0, fmt.emax_field).astype(np.uint64)
    sign = (a ^ x) & np.uint64(fmt.sign_mask)
    return sign | (field << np.uint64(fmt.man_bits)) | (a & np.uint64(fmt.man_mask))
