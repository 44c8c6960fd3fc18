"""Maximal-length LFSRs: the random bit stream of the SR hardware, mirrored bit for bit.

Contract: ``docs/contract.md`` section 3 (``Lfsr``). A Fibonacci LFSR of ``width`` stages
numbered 1..width, state bit ``i-1`` holding stage ``i``. One step: the output bit is stage
``width``; the feedback is the XOR of the tap stages; the register shifts towards stage
``width`` and the feedback enters stage 1. The seed is the initial state (nonzero).

Taps: Xilinx application note XAPP052, P. Alfke, "Efficient Shift Registers, LFSR Counters, and
Long Pseudo-Random Sequence Generators" (1996), Table 3, widths 3..64. The tests check every
entry's feedback polynomial is primitive, so each sequence has period ``2**width - 1``.

Random integers for SR are cut from the serial stream: a step of the hardware consumes
``word_bits`` consecutive output bits; word bit ``j`` is the ``j``-th of them (LSB first), and
lane ``i`` of an ``rbits``-bit multi-lane word takes word bits ``[i*rbits, (i+1)*rbits)``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["TAPS", "check_lfsr", "lfsr_bits", "lfsr_words", "lane_rand"]

TAPS: dict[int, tuple[int, ...]] = {
    3: (3, 2), 4: (4, 3), 5: (5, 3), 6: (6, 5), 7: (7, 6), 8: (8, 6, 5, 4), 9: (9, 5),
    10: (10, 7), 11: (11, 9), 12: (12, 6, 4, 1), 13: (13, 4, 3, 1), 14: (14, 5, 3, 1),
    15: (15, 14), 16: (16, 15, 13, 4), 17: (17, 14), 18: (18, 11), 19: (19, 6, 2, 1),
    20: (20, 17), 21: (21, 19), 22: (22, 21), 23: (23, 18), 24: (24, 23, 22, 17), 25: (25, 22),
    26: (26, 6, 2, 1), 27: (27, 5, 2, 1), 28: (28, 25), 29: (29, 27), 30: (30, 6, 4, 1),
    31: (31, 28), 32: (32, 22, 2, 1), 33: (33, 20), 34: (34, 27, 2, 1), 35: (35, 33),
    36: (36, 25), 37: (37, 5, 4, 3, 2, 1), 38: (38, 6, 5, 1), 39: (39, 35), 40: (40, 38, 21, 19),
    41: (41, 38), 42: (42, 41, 20, 19), 43: (43, 42, 38, 37), 44: (44, 43, 18, 17),
    45: (45, 44, 42, 41), 46: (46, 45, 26, 25), 47: (47, 42), 48: (48, 47, 21, 20), 49: (49, 40),
    50: (50, 49, 24, 23), 51: (51, 50, 36, 35), 52: (52, 49), 53: (53, 52, 38, 37),
    54: (54, 53, 18, 17), 55: (55, 31), 56: (56, 55, 35, 34), 57: (57, 50), 58: (58, 39),
    59: (59, 58, 38, 37), 60: (60, 59), 61: (61, 60, 46, 45), 62: (62, 61, 6, 5), 63: (63, 62),
    64: (64, 63, 61, 60),
}


def check_lfsr(width: object, seed: object) -> tuple[int, int]:
    """Validate an LFSR configuration; messages name the parameter."""
    if isinstance(width, bool) or not isinstance(width, int) or width not in TAPS:
        raise ValueError(f"LFSR width must be an integer in {min(TAPS)}..{max(TAPS)}, "
                         f"not {width!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 < seed < 1 << width:
        raise ValueError(f"LFSR seed must be a nonzero {width}-bit integer, not {seed!r}")
    return width, seed


def tap_mask(width: int) -> int:
    return sum(1 << (t - 1) for t in TAPS[width])


def lfsr_bits(width: int, seed: int, count: int) -> np.ndarray:
    """The first ``count`` output bits (uint8) of the LFSR started at ``seed``."""
    width, seed = check_lfsr(width, seed)
    mask, taps, top = (1 << width) - 1, tap_mask(width), width - 1
    state = seed
    out = bytearray(count)
    for i in range(count):
        out[i] = (state >> top) & 1
        state = ((state << 1) | ((state & taps).bit_count() & 1)) & mask
    return np.frombuffer(bytes(out), dtype=np.uint8)


def lfsr_words(width: int, seed: int, word_bits: int, count: int) -> np.ndarray:
    """``count`` words of ``word_bits`` consecutive stream bits each, LSB first (uint64)."""
    if not 1 <= word_bits <= 64:
        raise ValueError(f"word_bits must be in 1..64, not {word_bits!r}")
    bits = lfsr_bits(width, seed, word_bits * count).reshape(count, word_bits).astype(np.uint64)
    weights = np.uint64(1) << np.arange(word_bits, dtype=np.uint64)
    return (bits * weights).sum(axis=1, dtype=np.uint64)


def lane_rand(width: int, seed: int, lanes: int, rbits: int, count: int) -> np.ndarray:
    """SR random integers of a ``lanes``-wide unit: shape (count, lanes), lane i from word bits
    ``[i*rbits, (i+1)*rbits)`` of each step's ``lanes * rbits`` bits."""
    bits = lfsr_bits(width, seed, lanes * rbits * count).reshape(count, lanes, rbits)
    weights = np.int64(1) << np.arange(rbits, dtype=np.int64)
    return (bits.astype(np.int64) * weights).sum(axis=2)
