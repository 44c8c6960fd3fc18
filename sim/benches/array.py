"""Bench for MacArray: whole GEMMs tiled onto the array, golden gemm as scoreboard.

Phase 1 streams GEMMs with no stalls and checks the measured cycles, first input beat to last
output beat, against ``MacArray.cycles(K, tiles)``; phase 2 streams every shape with random
valid stalls on A/B and random ready stalls on C. Parameters: in_fmt, acc_fmt, out_fmt, rows,
cols, chunk, interleave (optional, 1), shapes [[M, N, K], ...], cycle_shapes, stall, specials;
the measured cycles go to the runner's summary file.
"""

from __future__ import annotations

import json
import os
import random

import cocotb
import numpy as np

from fp8forge.golden import gemm, parse_format, quantize
from fp8forge.sim.benches.clocked import Testbench
from fp8forge.sim.stream import (
    Scoreboard,
    ValidReadyDriver,
    ValidReadyMonitor,
    bench_params,
    bench_seed,
    pack,
    unpack,
)


def _operands(rng, m, n, k, fmt, specials):
    a = quantize(rng.standard_normal((m, k)) * np.exp2(rng.integers(-3, 4, (m, 1))), fmt)
    b = quantize(rng.standard_normal((k, n)), fmt)
    codes = np.array([fmt.nan_bits, fmt.inf_bits or fmt.nan_bits, 1, fmt.sign_mask | 3],
                     dtype=a.dtype)
    mask = rng.random(a.shape) < specials
    return np.where(mask, codes[rng.integers(0, len(codes), a.shape)], a), b


def _tiles(a, b, rows, cols):
    """Zero-padded (A tile, B tile, row offset, col offset) in row-major tile order."""
    m, k = a.shape
    n = b.shape[1]
    for r in range(0, m, rows):
        for c in range(0, n, cols):
            ta = np.zeros((rows, k), dtype=a.dtype)
            tb = np.zeros((k, cols), dtype=b.dtype)
            ta[: min(rows, m - r)] = a[r:r + rows]
            tb[:, : min(cols, n - c)] = b[:, c:c + cols]
            yield ta, tb, r, c


class ArrayHarness:
    def __init__(self, dut, p, tb, coin):
        self.dut, self.p, self.tb, self.coin = dut, p, tb, coin
        self.w_in = parse_format(p["in_fmt"]).width
        self.out_fmt = parse_format(p["out_fmt"] or p["acc_fmt"])

    async def run(self, a, b, stall):
        """Stream one GEMM; return (C bits, cycles from first beat to last C beat, tiles)."""
        dut, p = self.dut, self.p
        rows, cols = p["rows"], p["cols"] * p.get("interleave", 1)  # cols of a C tile
        tiles = list(_tiles(a, b, rows, cols))
        marks: dict[str, int] = {}
        coin = self.coin

        def stalled() -> bool:
            return stall > 0 and coin.random() < stall

        driver = ValidReadyDriver(
            dut.clk, [dut.a_valid, dut.b_valid], dut.a_ready,
            {"a": dut.a_data, "b": dut.b_data, "last": dut.a_last}, stalled,
            on_accept=lambda: marks.setdefault("first", self.tb.cycle))
        monitor = ValidReadyMonitor(dut.clk, dut.c_valid, dut.c_ready, dut.c_data, stalled,
                                    on_beat=lambda: marks.__setitem__("last", self.tb.cycle))
        watcher = cocotb.start_soon(monitor.run(len(tiles) * rows))
        await driver.send(
            {"a": pack(ta[:, kk], self.w_in), "b": pack(tb[kk], self.w_in),
             "last": int(kk == ta.shape[1] - 1)}
            for ta, tb, _, _ in tiles for kk in range(ta.shape[1]))
        await watcher
        out_rows = [unpack(beat, self.out_fmt.width, cols) for beat in monitor.beats]
        m, n = a.shape[0], b.shape[1]
        c = np.zeros((m, n), dtype=np.uint64)
        for t, (_, _, r, col) in enumerate(tiles):
            block = np.array(out_rows[t * rows:(t + 1) * rows], dtype=np.uint64)
            c[r:r + rows, col:col + cols] = block[: min(rows, m - r), : min(cols, n - col)]
        return c, marks["last"] - marks["first"] + 1, len(tiles)


@cocotb.test()
async def gemms(dut):
    p = bench_params()
    seed = bench_seed()
    rng = np.random.default_rng(seed)
    coin = random.Random(seed)
    in_fmt, acc_fmt = parse_format(p["in_fmt"]), parse_format(p["acc_fmt"])
    out_fmt = parse_format(p["out_fmt"]) if p["out_fmt"] else None
    rows, cols = p["rows"], p["cols"]
    tb = Testbench(dut)
    await tb.start()
    harness = ArrayHarness(dut, p, tb, coin)
    board = Scoreboard(f"MacArray {rows}x{cols} {in_fmt.name}->{acc_fmt.name}",
                       harness.out_fmt.width, seed)
    from fp8forge.hdl.array import MacArray

    model = MacArray(in_fmt, acc_fmt, rows=rows, cols=cols, chunk=p["chunk"], out_fmt=out_fmt,
                     interleave=p.get("interleave", 1))
    measured = []
    import time

    # Operands and golden results first: the timing covers the simulation only.
    cases = []
    for m, n, k in p["cycle_shapes"]:
        a, b = _operands(rng, m, n, k, in_fmt, 0.0)
        cases.append((m, n, k, a, b, gemm(a, b, in_fmt, acc_fmt, chunk=p["chunk"],
                                           out_fmt=out_fmt)))
    start = time.perf_counter()
    for m, n, k, a, b, want in cases:
        c, cycles, tiles = await harness.run(a, b, stall=0.0)
        board.compare(c, want, {"row": np.repeat(np.arange(m), n)})
        expected = model.cycles(k, tiles=tiles)
        measured.append({"rows": rows, "cols": cols, "chunk": p["chunk"], "M": m, "N": n, "K": k,
                         "tiles": tiles,
                         "measured": cycles, "formula": expected})
        assert cycles == expected, f"K={k}, {tiles} tiles: measured {cycles}, cycles() {expected}"
    seconds = time.perf_counter() - start
    for m, n, k in p["shapes"]:
        a, b = _operands(rng, m, n, k, in_fmt, p["specials"])
        c, _, _ = await harness.run(a, b, stall=p["stall"])
        board.compare(c, gemm(a, b, in_fmt, acc_fmt, chunk=p["chunk"], out_fmt=out_fmt),
                      {"M": np.full(m * n, m), "N": np.full(m * n, n), "K": np.full(m * n, k)})
    if os.environ.get("FP8FORGE_SUMMARY"):
        with open(os.environ["FP8FORGE_SUMMARY"], "w") as f:
            json.dump({"cycles": measured, "checked": board.checked, "seconds": seconds,
                       "errors": board.errors}, f, indent=1)
    board.result()
