"""MacArray on Verilator and Icarus: >= 20 random GEMM shapes per configuration (K = 1,
K < chunk, K not a multiple of chunk, K = 4096, NaN/inf/subnormal operands) under random
stalls, and measured cycle counts equal to ``cycles()`` (exported to build/macarray_cycles.json).

Where each configuration runs (``ON``): in make test the 4x4 FP8 array, the 2x2 fp16 -> fp32
baseline and the 2x2 interleaved array on Verilator, the 2x2 FP8 array with accumulator and with
e5m2 outputs on Icarus (which simulates a 4x4 array in over a minute; 21 shapes, without the
K = 4096 one). ``make test-long`` adds both 4x4 FP8 arrays on Icarus, the 4x4 baseline, the 4x4
interleaved array and the 8x8 array (the same RTL at a larger size, 12 shapes) on Verilator.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from fp8forge.golden import PRESETS
from fp8forge.hdl.array import MacArray
from fp8forge.model.networks import Gemm
from fp8forge.model.throughput import System, gemm_cost
from fp8forge.sim.runner import SIMULATORS, run_bench

from .conftest import require_simulator

pytestmark = pytest.mark.rtl_sim
CHUNK = 16

CONFIGS = {
    "2x2-e5m2-e6m9": dict(rows=2, cols=2, in_fmt="e5m2", acc_fmt="e6m9", out_fmt=None),
    "2x2-e5m2-e6m9-out-e5m2": dict(rows=2, cols=2, in_fmt="e5m2", acc_fmt="e6m9", out_fmt="e5m2"),
    "4x4-e5m2-e6m9": dict(rows=4, cols=4, in_fmt="e5m2", acc_fmt="e6m9", out_fmt=None),
    "4x4-e5m2-e6m9-out-e5m2": dict(rows=4, cols=4, in_fmt="e5m2", acc_fmt="e6m9", out_fmt="e5m2"),
    "8x8-e5m2-e6m9": dict(rows=8, cols=8, in_fmt="e5m2", acc_fmt="e6m9", out_fmt=None),
    "2x2-fp16-fp32": dict(rows=2, cols=2, in_fmt="fp16", acc_fmt="fp32", out_fmt=None),
    "4x4-fp16-fp32": dict(rows=4, cols=4, in_fmt="fp16", acc_fmt="fp32", out_fmt=None),
    # every accumulation loop cut once: tiles of 2 x 4 on 2 x 2 PEs, 4 x 8 on 4 x 4
    "2x2-e5m2-e6m9-interleave-2": dict(rows=2, cols=2, in_fmt="e5m2", acc_fmt="e6m9",
                                       out_fmt=None, interleave=2),
    "4x4-e5m2-e6m9-interleave-2": dict(rows=4, cols=4, in_fmt="e5m2", acc_fmt="e6m9",
                                       out_fmt=None, interleave=2),
}


def shapes(rows, cols, seed):
    """22 shapes: fixed corner cases of K, then random ones; one K = 4096 single-tile GEMM."""
    rng = np.random.default_rng(seed)
    ks = [1, 3, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK + 5, 70, 100]
    ks += rng.integers(1, 90, 13).tolist()
    out = [[int(rng.integers(1, 2 * rows + 1)), int(rng.integers(1, 2 * cols + 1)), int(k)]
           for k in ks]
    return out + [[rows, cols, 4096]]


#: Where each configuration runs (the simulators agree on everything the suite runs on both).
ON = {"2x2-e5m2-e6m9": ("icarus",), "2x2-e5m2-e6m9-out-e5m2": ("icarus",),
      "4x4-e5m2-e6m9": SIMULATORS, "4x4-e5m2-e6m9-out-e5m2": ("icarus",),
      "8x8-e5m2-e6m9": ("verilator",), "2x2-fp16-fp32": ("verilator",),
      "4x4-fp16-fp32": ("verilator",),
      "2x2-e5m2-e6m9-interleave-2": ("verilator",), "4x4-e5m2-e6m9-interleave-2": ("verilator",)}
#: Run by make test-long only.
LONG = {("4x4-e5m2-e6m9", "icarus"), ("4x4-e5m2-e6m9-out-e5m2", "icarus"),
        ("8x8-e5m2-e6m9", "verilator"), ("4x4-e5m2-e6m9-interleave-2", "verilator"),
        ("4x4-fp16-fp32", "verilator")}
assert set(SIMULATORS) == {"verilator", "icarus"}


@pytest.mark.parametrize("config, simulator", [
    pytest.param(config, sim, marks=[pytest.mark.long] if (config, sim) in LONG else [])
    for config in CONFIGS for sim in ON[config]])
def test_macarray(config, simulator, tmp_path):
    require_simulator(simulator)
    c = CONFIGS[config]
    rows, cols = c["rows"], c["cols"]
    unit = MacArray(PRESETS[c["in_fmt"]], PRESETS[c["acc_fmt"]], rows=rows, cols=cols,
                    chunk=CHUNK, out_fmt=PRESETS[c["out_fmt"]] if c["out_fmt"] else None,
                    interleave=c.get("interleave", 1))
    cols = unit.tile_cols  # of a C tile
    gemms = shapes(rows, cols, 7)
    if rows > 4:  # the larger array checks scale: the corner cases of K and K = 4096
        gemms = gemms[:11] + gemms[-1:]
    if rows < 4:  # the 2x2 runs: K = 4096 (half their cycles) runs at 4x4
        gemms = gemms[:-1]
    params = dict(c, chunk=CHUNK, shapes=gemms, stall=0.25, specials=0.02,
                  cycle_shapes=[[rows, cols, 1], [rows, cols, 5], [2 * rows, cols, 40],
                                [rows, 2 * cols, 2], [rows, cols, 300]])
    measured = run_bench("array", unit, params, sim=simulator).summary["cycles"]
    assert len(measured) == 5 and all(m["measured"] == m["formula"] for m in measured)
    # The throughput model, run on the same GEMMs with unlimited bandwidth, reproduces every
    # measured cycle count exactly.
    system = System("rtl", unit.in_fmt, unit.acc_fmt, unit.out_fmt or unit.acc_fmt,
                    unit.acc_fmt, CHUNK, rows, unit.cols, bandwidth_gbs=float("inf"),
                    interleave=unit.interleave)
    for m in measured:
        cost = gemm_cost(system, Gemm(None, "fwd", m["M"], m["N"], m["K"]))
        assert cost.cycles == m["measured"], m
    # Export for the throughput model: one file per (config, simulator), merged by key.
    out = Path("build") / "macarray_cycles.json"
    out.parent.mkdir(exist_ok=True)
    data = json.loads(out.read_text()) if out.exists() else {}
    data[f"{config}/{simulator}"] = measured
    tmp = out.with_suffix(f".{config}.{simulator}.tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
    tmp.replace(out)
