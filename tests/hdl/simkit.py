"""Drivers for amaranth.sim benches: vectors in, bit patterns out, latency checked by alignment.

``run_vectors`` applies one input vector per cycle and reads the output ``unit.latency`` cycles
later, so a unit whose real latency differs from its ``latency`` property fails the comparison.
"""

from __future__ import annotations

import numpy as np
from amaranth.sim import Simulator


def run_vectors(dut, inputs: dict[str, np.ndarray], output: str = "o") -> np.ndarray:
    """Drive ``inputs`` (port -> array), one element per cycle; return ``output`` per element."""
    names = list(inputs)
    columns = [np.asarray(inputs[n]).astype(np.uint64).tolist() for n in names]
    count = len(columns[0])
    ports = [getattr(dut, n) for n in names]
    out_port = getattr(dut, output)
    latency = dut.latency
    results: list[int] = []
    sim = Simulator(dut)

    if latency == 0:
        async def bench(ctx):
            for i in range(count):
                for port, col in zip(ports, columns, strict=True):
                    ctx.set(port, col[i])
                results.append(ctx.get(out_port))
    else:
        sim.add_clock(1e-6)

        async def bench(ctx):
            for i in range(count + latency - 1):
                if i < count:
                    for port, col in zip(ports, columns, strict=True):
                        ctx.set(port, col[i])
                await ctx.tick()
                if i >= latency - 1:
                    results.append(ctx.get(out_port))

    sim.add_testbench(bench)
    sim.run()
    return np.array(results, dtype=np.uint64)


def run_dot_products(dut, dots, *, data=("i_data",), rand=None, rand_outer=None, stall=None,
                     rng=None, max_cycles=None):
    """Stream dot products through an accumulator-like unit with ``i_valid``/``i_first``/
    ``i_last`` framing (and ``i_ready``, if it has one); return (results, cycle of every
    result, cycle at which every first input was taken).

    ``dots`` is a list of tuples of arrays (one array per data port). ``stall`` is a
    probability of holding ``i_valid`` low before an input (random valid stalls).
    """
    results, out_cycles, first_cycles = [], [], []
    sim = Simulator(dut)
    sim.add_clock(1e-6)
    ports = [getattr(dut, n) for n in data]

    async def bench(ctx):
        cycle = 0

        async def tick():
            nonlocal cycle
            await ctx.tick()
            cycle += 1
            if ctx.get(dut.o_valid):
                results.append(ctx.get(dut.o_data))
                out_cycles.append(cycle)

        for d, operands in enumerate(dots):
            length = len(operands[0])
            for k in range(length):
                while stall and rng.random() < stall:
                    ctx.set(dut.i_valid, 0)
                    await tick()
                ctx.set(dut.i_valid, 1)
                for port, values in zip(ports, operands, strict=True):
                    ctx.set(port, int(values[k]))
                ctx.set(dut.i_first, k == 0)
                ctx.set(dut.i_last, k == length - 1)
                if rand is not None:
                    ctx.set(dut.rand, int(rand[d][k]))
                if rand_outer is not None:
                    ctx.set(dut.rand_outer, int(rand_outer[d][k]))
                while hasattr(dut, "i_ready") and not ctx.get(dut.i_ready):
                    await tick()  # not taken: hold the pair (a PE in a bubble)
                if k == 0:
                    first_cycles.append(cycle)
                await tick()
        ctx.set(dut.i_valid, 0)
        for _ in range(dut.latency + 2):
            await tick()

    sim.add_testbench(bench)
    sim.run()
    return np.array(results, dtype=np.uint64), out_cycles, first_cycles
