"""Drivers for amaranth.sim benches: vectors in, bit patterns out, latency checked by alignment.

``run_vectors`` applies one input vector per cycle and reads the output ``unit.latency`` cycles
later, so a unit whose real latency differs from its ``latency`` property fails the comparison.
"""

from __future__ import annotations

import numpy as np
from amaranth.hdl import Cat
from amaranth.sim import Simulator


def operand_pairs(fmt, rng, sample: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Every (a, b) pair of ``fmt``'s codes, or ``sample`` of them drawn at random without
    replacement (``None``: all of them)."""
    codes = np.arange(1 << fmt.width, dtype=np.uint64)
    a, b = (x.ravel() for x in np.meshgrid(codes, codes, indexing="ij"))
    if sample is not None:
        pick = rng.choice(a.size, sample, replace=False)
        a, b = a[pick], b[pick]
    return a, b


class Inputs:
    """Several input ports set in one testbench assignment (to their concatenation).

    A testbench's every ``ctx.set`` settles the whole design: setting a cycle's inputs one
    port at a time settles it once per port, which is most of a run's time.
    ``inputs(ctx, v1, v2, ...)`` sets the ports in the order given."""

    def __init__(self, *ports):
        self._target = Cat(*ports)
        self._widths = [len(port) for port in ports]

    def __call__(self, ctx, *values) -> None:
        packed, offset = 0, 0
        for value, width in zip(values, self._widths, strict=True):
            value = int(value)
            assert 0 <= value < 1 << width, (value, width)
            packed |= value << offset
            offset += width
        ctx.set(self._target, packed)


class ReusedSim:
    """One amaranth.sim ``Simulator`` of ``dut`` (a clocked unit) for many runs.

    Building a simulator (elaborating the design and compiling it to Python) costs about a
    second for a small MacArray, several times what a short run costs. ``run`` resets the
    simulator to its initial state (signals, memories, time, clocks: what
    ``Simulator.reset`` documents for amortizing the start-up cost) and runs ``bench``, an
    async testbench taking the simulator context, to its end.
    """

    def __init__(self, dut):
        self.dut = dut
        self._sim = Simulator(dut)
        self._sim.add_clock(1e-6)
        self._bench = None

        async def current(ctx):
            await self._bench(ctx)

        self._sim.add_testbench(current)
        self._runs = 0

    def run(self, bench) -> None:
        self._bench = bench
        if self._runs:  # (a new simulator starts in its initial state)
            self._sim.reset()
        self._runs += 1
        self._sim.run()


def run_vectors(dut, inputs: dict[str, np.ndarray], output: str = "o") -> np.ndarray:
    """Drive ``inputs`` (port -> array), one element per cycle; return ``output`` per element.

    All the inputs of a vector are set in one assignment (``Inputs``)."""
    names = list(inputs)
    columns = [np.asarray(inputs[n]).astype(np.uint64).tolist() for n in names]
    vectors = list(zip(*columns, strict=True))
    count = len(vectors)
    drive = Inputs(*(getattr(dut, n) for n in names))
    out_port = getattr(dut, output)
    latency = dut.latency
    results: list[int] = []
    sim = Simulator(dut)

    if latency == 0:
        async def bench(ctx):
            for vector in vectors:
                drive(ctx, *vector)
                results.append(ctx.get(out_port))
    else:
        sim.add_clock(1e-6)

        async def bench(ctx):
            for i in range(count + latency - 1):
                if i < count:
                    drive(ctx, *vectors[i])
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
    extra = [port for port, given in ((getattr(dut, "rand", None), rand),
                                      (getattr(dut, "rand_outer", None), rand_outer))
             if given is not None]
    pair = Inputs(dut.i_valid, dut.i_first, dut.i_last, *ports, *extra)

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
                pair(ctx, 1, k == 0, k == length - 1, *(values[k] for values in operands),
                     *(r[d][k] for r in (rand, rand_outer) if r is not None))
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


def run_interleaved(dut, streams, *, data=("i_data",), stall=0.0, rng=None):
    """Drive a unit with ``interleave`` n: cycle t serves stream ``t % n``, which presents its
    next pair (or, with probability ``stall``, nothing). ``streams[s]`` is stream s's list of
    dot products (tuples of arrays, one per port in ``data``). Returns each stream's results in
    order, and the cycle from the first pair to the last result (inclusive).

    Each result is matched to the pair that must have produced it: the one presented exactly
    ``dut.latency`` cycles earlier, which must be a ``last`` pair, so the latency is checked
    too."""
    n = dut.interleave
    assert len(streams) == n
    schedule, todo = [], [[0, 0] for _ in streams]  # per stream: (dot index, k)
    while any(todo[s][0] < len(streams[s]) for s in range(n)):
        s = len(schedule) % n
        d, k = todo[s]
        if d >= len(streams[s]) or (stall and rng.random() < stall):
            schedule.append(None)
            continue
        schedule.append((s, d, k))
        last = k == len(streams[s][d][0]) - 1
        todo[s] = [d + 1, 0] if last else [d, k + 1]
    results = [[] for _ in streams]
    ports = [getattr(dut, name) for name in data]
    last_cycle = 0
    sim = Simulator(dut)
    sim.add_clock(1e-6)
    pair = Inputs(dut.i_valid, dut.i_first, dut.i_last, *ports)

    async def bench(ctx):
        nonlocal last_cycle
        for cycle in range(len(schedule) + dut.latency + 2):
            slot = schedule[cycle] if cycle < len(schedule) else None
            if slot is None:
                ctx.set(dut.i_valid, 0)
            else:
                s, d, k = slot
                operands = streams[s][d]
                pair(ctx, 1, k == 0, k == len(operands[0]) - 1,
                     *(values[k] for values in operands))
            await ctx.tick()
            if ctx.get(dut.o_valid):
                source = schedule[cycle + 1 - dut.latency]
                assert source is not None, f"result at cycle {cycle + 1} from an empty slot"
                s, d, k = source
                assert k == len(streams[s][d][0]) - 1, "result not latency after a last pair"
                assert len(results[s]) == d, "results out of order"
                results[s].append(ctx.get(dut.o_data))
                last_cycle = cycle + 1

    sim.add_testbench(bench)
    sim.run()
    return [np.array(r, dtype=np.uint64) for r in results], last_cycle
