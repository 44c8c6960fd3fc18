"""The RTL part of ``make demo``: a short MacArray GEMM on Verilator against the golden model."""

from __future__ import annotations

from fp8forge.golden import PRESETS
from fp8forge.hdl.array import MacArray


def measure_gemm(unit: MacArray, m: int, n: int, k: int, sim: str = "verilator") -> dict:
    """Run one unstalled M x N x K GEMM (random operands) tiled on ``unit`` in the array bench.

    Returns the bench summary: ``cycles`` (one entry: tiles, measured, formula), ``checked``
    (outputs compared bit for bit with golden gemm) and ``seconds`` of simulation.
    """
    from fp8forge.sim.runner import run_bench

    params = {"in_fmt": unit.in_fmt.name, "acc_fmt": unit.acc_fmt.name,
              "out_fmt": unit.out_fmt.name if unit.out_fmt else None, "rows": unit.rows,
              "cols": unit.cols, "chunk": unit.chunk, "shapes": [], "stall": 0.0,
              "specials": 0.0, "cycle_shapes": [[m, n, k]]}
    return run_bench("array", unit, params, sim=sim).summary


def macarray_demo(sim: str = "verilator", rows: int = 4, cols: int = 4, chunk: int = 64,
                  m: int = 8, n: int = 8, k: int = 256) -> str:
    """Run an M x N x K e5m2 GEMM (e6m9 chunked accumulation, e5m2 outputs) tiled on a
    ``rows x cols`` array; return a short report (bit-exactness and cycles vs ``cycles()``)."""
    e5m2, e6m9 = PRESETS["e5m2"], PRESETS["e6m9"]
    unit = MacArray(e5m2, e6m9, rows=rows, cols=cols, chunk=chunk, out_fmt=e5m2)
    data = measure_gemm(unit, m, n, k, sim)
    run = data["cycles"][0]
    return (f"MacArray {rows}x{cols} (e5m2 x e5m2 -> e6m9, chunk {chunk}, e5m2 outputs) on {sim}:\n"
            f"  GEMM {m}x{n}x{k} in {run['tiles']} tiles: {data['checked']} outputs bit-exact "
            f"against golden gemm\n"
            f"  cycles measured {run['measured']}, MacArray.cycles() {run['formula']}; "
            f"{m * n * k / run['measured']:.1f} MAC/cycle of {rows * cols} peak")
