"""MacArray in amaranth.sim: golden gemm per tile, stalls on every stream, exact cycles()."""

from __future__ import annotations

import numpy as np
import pytest
from amaranth.sim import Simulator

from fp8forge.golden import PRESETS, gemm, quantize
from fp8forge.hdl.array import MacArray

from ..conftest import assert_bits_equal, covering_params

pytestmark = pytest.mark.amaranth_sim
E5M2, E6M9 = PRESETS["e5m2"], PRESETS["e6m9"]


def pack(values, bits):
    return sum(int(v) << (bits * i) for i, v in enumerate(values))


def run_tiles(dut, tiles, rng, stall_in=0.0, stall_out=0.0):
    """Stream tiles (A, B) through the array; return C rows and cycles first-in..last-out."""
    w, wo, cols = dut.in_fmt.width, dut.out_width, dut.tile_cols
    beats = [(a[:, k], b[k], k == a.shape[1] - 1) for a, b in tiles for k in range(a.shape[1])]
    rows_out, cycles = [], {}
    sim = Simulator(dut)
    sim.add_clock(1e-6)

    async def bench(ctx):
        cycle, i = 0, 0
        while len(rows_out) < len(tiles) * dut.rows:
            valid = i < len(beats) and not rng.random() < stall_in
            ctx.set(dut.a_valid, valid)
            ctx.set(dut.b_valid, valid)
            if valid:
                a, b, last = beats[i]
                ctx.set(dut.a_data, pack(a, w))
                ctx.set(dut.b_data, pack(b, w))
                ctx.set(dut.a_last, last)
            ready = not rng.random() < stall_out
            ctx.set(dut.c_ready, ready)
            if valid and ctx.get(dut.a_ready):
                cycles.setdefault("first", cycle)
                i += 1
            if ready and ctx.get(dut.c_valid):
                data = ctx.get(dut.c_data)
                rows_out.append([(data >> (wo * j)) & ((1 << wo) - 1) for j in range(cols)])
                cycles["last"] = cycle
            await ctx.tick()
            cycle += 1

    sim.add_testbench(bench)
    sim.run()
    return np.array(rows_out, dtype=np.uint64), cycles["last"] - cycles["first"] + 1


def random_tile(rng, rows, k, cols, fmt=E5M2, specials=0.03):
    a = quantize(rng.standard_normal((rows, k)) * 4, fmt)
    b = quantize(rng.standard_normal((k, cols)), fmt)
    codes = np.array([fmt.nan_bits, fmt.inf_bits or 0, 1, fmt.sign_mask | 1], dtype=a.dtype)
    mask = rng.random(a.shape) < specials
    return np.where(mask, codes[rng.integers(0, len(codes), a.shape)], a), b


# (2, 5, 2) and (3, 4, 3): rows split into segments of min(cols, chunk) PEs per edge adder
@pytest.mark.parametrize("rows, cols, chunk, out, k", covering_params(
    [(4, 4, 4, None), (2, 3, 2, "e5m2"), (3, 2, None, None), (2, 5, 2, None), (3, 4, 3, None)],
    [1, 3, 5, 9]))
def test_single_tile_and_exact_cycles(rows, cols, chunk, out, k, rng):
    out_fmt = PRESETS[out] if out else None
    dut = MacArray(E5M2, E6M9, rows=rows, cols=cols, chunk=chunk, out_fmt=out_fmt)
    a, b = random_tile(rng, rows, k, cols)
    got, cycles = run_tiles(dut, [(a, b)], rng)
    assert_bits_equal(got, gemm(a, b, E5M2, E6M9, chunk=chunk, out_fmt=out_fmt),
                      out_fmt or E6M9)
    assert cycles == dut.cycles(k)


@pytest.mark.parametrize("rows, cols, chunk, stages, k", covering_params(
    [(4, 3, 4, 1), (2, 5, 2, 0), (3, 3, 8, 0), (2, 2, None, 1), (1, 2, 3, 0), (1, 1, None, 0)],
    [1, 2, 6, 11]))
def test_back_to_back_tiles_cycles(rows, cols, chunk, stages, k, rng):
    """Short tiles and short last chunks make the controller wait; cycles() counts it."""
    dut = MacArray(E5M2, E6M9, rows=rows, cols=cols, chunk=chunk, stages=stages)
    tiles = [random_tile(rng, rows, k, cols) for _ in range(3)]
    got, cycles = run_tiles(dut, tiles, rng)
    want = np.concatenate([gemm(a, b, E5M2, E6M9, chunk=chunk) for a, b in tiles])
    assert_bits_equal(got, want, E6M9)
    assert cycles == dut.cycles(k, tiles=3)


@pytest.mark.parametrize("stall_in, stall_out", [(0.3, 0.0), (0.0, 0.5), (0.3, 0.3)])
def test_stalls_and_mixed_lengths(stall_in, stall_out, rng):
    dut = MacArray(E5M2, E6M9, rows=4, cols=4, chunk=4, out_fmt=E5M2)
    tiles = [random_tile(rng, 4, k, 4) for k in (2, 7, 1, 6, 13)]
    got, _ = run_tiles(dut, tiles, rng, stall_in, stall_out)
    want = np.concatenate([gemm(a, b, E5M2, E6M9, chunk=4, out_fmt=E5M2) for a, b in tiles])
    assert_bits_equal(got, want, E5M2)


def test_stalls_with_segments_and_pipelined_pes(rng):
    dut = MacArray(E5M2, E6M9, rows=3, cols=5, chunk=2, stages=1)
    tiles = [random_tile(rng, 3, k, 5) for k in (5, 1, 2, 9, 3)]
    got, _ = run_tiles(dut, tiles, rng, 0.3, 0.3)
    want = np.concatenate([gemm(a, b, E5M2, E6M9, chunk=2) for a, b in tiles])
    assert_bits_equal(got, want, E6M9)


@pytest.mark.parametrize("rows, cols, chunk, stages, k", covering_params(
    [(2, 2, None, 0), (3, 2, 2, 1), (2, 3, 4, 0), (2, 5, 2, 0), (1, 1, 3, 0)], [1, 2, 5, 9]))
def test_interleaved_tiles_and_exact_cycles(rows, cols, chunk, stages, k, rng):
    """interleave=2: tiles of rows x (2 cols), every loop cut once; three tiles back to back
    and cycles() exact."""
    dut = MacArray(E5M2, E6M9, rows=rows, cols=cols, chunk=chunk, stages=stages, interleave=2)
    assert dut.tile_cols == 2 * cols
    tiles = [random_tile(rng, rows, k, 2 * cols) for _ in range(3)]
    got, cycles = run_tiles(dut, tiles, rng)
    want = np.concatenate([gemm(a, b, E5M2, E6M9, chunk=chunk) for a, b in tiles])
    assert_bits_equal(got, want, E6M9)
    assert cycles == dut.cycles(k, tiles=3)


def test_interleaved_stalls_and_mixed_lengths(rng):
    dut = MacArray(E5M2, E6M9, rows=3, cols=4, chunk=2, out_fmt=E5M2, interleave=2)
    tiles = [random_tile(rng, 3, k, 8) for k in (5, 1, 2, 9, 3)]
    got, _ = run_tiles(dut, tiles, rng, 0.3, 0.3)
    want = np.concatenate([gemm(a, b, E5M2, E6M9, chunk=2, out_fmt=E5M2) for a, b in tiles])
    assert_bits_equal(got, want, E5M2)


def test_parameter_errors():
    with pytest.raises(ValueError, match=r"^rows must be in 1\.\.64, not 0$"):
        MacArray(E5M2, E6M9, rows=0, cols=4, chunk=4)
    from fp8forge.golden import Rounding

    with pytest.raises(ValueError, match="out_rounding must be RNE or RTZ"):
        MacArray(E5M2, E6M9, rows=2, cols=2, chunk=4, out_fmt=E5M2, out_rounding=Rounding.SR)
