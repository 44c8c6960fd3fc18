"""Lfsr against its golden mirror; AxpyUnit against golden fma fed the mirrored stream."""

from __future__ import annotations

import numpy as np
import pytest
from amaranth.sim import Simulator

from fp8forge.golden import PRESETS, Rounding, fma
from fp8forge.golden.lfsr import TAPS, lane_rand, lfsr_bits, lfsr_words
from fp8forge.golden.stimuli import operands
from fp8forge.hdl.axpy import AxpyUnit
from fp8forge.hdl.lfsr import Lfsr

from ..conftest import assert_bits_equal
from .simkit import Inputs

pytestmark = pytest.mark.amaranth_sim
E6M9, FP32 = PRESETS["e6m9"], PRESETS["fp32"]


def run_lfsr(dut, cycles, enable):
    words = []
    sim = Simulator(dut)
    sim.add_clock(1e-6)

    async def bench(ctx):
        for i in range(cycles):
            on = enable(i)
            ctx.set(dut.en, on)
            if on:
                words.append(ctx.get(dut.o))
            await ctx.tick()

    sim.add_testbench(bench)
    sim.run()
    return words


def test_lfsr_serial_stream(volume):
    """2 * 10**4 steps (2 * 10**5 with ``--long``) of a one-bit-per-cycle stream."""
    steps = volume(20_000)
    dut = Lfsr(32, seed=0xACE1, outputs=1)
    got = run_lfsr(dut, steps, lambda i: True)
    assert np.array_equal(np.array(got, dtype=np.uint8), lfsr_bits(32, 0xACE1, steps))


@pytest.mark.parametrize("width, outputs", [(8, 3), (16, 16), (24, 48), (64, 96)])
def test_lfsr_leap_forward_with_gaps(width, outputs):
    dut = Lfsr(width, seed=5, outputs=outputs)
    got = run_lfsr(dut, 3_000, lambda i: i % 5 != 2)
    want = [int("".join(str(b) for b in reversed(chunk)), 2)
            for chunk in lfsr_bits(width, 5, outputs * len(got)).reshape(len(got), outputs)]
    assert got == want
    if outputs <= 64:
        assert got == lfsr_words(width, 5, outputs, len(got)).tolist()


def _prime_factors(n):
    """Prime factors by trial division then Pollard's rho (2**64 - 1 at most)."""
    import math
    import random

    def is_prime(p):
        if p < 2:
            return False
        for q in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37):
            if p % q == 0:
                return p == q
        d, s = p - 1, 0
        while d % 2 == 0:
            d, s = d // 2, s + 1
        for a in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37):
            x = pow(a, d, p)
            if x in (1, p - 1):
                continue
            for _ in range(s - 1):
                x = x * x % p
                if x == p - 1:
                    break
            else:
                return False
        return True

    def rho(n):
        if n % 2 == 0:
            return 2
        rnd = random.Random(n)
        while True:
            x = y = rnd.randrange(2, n)
            c, d = rnd.randrange(1, n), 1
            while d == 1:
                x = (x * x + c) % n
                y = (y * y + c) % n
                y = (y * y + c) % n
                d = math.gcd(abs(x - y), n)
            if d != n:
                return d

    factors, stack = set(), [n]
    while stack:
        m = stack.pop()
        if m == 1:
            continue
        if is_prime(m):
            factors.add(m)
        else:
            d = rho(m)
            stack += [d, m // d]
    return factors


@pytest.mark.parametrize("width", sorted(TAPS))
def test_taps_are_maximal_length(width):
    """The state-transition map has order exactly 2**width - 1 (primitive feedback)."""
    from fp8forge.hdl.lfsr import leap_forward

    def compose(f, g):  # f after g, maps as images of the basis vectors
        def apply(f, v):
            out = 0
            for i in range(width):
                if (v >> i) & 1:
                    out ^= f[i]
            return out
        return [apply(f, g[i]) for i in range(width)]

    def power(f, e):
        result = [1 << i for i in range(width)]
        while e:
            if e & 1:
                result = compose(f, result)
            f = compose(f, f)
            e >>= 1
        return result

    # next-state masks of one step give, transposed, the images of the basis vectors
    _, masks = leap_forward(width, 1)
    step = [sum(((masks[j] >> i) & 1) << j for j in range(width)) for i in range(width)]
    identity = [1 << i for i in range(width)]
    order = (1 << width) - 1
    assert power(step, order) == identity
    for q in _prime_factors(order):
        assert power(step, order // q) != identity, q


def run_axpy(dut, a, x, y, rand=None, stall=0.0, rng=None):
    lanes, w = dut.lanes, dut.fmt.width
    pack = lambda v, bits: sum(int(e) << (bits * i) for i, e in enumerate(v))  # noqa: E731
    out = []
    sim = Simulator(dut)
    sim.add_clock(1e-6, if_exists=True)  # a combinational unit with rng="port" has no clock

    operand = Inputs(dut.i_valid, dut.a, dut.x, dut.y, *([dut.rand] if rand is not None else []))

    async def bench(ctx):
        clocked = dut.latency > 0 or dut.rbits and getattr(dut, "rand", None) is None
        step = ctx.tick if clocked else (lambda: ctx.delay(1e-6))
        i = 0
        while len(out) < len(a):
            valid = i < len(a) and not (stall and rng.random() < stall)
            if valid:
                operand(ctx, 1, a[i], pack(x[i], w), pack(y[i], w),
                        *([pack(rand[i], dut.rbits)] if rand is not None else []))
                i += 1
            else:
                ctx.set(dut.i_valid, 0)
            if dut.latency == 0 and ctx.get(dut.o_valid):
                out.append(ctx.get(dut.o_y))
            await step()
            if dut.latency > 0 and ctx.get(dut.o_valid):
                out.append(ctx.get(dut.o_y))

    sim.add_testbench(bench)
    sim.run()
    mask = (1 << w) - 1
    return np.array([[(v >> (w * i)) & mask for i in range(lanes)] for v in out], dtype=np.uint64)


def _vectors(fmt, n, lanes, rng):
    a, x, y = operands(fmt, n * lanes, rng, op="fma")
    return a[:n], x.reshape(n, lanes), y.reshape(n, lanes)


@pytest.mark.parametrize("stages", [0, 1, 2])
def test_axpy_internal_lfsr_matches_mirror(stages, rng, volume):
    # (the same unit's Verilog on both simulators: tests/sim/test_axpy_cocotb.py)
    lanes, n = 4, volume(300)
    dut = AxpyUnit(E6M9, lanes=lanes, rbits=12, seed=0x5EED, stages=stages)
    a, x, y = _vectors(E6M9, n, lanes, rng)
    got = run_axpy(dut, a, x, y, stall=0.3, rng=rng)
    rand = lane_rand(dut.lfsr_width, 0x5EED, lanes, 12, n)
    want = fma(a[:, None], x, y, E6M9, Rounding.SR, rand=rand, rbits=12)
    assert_bits_equal(got, want, E6M9, a=a[:, None], x=x, y=y)


def test_axpy_rand_port(rng):
    lanes, n = 3, 400
    dut = AxpyUnit(E6M9, lanes=lanes, rbits=8, rng="port")
    a, x, y = _vectors(E6M9, n, lanes, rng)
    rand = rng.integers(0, 256, (n, lanes))
    got = run_axpy(dut, a, x, y, rand=rand)
    want = fma(a[:, None], x, y, E6M9, Rounding.SR, rand=rand, rbits=8)
    assert_bits_equal(got, want, E6M9)


def test_axpy_fp32_rne_baseline(rng):
    dut = AxpyUnit(FP32, lanes=2, rounding=Rounding.RNE, stages=1)
    assert "rand" not in dut.signature.members
    a, x, y = _vectors(FP32, 500, 2, rng)
    assert_bits_equal(run_axpy(dut, a, x, y), fma(a[:, None], x, y, FP32), FP32)


def test_axpy_sr_is_unbiased_on_rtl(rng):
    """w - eta*g with the update far below half an ulp: the RTL mean tracks the exact value."""
    from fp8forge.golden import decode, quantize

    n, lanes = 1_000, 4
    dut = AxpyUnit(E6M9, lanes=lanes, rbits=12, seed=99)
    w = quantize(rng.uniform(1, 2, (n, lanes)), E6M9)
    g = quantize(rng.uniform(0.5, 1, (n, lanes)), E6M9)
    a = np.full(n, quantize(np.array(-2.0**-13), E6M9))
    got = decode(run_axpy(dut, a, g, w), E6M9)
    exact = decode(w, E6M9) - 2.0**-13 * decode(g, E6M9)
    err = (got - exact).ravel()
    assert abs(err.mean()) <= 5 * err.std() / np.sqrt(err.size) + 2.0**-9 * 2.0**-12
    rne = decode(fma(a[:, None], g, w, E6M9), E6M9)
    assert np.array_equal(rne, decode(w, E6M9))  # RNE loses every update
