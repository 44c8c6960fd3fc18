"""Bench for ChunkAccumulator and MacPE: framed dot products with random valid stalls.

Parameters: unit ("acc" or "mac"), in_fmt, acc_fmt, chunk, lengths, stall, specials.
"""

from __future__ import annotations

import random

import cocotb
import numpy as np
from cocotb.triggers import RisingEdge

from fp8forge.golden import chunked_sum, gemm, parse_format, quantize
from fp8forge.sim.benches.clocked import Testbench
from fp8forge.sim.stream import Scoreboard, ValidMonitor, bench_params, bench_seed


def _values(rng, n, fmt, specials):
    v = quantize(rng.standard_normal(n) * np.exp2(rng.integers(-5, 6, n)), fmt).astype(np.uint64)
    codes = np.array([fmt.nan_bits, fmt.inf_bits or fmt.nan_bits, 1, fmt.sign_mask,
                      fmt.max_finite_bits], dtype=np.uint64)
    mask = rng.random(n) < specials
    return np.where(mask, codes[rng.integers(0, len(codes), n)], v)


@cocotb.test()
async def dot_products(dut):
    p = bench_params()
    seed = bench_seed()
    rng = np.random.default_rng(seed)
    coin = random.Random(seed)
    acc_fmt = parse_format(p["acc_fmt"])
    in_fmt = parse_format(p["in_fmt"])
    chunk = p["chunk"]
    mac = p["unit"] == "mac"
    dots = []
    for n in p["lengths"]:
        if mac:
            dots.append((_values(rng, n, in_fmt, p["specials"]), _values(rng, n, in_fmt, 0)))
        else:
            dots.append((_values(rng, n, acc_fmt, p["specials"]),))
    tb = Testbench(dut)
    await tb.start()
    monitor = ValidMonitor(dut.clk, dut.o_valid, dut.o_data)
    cocotb.start_soon(monitor.run())
    for operands in dots:
        n = len(operands[0])
        for k in range(n):
            while coin.random() < p["stall"]:
                dut.i_valid.value = 0
                await RisingEdge(dut.clk)
            dut.i_valid.value = 1
            dut.i_first.value = int(k == 0)
            dut.i_last.value = int(k == n - 1)
            if mac:
                dut.a.value = int(operands[0][k])
                dut.b.value = int(operands[1][k])
            else:
                dut.i_data.value = int(operands[0][k])
            await RisingEdge(dut.clk)
    dut.i_valid.value = 0
    for _ in range(8):
        await RisingEdge(dut.clk)
    if mac:
        want = [int(gemm(a[None], b[:, None], in_fmt, acc_fmt, chunk=chunk)[0, 0]) for a, b in dots]
    else:
        want = [int(chunked_sum(d[0][None], acc_fmt, chunk)[0]) for d in dots]
    board = Scoreboard(f"{p['unit']} {acc_fmt.name} chunk={chunk}", acc_fmt.width, seed)
    board.compare(np.array(monitor.beats, dtype=np.uint64), np.array(want, dtype=np.uint64),
                  {"dot": np.arange(len(dots)), "length": np.array(p["lengths"])})
    board.result()
