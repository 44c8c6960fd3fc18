"""MacArray in amaranth.sim: golden gemm per tile, stalls on every stream, exact cycles().

Building an array's simulator costs several times a run here, so each test runs all its cases
on one simulator (``array_sim``, reset between runs), and tests on one worker that build the
same array share it.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from fp8forge.golden import PRESETS, gemm, quantize
from fp8forge.hdl.array import MacArray

from ..conftest import assert_bits_equal, covering_groups
from .simkit import Inputs, ReusedSim

pytestmark = pytest.mark.amaranth_sim
E5M2, E6M9 = PRESETS["e5m2"], PRESETS["e6m9"]


def pack(values, bits):
    return sum(int(v) << (bits * i) for i, v in enumerate(values))


def array_sim(rows, cols, chunk, *, stages=0, out_fmt=None, interleave=1) -> ReusedSim:
    """The simulator of ``MacArray(E5M2, E6M9, ...)``, built once per worker."""
    return _array_sim(rows, cols, chunk, stages, out_fmt, interleave)


@functools.lru_cache(maxsize=8)
def _array_sim(rows, cols, chunk, stages, out_fmt, interleave) -> ReusedSim:
    return ReusedSim(MacArray(E5M2, E6M9, rows=rows, cols=cols, chunk=chunk, stages=stages,
                              out_fmt=out_fmt, interleave=interleave))


def run_tiles(sim: ReusedSim, tiles, rng, stall_in=0.0, stall_out=0.0):
    """Stream tiles (A, B) through the array; return C rows and cycles first-in..last-out."""
    dut = sim.dut
    w, wo, cols = dut.in_fmt.width, dut.out_width, dut.tile_cols
    beats = [(a[:, k], b[k], k == a.shape[1] - 1) for a, b in tiles for k in range(a.shape[1])]
    rows_out, cycles = [], {}
    beat = Inputs(dut.a_valid, dut.b_valid, dut.a_data, dut.b_data, dut.a_last, dut.c_ready)
    stalled = Inputs(dut.a_valid, dut.b_valid, dut.c_ready)

    async def bench(ctx):
        cycle, i = 0, 0
        while len(rows_out) < len(tiles) * dut.rows:
            valid = i < len(beats) and not rng.random() < stall_in
            ready = not rng.random() < stall_out
            if valid:
                a, b, last = beats[i]
                beat(ctx, 1, 1, pack(a, w), pack(b, w), last, ready)
            else:
                stalled(ctx, 0, 0, ready)
            if valid and ctx.get(dut.a_ready):
                cycles.setdefault("first", cycle)
                i += 1
            if ready and ctx.get(dut.c_valid):
                data = ctx.get(dut.c_data)
                rows_out.append([(data >> (wo * j)) & ((1 << wo) - 1) for j in range(cols)])
                cycles["last"] = cycle
            await ctx.tick()
            cycle += 1

    sim.run(bench)
    return np.array(rows_out, dtype=np.uint64), cycles["last"] - cycles["first"] + 1


def random_tile(rng, rows, k, cols, fmt=E5M2, specials=0.03):
    a = quantize(rng.standard_normal((rows, k)) * 4, fmt)
    b = quantize(rng.standard_normal((k, cols)), fmt)
    codes = np.array([fmt.nan_bits, fmt.inf_bits or 0, 1, fmt.sign_mask | 1], dtype=a.dtype)
    mask = rng.random(a.shape) < specials
    return np.where(mask, codes[rng.integers(0, len(codes), a.shape)], a), b


# (2, 5, 2) and (3, 4, 3): rows split into segments of min(cols, chunk) PEs per edge adder
@pytest.mark.parametrize("rows, cols, chunk, out, ks", covering_groups(
    [(4, 4, 4, None), (2, 3, 2, "e5m2"), (3, 2, None, None), (2, 5, 2, None), (3, 4, 3, None)],
    [1, 3, 5, 9]))
def test_single_tile_and_exact_cycles(rows, cols, chunk, out, ks, rng):
    out_fmt = PRESETS[out] if out else None
    sim = array_sim(rows, cols, chunk, out_fmt=out_fmt)
    for k in ks:
        a, b = random_tile(rng, rows, k, cols)
        got, cycles = run_tiles(sim, [(a, b)], rng)
        assert_bits_equal(got, gemm(a, b, E5M2, E6M9, chunk=chunk, out_fmt=out_fmt),
                          out_fmt or E6M9)
        assert cycles == sim.dut.cycles(k), k


@pytest.mark.parametrize("rows, cols, chunk, stages, ks", covering_groups(
    [(4, 3, 4, 1), (2, 5, 2, 0), (3, 3, 8, 0), (2, 2, None, 1), (1, 2, 3, 0), (1, 1, None, 0)],
    [1, 2, 6, 11]))
def test_back_to_back_tiles_cycles(rows, cols, chunk, stages, ks, rng):
    """Short tiles and short last chunks make the controller wait; cycles() counts it."""
    sim = array_sim(rows, cols, chunk, stages=stages)
    for k in ks:
        tiles = [random_tile(rng, rows, k, cols) for _ in range(3)]
        got, cycles = run_tiles(sim, tiles, rng)
        want = np.concatenate([gemm(a, b, E5M2, E6M9, chunk=chunk) for a, b in tiles])
        assert_bits_equal(got, want, E6M9)
        assert cycles == sim.dut.cycles(k, tiles=3), k


def test_stalls_and_mixed_lengths(rng):
    sim = array_sim(4, 4, 4, out_fmt=E5M2)
    for stall_in, stall_out in [(0.3, 0.0), (0.0, 0.5), (0.3, 0.3)]:
        tiles = [random_tile(rng, 4, k, 4) for k in (2, 7, 1, 6, 13)]
        got, _ = run_tiles(sim, tiles, rng, stall_in, stall_out)
        want = np.concatenate([gemm(a, b, E5M2, E6M9, chunk=4, out_fmt=E5M2) for a, b in tiles])
        assert_bits_equal(got, want, E5M2)


def test_stalls_with_segments_and_pipelined_pes(rng):
    sim = array_sim(3, 5, 2, stages=1)
    tiles = [random_tile(rng, 3, k, 5) for k in (5, 1, 2, 9, 3)]
    got, _ = run_tiles(sim, tiles, rng, 0.3, 0.3)
    want = np.concatenate([gemm(a, b, E5M2, E6M9, chunk=2) for a, b in tiles])
    assert_bits_equal(got, want, E6M9)


@pytest.mark.parametrize("rows, cols, chunk, stages, ks", covering_groups(
    [(2, 2, None, 0), (3, 2, 2, 1), (2, 3, 4, 0), (2, 5, 2, 0), (1, 1, 3, 0)], [1, 2, 5, 9]))
def test_interleaved_tiles_and_exact_cycles(rows, cols, chunk, stages, ks, rng):
    """interleave=2: tiles of rows x (2 cols), every loop cut once; three tiles back to back
    and cycles() exact."""
    sim = array_sim(rows, cols, chunk, stages=stages, interleave=2)
    assert sim.dut.tile_cols == 2 * cols
    for k in ks:
        tiles = [random_tile(rng, rows, k, 2 * cols) for _ in range(3)]
        got, cycles = run_tiles(sim, tiles, rng)
        want = np.concatenate([gemm(a, b, E5M2, E6M9, chunk=chunk) for a, b in tiles])
        assert_bits_equal(got, want, E6M9)
        assert cycles == sim.dut.cycles(k, tiles=3), k


def test_interleaved_stalls_and_mixed_lengths(rng):
    sim = array_sim(3, 4, 2, out_fmt=E5M2, interleave=2)
    tiles = [random_tile(rng, 3, k, 8) for k in (5, 1, 2, 9, 3)]
    got, _ = run_tiles(sim, tiles, rng, 0.3, 0.3)
    want = np.concatenate([gemm(a, b, E5M2, E6M9, chunk=2, out_fmt=E5M2) for a, b in tiles])
    assert_bits_equal(got, want, E5M2)


def test_a_reused_simulator_runs_like_a_new_one(seed):
    """What ``array_sim`` relies on: after a run (stalled, mid-tile state left behind), a
    reset simulator gives the outputs and cycle count of a newly built one."""
    def stalled_run(sim):
        rng = np.random.default_rng(seed)  # the same tiles and stalls each time
        tiles = [random_tile(rng, 2, k, 3) for k in (3, 1, 4)]
        return run_tiles(sim, tiles, rng, 0.3, 0.3)

    reused = ReusedSim(MacArray(E5M2, E6M9, rows=2, cols=3, chunk=2))
    first_rows, first_cycles = stalled_run(reused)
    rows, cycles = stalled_run(reused)
    fresh_rows, fresh_cycles = stalled_run(ReusedSim(MacArray(E5M2, E6M9, rows=2, cols=3,
                                                              chunk=2)))
    assert cycles == first_cycles == fresh_cycles
    np.testing.assert_array_equal(rows, fresh_rows)
    np.testing.assert_array_equal(first_rows, fresh_rows)


def test_parameter_errors():
    with pytest.raises(ValueError, match=r"^rows must be in 1\.\.64, not 0$"):
        MacArray(E5M2, E6M9, rows=0, cols=4, chunk=4)
    from fp8forge.golden import Rounding

    with pytest.raises(ValueError, match="out_rounding must be RNE or RTZ"):
        MacArray(E5M2, E6M9, rows=2, cols=2, chunk=4, out_fmt=E5M2, out_rounding=Rounding.SR)
