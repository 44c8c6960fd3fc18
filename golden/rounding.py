"""The one rounding step of fp8forge: exact integer value in, format bit pattern out.

Contract: ``docs/contract.md`` section 2. The exact magnitude is ``(sig + sticky*eps) * 2**exp``
with ``0 < eps < 1``: ``sticky`` marks bits below ``sig``'s LSB that an alignment shifted out.
Rounding is done on integer bits only (never through ``log2`` or float arithmetic):

* the result's unit in the last place is ``2**q`` with ``q = max(lead, emin) - man_bits``
  (``q = lead - man_bits`` without subnormals, i.e. unbounded below, then flush);
* ``T = floor(mag / 2**q)`` and ``f`` the fraction; RNE rounds up when ``f > 1/2`` or
  ``f == 1/2`` and ``T`` is odd; RTZ never; SR when ``R < F = floor(f * 2**rbits)``;
* overflow (rounded magnitude above max_finite, exponent unbounded above) gives
  ±max_finite with ``saturate`` or in RTZ, else ±inf (``ieee``) or the canonical NaN (``fn``).

The encoding of ``T * 2**q`` is ``(q - qmin) * 2**man_bits + T`` for both normal and
subnormal results, so a carry out of the significand moves into the exponent by itself.
"""

from __future__ import annotations

import numpy as np

from .formats import FloatFormat, Rounding

__all__ = ["MAX_RBITS", "bit_length", "check_rand", "round_exact"]

#: Widest SR random integer. Wider would break the sticky argument in ``golden.arith``
#: (an aligned sum keeps at least 36 bits below a 24-bit result's LSB).
MAX_RBITS = 32


def bit_length(x: np.ndarray) -> np.ndarray:
    """Bit length of non-negative int64 values below ``2**62`` (0 for 0), exactly.

    ``frexp`` of the float64 conversion is right except where the conversion rounded up to a
    power of two; the integer check below corrects exactly those cases.
    """
    _, n = np.frexp(x.astype(np.float64))
    n = n.astype(np.int64)
    too_big = (n > 0) & ((x >> np.maximum(n - 1, 0)) == 0)
    return n - too_big


def check_rand(
    rounding: Rounding, rand: object, rbits: int, shape: tuple[int, ...], name: str = "rand"
) -> np.ndarray | None:
    """Validate the explicit SR random integers; return them broadcast to ``shape`` as int64."""
    if not isinstance(rounding, Rounding):
        raise TypeError(f"rounding must be a Rounding, not {rounding!r}")
    if rounding is not Rounding.SR:
        if rand is not None:
            raise ValueError(f"{name} is only used with Rounding.SR, not {rounding.name}")
        return None
    if isinstance(rbits, bool) or not isinstance(rbits, int | np.integer):
        raise TypeError(f"rbits must be an integer, not {rbits!r}")
    if not 1 <= rbits <= MAX_RBITS:
        raise ValueError(f"rbits must be in 1..{MAX_RBITS} for Rounding.SR, not {rbits!r}")
    if rand is None:
        raise ValueError(f"{name} is required for Rounding.SR (one random integer per result)")
    arr = np.asarray(rand)
    if arr.dtype.kind not in "ui":
        raise TypeError(f"{name} must be an integer array, not dtype {arr.dtype}")
    if arr.size and (int(arr.min()) < 0 or int(arr.max()) >= 1 << rbits):
        raise ValueError(f"{name} values must lie in [0, 2**{rbits})")
    try:
        return np.broadcast_to(arr, shape).astype(np.int64)
    except ValueError:
        raise ValueError(
            f"{name} shape {arr.shape} does not match the result shape {shape}"
        ) from None


def round_exact(
    neg: np.ndarray,
    sig: np.ndarray,
    exp: np.ndarray,
    fmt: FloatFormat,
    rounding: Rounding,
    *,
    sticky: np.ndarray | None = None,
    rand: np.ndarray | None = None,
    rbits: int = 0,
    saturate: bool = False,
) -> np.ndarray:
    """Round ``(-1)**neg * (sig + sticky*eps) * 2**exp`` into ``fmt``; return uint64 bits.

    ``sig`` is int64 in ``[0, 2**62)``; where ``sig == 0`` (and no sticky) the result is a zero
    with sign ``neg``. With ``sticky`` set, SR needs at least ``rbits`` bits dropped, which the
    callers in ``golden.arith`` guarantee. ``rand`` (SR only) is validated by the caller.
    """
    sig = sig.astype(np.int64)
    exp = exp.astype(np.int64)
    sticky = np.zeros(sig.shape, dtype=bool) if sticky is None else sticky
    man = fmt.man_bits
    lead = exp + bit_length(sig) - 1
    q = (np.maximum(lead, fmt.emin) if fmt.subnormals else lead) - man
    drop = q - exp  # bits below the result's LSB; <= 0 means the value fits exactly
    shift = np.clip(drop, 0, 62)  # sig < 2**62, so shifting by 62 already leaves nothing
    trunc = np.where(drop > 0, sig >> shift, sig << np.clip(-drop, 0, 62))
    rem = np.where(drop > 0, sig - (trunc << shift), 0)

    if rounding is Rounding.RNE:
        half = np.int64(1) << np.clip(drop - 1, 0, 62)
        odd = (trunc & 1) == 1
        up = (drop > 0) & ((rem > half) | ((rem == half) & (sticky | odd)))
    elif rounding is Rounding.RTZ:
        up = np.zeros(sig.shape, dtype=bool)
    elif rounding is Rounding.SR:
        assert rand is not None
        # F = floor(f * 2**rbits) from the dropped bits; sticky bits never change this floor
        # because at least rbits bits are dropped whenever sticky is set.
        frac_bits = np.where(
            drop >= rbits,
            rem >> np.clip(drop - rbits, 0, 62),
            rem << np.clip(rbits - drop, 0, 62),
        )
        up = (drop > 0) & (rand < frac_bits)
    else:  # pragma: no cover - Rounding is closed
        raise TypeError(f"rounding must be a Rounding, not {rounding!r}")

    rounded = (trunc + up).astype(np.uint64)
    # Exponent steps above the subnormal grid. Clamped above (anything past the top exponent
    # code overflows anyway) so the encoding fits 64 bits. Below, only -1 can survive the flush
    # (without subnormals, a carry from 2**emin - ulp/2 reaches min_normal); it is kept as a
    # wrapped uint64 so the modular sum still yields the right encoding.
    steps = np.clip(q - (fmt.emin - man), -1, 1 << fmt.exp_bits).astype(np.int64)
    with np.errstate(over="ignore"):  # the wrap for step -1 is intended
        enc = (steps.astype(np.uint64) << np.uint64(man)) + rounded
    if not fmt.subnormals:
        # Leading exponent after rounding (a carry adds one) below emin: flush to signed zero.
        carried = (rounded >> np.uint64(man + 1)).astype(np.int64)
        enc = np.where(q + man + carried < fmt.emin, np.uint64(0), enc)
    enc = np.where(sig == 0, np.uint64(0), enc)

    over = enc > np.uint64(fmt.max_finite_bits)
    if saturate or rounding is Rounding.RTZ:
        over_enc = fmt.max_finite_bits
    elif fmt.inf_bits is not None:
        over_enc = fmt.inf_bits
    else:
        over_enc = fmt.nan_bits  # fn formats have no infinity; NaN is unsigned (canonical)
    enc = np.where(over, np.uint64(over_enc), enc)
    out = enc | (neg.astype(np.uint64) << np.uint64(fmt.width - 1))
    if fmt.inf_bits is None and not (saturate or rounding is Rounding.RTZ):
        out = np.where(over, np.uint64(fmt.nan_bits), out)
    return out
