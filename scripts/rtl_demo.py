"""The RTL part of ``make demo``: a short MacArray GEMM on Verilator against the golden model."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from fp8forge.golden import PRESETS
from fp8forge.hdl.array import MacArray


def macarray_demo(sim: str = "verilator", rows: int = 4, cols: int = 4, chunk: int = 64,
                  m: int = 8, n: int = 8, k: int = 256) -> str:
    """Run an M x N x K e5m2 GEMM (e6m9 chunked accumulation, e5m2 outputs) tiled on a
    ``rows x cols`` array; return a short report (bit-exactness and cycles vs ``cycles()``)."""
    from fp8forge.sim.runner import run_bench

    e5m2, e6m9 = PRESETS["e5m2"], PRESETS["e6m9"]
    unit = MacArray(e5m2, e6m9, rows=rows, cols=cols, chunk=chunk, out_fmt=e5m2)
    with tempfile.TemporaryDirectory() as tmp:
        summary = Path(tmp) / "summary.json"
        params = {"in_fmt": "e5m2", "acc_fmt": "e6m9", "out_fmt": "e5m2", "rows": rows,
                  "cols": cols, "chunk": chunk, "shapes": [], "stall": 0.0, "specials": 0.0,
                  "cycle_shapes": [[m, n, k]], "cycles_json": str(summary)}
        run_bench("array", unit, params, sim=sim)
        data = json.loads(summary.read_text())
    run = data["cycles"][0]
    macs = m * n * k
    return (f"MacArray {rows}x{cols} (e5m2 x e5m2 -> e6m9, chunk {chunk}, e5m2 outputs) on {sim}:\n"
            f"  GEMM {m}x{n}x{k} in {run['tiles']} tiles: {data['checked']} outputs bit-exact "
            f"against golden gemm\n"
            f"  cycles measured {run['measured']}, MacArray.cycles() {run['formula']}; "
            f"{macs / run['measured']:.1f} MAC/cycle of {rows * cols} peak")
