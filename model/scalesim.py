"""Per-GEMM compute cycles in the convention of the SCALE-Sim systolic-array simulator.

SCALE-Sim (Samajdar et al., https://github.com/scalesim-project/scale-sim-v2, PyPI
``scalesim``) maps a GEMM ``C[M x N] = A[M x K] @ B[K x N]`` on an R x C array by dataflow:

===========  ===============  ===============  ========  =============================
dataflow     array rows hold  array cols hold  streamed  cycles per fold
===========  ===============  ===============  ========  =============================
``os``       M (outputs)      N (outputs)      T = K     T + R + C - 2
``ws``       K (weights)      N (weights)      T = M     2R + C + T - 2  (R to preload)
``is``       K (inputs)       M (inputs)       T = N     2R + C + T - 2  (R to preload)
===========  ===============  ===============  ========  =============================

with ``folds = ceil(rows-dimension / R) * ceil(cols-dimension / C)`` executed one after the
other, no memory stalls ("stall-free compute cycles"). These are the lengths of SCALE-Sim's
compute demand matrices (``systolic_compute_{os,ws,is}``); ``tests/sim/test_throughput.py``
runs SCALE-Sim's own code, when installed, to check every formula.

SCALE-Sim's own report (``COMPUTE_REPORT.csv``, "Total Cycles") is one less: it records the
0-based index of the cycle that serves the last output (``max(ofmap_serviced_cycles)`` in its
scratchpad model), so stall-free it is the demand rows minus one (``report_total_cycles``).
This project counts cycles; ``fp8forge project --scalesim`` prints SCALE-Sim's report figure.

The RTL MacArray (output stationary) differs from SCALE-Sim's ``os`` in two ways: it overlaps
the drain of one tile with the next (tiles back to back, ``MacArray.cycles``), and its PEs add
``pe_latency`` cycles of pipeline. ``fp8forge project --scalesim`` prints both side by side.
"""

from __future__ import annotations

from math import ceil

DATAFLOWS = ("os", "ws", "is")


def folds(m: int, n: int, k: int, rows: int, cols: int, dataflow: str) -> tuple[int, int]:
    """(number of folds, temporal length T of each fold) for SCALE-Sim's mapping."""
    if dataflow == "os":
        return ceil(m / rows) * ceil(n / cols), k
    if dataflow == "ws":
        return ceil(k / rows) * ceil(n / cols), m
    if dataflow == "is":
        return ceil(k / rows) * ceil(m / cols), n
    raise ValueError(f"unknown dataflow {dataflow!r} (known: {', '.join(DATAFLOWS)})")


def compute_cycles(m: int, n: int, k: int, rows: int, cols: int, dataflow: str) -> int:
    """SCALE-Sim's stall-free compute cycles of one GEMM (see the module table)."""
    count, t = folds(m, n, k, rows, cols, dataflow)
    per_fold = t + rows + cols - 2 if dataflow == "os" else 2 * rows + cols + t - 2
    return count * per_fold


def report_total_cycles(m: int, n: int, k: int, rows: int, cols: int, dataflow: str) -> int:
    """What SCALE-Sim's COMPUTE_REPORT.csv calls "Total Cycles" for one stall-free GEMM: the
    index of its last compute cycle, ``compute_cycles - 1`` (module text)."""
    return compute_cycles(m, n, k, rows, cols, dataflow) - 1
