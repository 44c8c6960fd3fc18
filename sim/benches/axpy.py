"""Bench for AxpyUnit with its internal LFSR: bit-exact against golden fma fed the mirrored
stream, and a statistical check that SR is unbiased on the RTL output.

Parameters: fmt, lanes, rbits, seed_lfsr, lfsr_width, count, stall, latency.
"""

from __future__ import annotations

import random

import cocotb
import numpy as np
from cocotb.triggers import RisingEdge

from fp8forge.golden import Rounding, decode, fma, parse_format, quantize
from fp8forge.golden.lfsr import lane_rand
from fp8forge.golden.stimuli import operands
from fp8forge.sim.benches.clocked import Testbench
from fp8forge.sim.stream import (
    Scoreboard,
    ValidMonitor,
    bench_params,
    bench_seed,
    pack,
    unpack,
)


async def _run(dut, p, a, x, y, coin):
    fmt = parse_format(p["fmt"])
    lanes, w = p["lanes"], fmt.width
    monitor = ValidMonitor(dut.clk, dut.o_valid, dut.o_y)
    watcher = cocotb.start_soon(monitor.run())
    for i in range(len(a)):
        while coin.random() < p["stall"]:
            dut.i_valid.value = 0
            await RisingEdge(dut.clk)
        dut.i_valid.value = 1
        dut.a.value = int(a[i])
        dut.x.value = pack(x[i], w)
        dut.y.value = pack(y[i], w)
        await RisingEdge(dut.clk)
    dut.i_valid.value = 0
    for _ in range(p["latency"] + 2):
        await RisingEdge(dut.clk)
    watcher.cancel()
    return np.array([unpack(beat, w, lanes) for beat in monitor.beats], dtype=np.uint64)


@cocotb.test()
async def lfsr_mirror_and_unbiased(dut):
    p = bench_params()
    seed = bench_seed()
    rng = np.random.default_rng(seed)
    coin = random.Random(seed)
    fmt = parse_format(p["fmt"])
    lanes, n = p["lanes"], p["count"]
    tb = Testbench(dut)
    await tb.start()

    # 1. bit-exact on directed stimuli
    a, x, y = operands(fmt, n * lanes, rng, op="fma")
    a, x, y = a[:n], x.reshape(n, lanes), y.reshape(n, lanes)
    got = await _run(dut, p, a, x, y, coin)
    rand = lane_rand(p["lfsr_width"], p["seed_lfsr"], lanes, p["rbits"], 2 * n)
    want = fma(a[:, None], x, y, fmt, Rounding.SR, rand=rand[:n], rbits=p["rbits"])
    board = Scoreboard(f"axpy {fmt.name} x{lanes}", fmt.width, seed)
    board.compare(got, want, {"a": np.repeat(a, lanes), "x": x.ravel(), "y": y.ravel()})

    # 2. unbiasedness: small updates w - eta*g, far below half an ulp (the LFSR continues)
    w = quantize(rng.uniform(1, 2, (n, lanes)), fmt)
    g = quantize(rng.uniform(0.5, 1, (n, lanes)), fmt)
    eta = quantize(np.array(-(2.0**-13)), fmt)
    got = await _run(dut, p, np.full(n, eta), g, w, coin)
    board.compare(got, fma(np.full((n, 1), eta), g, w, fmt, Rounding.SR, rand=rand[n:],
                           rbits=p["rbits"]), {"w": w.ravel()})
    err = (decode(got, fmt) - (decode(w, fmt) + float(decode(eta, fmt)) * decode(g, fmt))).ravel()
    bound = 5 * err.std() / np.sqrt(err.size) + float(fmt.eps) * 2.0 ** -p["rbits"]
    dut._log.info(f"SR mean error {err.mean():.3g} (bound {bound:.3g}), {err.size} updates")
    assert abs(err.mean()) <= bound, (err.mean(), bound)
    board.result()
