"""Bench for combinational arithmetic units wrapped in ``Lanes``: vectors against golden.

Parameters (FP8FORGE_BENCH): op (mul/add/fma/quantize), formats, rounding, rbits, lanes,
stimuli ("all_pairs" or a count of TestFloat-style stimuli), numpy_float16 (also compare with
NumPy float16 arithmetic).
"""

from __future__ import annotations

import os
import time

import cocotb
import numpy as np
from cocotb.triggers import Timer

from fp8forge.golden import Rounding, add, fma, mul, parse_format, quantize
from fp8forge.golden.stimuli import operands
from fp8forge.sim.stream import Scoreboard, bench_params, bench_seed, pack, unpack


def _stimuli(p, fmt, rng):
    names = {"mul": ("a", "b"), "add": ("a", "b"), "fma": ("a", "x", "y"), "quantize": ("i",)}
    ports = names[p["op"]]
    if p["stimuli"] == "all_pairs":
        codes = np.arange(1 << fmt.width, dtype=np.uint64)
        a, b = np.meshgrid(codes, codes, indexing="ij")
        values = (a.ravel(), b.ravel())
    else:
        values = operands(fmt, int(p["stimuli"]), rng, op=p["op"])
    return dict(zip(ports, (np.asarray(v, dtype=np.uint64) for v in values), strict=True))


def _golden(p, inputs, rand):
    fmt = parse_format(p["fmt"])
    mode = Rounding[p["rounding"]]
    kw = {"rand": rand, "rbits": p["rbits"]} if mode is Rounding.SR else {}
    if p["op"] == "mul":
        return mul(inputs["a"], inputs["b"], fmt, parse_format(p["out_fmt"]), mode, **kw)
    if p["op"] == "add":
        return add(inputs["a"], inputs["b"], fmt, mode, **kw)
    if p["op"] == "fma":
        return fma(inputs["a"], inputs["x"], inputs["y"], fmt, mode, **kw)
    return quantize(inputs["i"], parse_format(p["out_fmt"]), mode, src_fmt=fmt, **kw)


@cocotb.test()
async def vectors(dut):
    p = bench_params()
    seed = bench_seed()
    rng = np.random.default_rng(seed)
    fmt = parse_format(p["fmt"])
    out_fmt = parse_format(p.get("out_fmt") or p["fmt"])
    lanes = p["lanes"]
    inputs = _stimuli(p, fmt, rng)
    n = len(next(iter(inputs.values())))
    sr = Rounding[p["rounding"]] is Rounding.SR and "rand" in p.get("ports", ["rand"])
    rand = rng.integers(0, 1 << p["rbits"], n) if sr else None
    drive = dict(inputs, **({"rand": rand} if sr else {}))
    widths = {k: (p["rbits"] if k == "rand" else fmt.width) for k in drive}
    pad = (-n) % lanes
    padded = {k: np.concatenate([v, np.zeros(pad, dtype=np.uint64)]) for k, v in drive.items()}
    got = []
    start = time.perf_counter()
    for s in range(0, n + pad, lanes):
        for name, values in padded.items():
            getattr(dut, name).value = pack(values[s:s + lanes], widths[name])
        await Timer(1, unit="ns")
        got += unpack(int(dut.o.value), out_fmt.width, lanes)
    elapsed = time.perf_counter() - start
    dut._log.info(f"{n} vectors in {elapsed:.2f} s: {n / elapsed:.0f} vectors/s "
                  f"({lanes} lanes)")
    board = Scoreboard(f"{p['op']} {fmt.name}->{out_fmt.name} {p['rounding']}", out_fmt.width,
                       seed)
    board.compare(np.array(got[:n], dtype=np.uint64), _golden(p, inputs, rand), inputs)
    if p.get("numpy_float16"):
        a, b = inputs["a"].astype(np.uint16), inputs["b"].astype(np.uint16)
        with np.errstate(all="ignore"):
            f = np.add if p["op"] == "add" else np.multiply
            ref = f(a.view(np.float16), b.view(np.float16))
        ref_bits = np.where(np.isnan(ref), out_fmt.nan_bits, ref.view(np.uint16)).astype(np.uint64)
        board.name += " vs NumPy float16"
        board.compare(np.array(got[:n], dtype=np.uint64), ref_bits, inputs)
    if os.environ.get("FP8FORGE_SUMMARY"):
        import json

        with open(os.environ["FP8FORGE_SUMMARY"], "w") as f:
            json.dump({"vectors": n, "seconds": elapsed}, f)
    board.result()
