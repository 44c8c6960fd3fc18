"""How often a PE's accumulator register toggles, from the golden model alone.

Chunked and unchunked arrays are built from the same PE netlist, yet the PEs of a chunked
array take more energy per MAC: restarted every chunk, their running sums stay small, so the
low bits of each aligned product survive and flip the sum's bits, where an unchunked sum grows
and shifts them out (the swamping chunking exists to prevent). This counts those flips on the
operands ``scripts/energy.stimulus_for`` drives the arrays with, so a report can show the
arithmetic behind that energy next to the gate-level figure.
"""

from __future__ import annotations

import functools

import numpy as np

from fp8forge.golden import FloatFormat, Rounding, add, mul, quantize


@functools.lru_cache(maxsize=8)  # a report asks for the same figures each time it renders
def accumulator_toggles_per_mac(in_fmt: FloatFormat, acc_fmt: FloatFormat, chunk: int | None,
                                length: int, dots: int = 2000, seed: int = 1) -> float:
    """Mean number of bits of the ``acc_fmt`` running sum that change per multiply-accumulate,
    over ``dots`` dot products of ``length`` products of N(0, 1) operands quantized to
    ``in_fmt`` (products exact or RNE in ``acc_fmt``, sums RNE), the sum restarting from the
    product at the start of every chunk of ``chunk`` (None: once per dot product), as a PE's
    register does. Each dot product starts from a cleared register."""
    if length < 1 or dots < 1:
        raise ValueError(f"length and dots must be at least 1, not {length}, {dots}")
    rng = np.random.default_rng(seed)
    a = quantize(rng.standard_normal((dots, length)), in_fmt).astype(np.uint64)
    b = quantize(rng.standard_normal((dots, length)), in_fmt).astype(np.uint64)
    products = mul(a, b, in_fmt, acc_fmt, Rounding.RNE)
    period = chunk or length
    acc = np.zeros(dots, np.uint64)
    flips = 0
    for k in range(length):
        p = products[:, k]
        new = p if k % period == 0 else add(acc, p, acc_fmt, Rounding.RNE)
        flips += int(np.unpackbits((new ^ acc).astype(">u8").view(np.uint8)).sum())
        acc = new
    return flips / (dots * length)
