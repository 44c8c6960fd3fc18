"""ChunkAccumulator and MacPE: dot products across chunk boundaries, specials, stalls, cycles."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from fp8forge.golden import PRESETS, Rounding, chunked_sum, gemm, quantize
from fp8forge.hdl.accumulator import ChunkAccumulator, MacPE

from ..conftest import assert_bits_equal
from .simkit import run_dot_products, run_interleaved

pytestmark = pytest.mark.amaranth_sim
E5M2, E6M9 = PRESETS["e5m2"], PRESETS["e6m9"]


def lengths(chunk):
    cl = chunk or 8
    return [1, max(cl - 1, 1), cl, cl + 1, 5 * cl + 3, 2]


def addends(rng, n, fmt, specials=0.03):
    values = quantize(rng.standard_normal(n) * np.exp2(rng.integers(-6, 7, n)), fmt)
    codes = np.array([fmt.nan_bits, fmt.inf_bits or fmt.nan_bits, fmt.sign_mask | fmt.inf_bits
                      if fmt.inf_bits else fmt.nan_bits, 1, fmt.sign_mask, fmt.max_finite_bits])
    mask = rng.random(n) < specials
    return np.where(mask, codes[rng.integers(0, len(codes), n)], values).astype(np.uint64)


@pytest.mark.parametrize("chunk", [1, 4, 8, None])
@pytest.mark.parametrize("stall", [0.0, 0.3], ids=["nostall", "stall"])
def test_accumulator_matches_chunked_sum(chunk, stall, rng):
    dut = ChunkAccumulator(E6M9, chunk=chunk)
    dots = [(addends(rng, n, E6M9),) for n in lengths(chunk) * 2]
    got, _, _ = run_dot_products(dut, dots, stall=stall, rng=rng)
    want = np.array([int(chunked_sum(d[0][None, :], E6M9, chunk)[0]) for d in dots])
    assert_bits_equal(got, want, E6M9)


def test_accumulator_sr_matches_golden(rng):
    chunk, rbits = 4, 10
    dut = ChunkAccumulator(E6M9, chunk=chunk, rounding=Rounding.SR, rbits=rbits)
    dots = [(addends(rng, n, E6M9, 0.0),) for n in lengths(chunk)]
    rand = [rng.integers(0, 1 << rbits, len(d[0])) for d in dots]
    rand_outer = [rng.integers(0, 1 << rbits, len(d[0])) for d in dots]
    got, _, _ = run_dot_products(dut, dots, rand=rand, rand_outer=rand_outer)
    want = []
    for (values,), r, ro in zip(dots, rand, rand_outer, strict=True):
        closing = [k for k in range(len(values)) if (k + 1) % chunk == 0 or k == len(values) - 1]
        want.append(int(chunked_sum(values[None], E6M9, chunk, Rounding.SR, rand=r[None],
                                    rand_outer=ro[closing][None], rbits=rbits)[0]))
    assert_bits_equal(got, np.array(want), E6M9)


def test_accumulator_without_chunking_sr_matches_golden(rng):
    """One adder: the outer addition of the contract is exact, so no rand_outer port exists
    and any outer random integers give the same golden result."""
    rbits = 10
    dut = ChunkAccumulator(E6M9, chunk=None, rounding=Rounding.SR, rbits=rbits)
    assert not hasattr(dut, "rand_outer") and dut.latency == 1
    dots = [(addends(rng, n, E6M9, 0.05),) for n in lengths(None)]
    rand = [rng.integers(0, 1 << rbits, len(d[0])) for d in dots]
    got, _, _ = run_dot_products(dut, dots, rand=rand)
    want = [int(chunked_sum(values[None], E6M9, None, Rounding.SR, rand=r[None],
                            rand_outer=rng.integers(0, 1 << rbits, (1, 1)), rbits=rbits)[0])
            for (values,), r in zip(dots, rand, strict=True)]
    assert_bits_equal(got, np.array(want), E6M9)


@pytest.mark.parametrize("chunk, chunk_adder", [(1, "dedicated"), (4, "dedicated"),
                                                (None, "dedicated"), (1, "shared"),
                                                (4, "shared")])
@pytest.mark.parametrize("stages", [0, 1])
def test_macpe_matches_gemm(chunk, chunk_adder, stages, rng):
    dut = MacPE(E5M2, E6M9, chunk=chunk, stages=stages, chunk_adder=chunk_adder)
    dots = []
    for n in lengths(chunk):
        a = addends(rng, n, E5M2, 0.05)
        b = quantize(rng.standard_normal(n), E5M2).astype(np.uint64)
        dots.append((a, b))
    got, _, _ = run_dot_products(dut, dots, data=("a", "b"), stall=0.2, rng=rng)
    want = np.array([int(gemm(a[None, :], b[:, None], E5M2, E6M9, chunk=chunk)[0, 0])
                     for a, b in dots])
    assert_bits_equal(got, want, E6M9)


@pytest.mark.parametrize("in_name, acc_name", [("fp16", "fp32"), ("e4m3fn", "e6m9"),
                                               ("fp16", "e6m9"), ("e6m9", "e5m2")])
@pytest.mark.parametrize("stages", [0, 1])
def test_macpe_other_formats(in_name, acc_name, stages, rng):
    """Fused exact products (fp16 -> fp32, e4m3fn -> e6m9) and rounded ones (fp16 -> e6m9,
    e6m9 -> e5m2: FpMul rounds first) against golden gemm, specials included."""
    in_fmt, acc_fmt = PRESETS[in_name], PRESETS[acc_name]
    dut = MacPE(in_fmt, acc_fmt, chunk=4, stages=stages)
    dots = [(addends(rng, n, in_fmt, 0.05), addends(rng, n, in_fmt, 0.05))
            for n in (1, 3, 4, 5, 11)]
    got, _, _ = run_dot_products(dut, dots, data=("a", "b"), stall=0.2, rng=rng)
    want = np.array([int(gemm(a[None, :], b[:, None], in_fmt, acc_fmt, chunk=4)[0, 0])
                     for a, b in dots])
    assert_bits_equal(got, want, acc_fmt)


@pytest.mark.parametrize("unit", ["acc", "mac0", "mac1", "shared0", "shared1"])
def test_cycles_formula_is_exact(unit, rng):
    """Back-to-back dot products: each result appears exactly cycles(K) after its first input
    was taken; the dedicated chunk adder takes one pair every cycle, the shared one skips one
    cycle per chunk."""
    if unit == "acc":
        dut = ChunkAccumulator(E6M9, chunk=4)
        make = lambda n: (addends(rng, n, E6M9, 0.0),)  # noqa: E731
    else:
        dut = MacPE(E5M2, E6M9, chunk=4, stages=int(unit[-1]),
                    chunk_adder="shared" if unit.startswith("shared") else "dedicated")
        make = lambda n: (addends(rng, n, E5M2, 0.0), addends(rng, n, E5M2, 0.0))  # noqa: E731
    assert dut.initiation_interval == 1 if unit == "acc" else dut.throughput == 1
    ks = [1, 3, 4, 5, 9]
    dots = [make(k) for k in ks]
    data = ("i_data",) if unit == "acc" else ("a", "b")
    _, out_cycles, first_cycles = run_dot_products(dut, dots, data=data)
    assert [o - f for o, f in zip(out_cycles, first_cycles, strict=True)] == [
        dut.cycles(k) for k in ks]
    per_dot = [k + (-(-k // 4) if unit.startswith("shared") else 0) for k in ks]
    assert list(itertools.accumulate(per_dot[:-1])) == first_cycles[1:]


def test_parameter_errors():
    with pytest.raises(ValueError, match="chunk_adder must be one of dedicated, shared, not 'x'"):
        MacPE(E5M2, E6M9, chunk=4, chunk_adder="x")
    with pytest.raises(ValueError, match=r"^Chunk length must be a positive integer or None, "
                                         r"not 0$"):
        ChunkAccumulator(E6M9, chunk=0)
    with pytest.raises(TypeError, match=r"^acc_fmt must be a FloatFormat, not 'e6m9'$"):
        MacPE(E5M2, "e6m9", chunk=4)


# -- interleave=2: the accumulation loop cut once, two dot products alternating ---------------

@pytest.mark.parametrize("chunk", [1, 4, None])
@pytest.mark.parametrize("stall", [0.0, 0.3], ids=["nostall", "stall"])
def test_interleaved_accumulator_matches_chunked_sum(chunk, stall, rng):
    dut = ChunkAccumulator(E6M9, chunk=chunk, interleave=2)
    streams = [[(addends(rng, n, E6M9),) for n in lengths(chunk)[::step]] for step in (1, -1)]
    got, _ = run_interleaved(dut, streams, stall=stall, rng=rng)
    for stream, results in zip(streams, got, strict=True):
        want = np.array([int(chunked_sum(d[0][None, :], E6M9, chunk)[0]) for d in stream])
        assert_bits_equal(results, want, E6M9)


def test_interleaved_accumulator_sr_matches_golden(rng):
    """SR: each addition uses the random integer presented with its addend, also across the
    loop cut (inner and outer)."""
    chunk, rbits = 4, 10
    dut = ChunkAccumulator(E6M9, chunk=chunk, rounding=Rounding.SR, rbits=rbits, interleave=2)
    streams = []
    for step in (1, -1):
        stream = []
        for n in lengths(chunk)[::step]:
            stream.append((addends(rng, n, E6M9, 0.0), rng.integers(0, 1 << rbits, n),
                           rng.integers(0, 1 << rbits, n)))
        streams.append(stream)
    got, _ = run_interleaved(dut, streams, data=("i_data", "rand", "rand_outer"), stall=0.2,
                             rng=rng)
    for stream, results in zip(streams, got, strict=True):
        want = []
        for values, r, ro in stream:
            closing = [k for k in range(len(values))
                       if (k + 1) % chunk == 0 or k == len(values) - 1]
            want.append(int(chunked_sum(values[None], E6M9, chunk, Rounding.SR, rand=r[None],
                                        rand_outer=ro[closing][None], rbits=rbits)[0]))
        assert_bits_equal(results, np.array(want), E6M9)


@pytest.mark.parametrize("chunk", [4, None])
@pytest.mark.parametrize("stages", [0, 1])
def test_interleaved_macpe_matches_gemm(chunk, stages, rng):
    dut = MacPE(E5M2, E6M9, chunk=chunk, stages=stages, interleave=2)
    assert dut.latency == stages + 2 * (1 if chunk is None else 2)
    streams = [[(addends(rng, n, E5M2, 0.05), addends(rng, n, E5M2, 0.0))
                for n in lengths(chunk)[::step]] for step in (1, -1)]
    got, _ = run_interleaved(dut, streams, data=("a", "b"), stall=0.3, rng=rng)
    for stream, results in zip(streams, got, strict=True):
        want = np.array([int(gemm(a[None, :], b[:, None], E5M2, E6M9, chunk=chunk)[0, 0])
                         for a, b in stream])
        assert_bits_equal(results, want, E6M9)


@pytest.mark.parametrize("chunk", [4, None])
def test_interleaved_cycles_formula_is_exact(chunk, rng):
    """``cycles(K)``: two K-term dot products presented interleaved without stalls, from the
    first pair to the second result, inclusive of the first pair's cycle."""
    for k in (1, 3, 9):
        dut = MacPE(E5M2, E6M9, chunk=chunk, stages=1, interleave=2)
        streams = [[tuple(rng.integers(0, 256, (2, k)).astype(np.uint64))] for _ in range(2)]
        _, last_cycle = run_interleaved(dut, streams, data=("a", "b"))
        assert last_cycle == dut.cycles(k)


def test_interleave_errors():
    with pytest.raises(ValueError, match=r"interleave must be in 1..2, not 3"):
        MacPE(E5M2, E6M9, chunk=4, interleave=3)
    with pytest.raises(TypeError, match="interleave must be an integer"):
        ChunkAccumulator(E6M9, chunk=4, interleave=1.5)
    with pytest.raises(ValueError, match="interleave > 1 needs chunk_adder='dedicated'"):
        MacPE(E5M2, E6M9, chunk=4, chunk_adder="shared", interleave=2)
