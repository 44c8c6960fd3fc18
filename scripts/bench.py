"""Golden-model speed benchmarks (``fp8forge bench`` / ``make bench``).

Each figure is the median of ``repeats`` runs; compared implementations are timed alternately
in the same process so machine noise hits both alike. Figures printed:

* ``quantize`` float32 -> e5m2 RNE, elements/s, and the ratio to ml_dtypes' C++ cast;
* ``gemm`` e5m2 x e5m2 -> e6m9, chunk 64, 256 x 256 x 1024, MAC/s (bit-exact), and the ratio
  to sequential accumulation that rounds with pychop after every add (a user's alternative).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import TextIO

import numpy as np

from fp8forge.golden import PRESETS, decode, gemm, quantize
from fp8forge.table import render


def _median_seconds(fns: list[Callable[[], object]], repeats: int) -> list[float]:
    """Run the functions alternately ``repeats`` times; return each one's median seconds."""
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            times[i].append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


def bench_quantize(repeats: int, n: int = 1 << 22) -> list[list[str]]:
    import ml_dtypes

    x = np.random.default_rng(0).standard_normal(n).astype(np.float32)
    e5m2 = PRESETS["e5m2"]
    ours, ref = _median_seconds(
        [lambda: quantize(x, e5m2), lambda: x.astype(ml_dtypes.float8_e5m2)], repeats
    )
    same = np.array_equal(quantize(x, e5m2), x.astype(ml_dtypes.float8_e5m2).view(np.uint8))
    return [
        ["quantize f32->e5m2 RNE (fp8forge)", f"{n / ours:.3g} elem/s", f"{ref / ours:.2f}x",
         "bit-identical" if same else "DIFFERENT"],
        ["quantize f32->e5m2 RNE (ml_dtypes)", f"{n / ref:.3g} elem/s", "1.00x", "reference"],
    ]


def _pychop_sequential(a_val: np.ndarray, b_val: np.ndarray) -> np.ndarray:
    """Sequential e6m9 accumulation rounding with pychop after every add (chunk 1)."""
    from pychop import Chop

    chop = Chop(exp_bits=6, sig_bits=9, rmode=1, subnormal=True)
    acc = np.zeros((a_val.shape[0], b_val.shape[1]))
    for k in range(a_val.shape[1]):
        acc = np.asarray(chop(acc + np.multiply.outer(a_val[:, k], b_val[k])))
    return acc


def bench_gemm(repeats: int, m: int = 256, n: int = 256, k: int = 1024,
               k_pychop: int = 128) -> list[list[str]]:
    rng = np.random.default_rng(1)
    e5m2, e6m9 = PRESETS["e5m2"], PRESETS["e6m9"]
    a = quantize(rng.standard_normal((m, k)), e5m2)
    b = quantize(rng.standard_normal((k, n)), e5m2)
    a_val, b_val = decode(a, e5m2), decode(b, e5m2)
    # pychop is too slow for the full K; it runs on the first k_pychop columns and the
    # comparison is in MAC/s. Its chunk-1 result is also checked against ours bit for bit.
    ours, theirs, ours_small = _median_seconds(
        [
            lambda: gemm(a, b, e5m2, e6m9, chunk=64),
            lambda: _pychop_sequential(a_val[:, :k_pychop], b_val[:k_pychop]),
            lambda: gemm(a[:, :k_pychop], b[:k_pychop], e5m2, e6m9, chunk=1),
        ],
        repeats,
    )
    agree = np.array_equal(
        decode(gemm(a[:, :k_pychop], b[:k_pychop], e5m2, e6m9, chunk=1), e6m9),
        _pychop_sequential(a_val[:, :k_pychop], b_val[:k_pychop]),
    )
    macs, macs_small = m * n * k, m * n * k_pychop
    return [
        [f"gemm e5m2->e6m9 chunk 64, {m}x{n}x{k} (fp8forge)", f"{macs / ours:.3g} MAC/s",
         f"{(macs / ours) / (macs_small / theirs):.1f}x", "bit-exact (golden)"],
        [f"gemm e5m2->e6m9 chunk 1, {m}x{n}x{k_pychop} (fp8forge)",
         f"{macs_small / ours_small:.3g} MAC/s",
         f"{(macs_small / ours_small) / (macs_small / theirs):.1f}x",
         "same sums as pychop" if agree else "DIFFERS from pychop"],
        [f"sequential + pychop round per add, {m}x{n}x{k_pychop}",
         f"{macs_small / theirs:.3g} MAC/s", "1.0x", "reference"],
    ]


def bench_rtl() -> list[list[str]]:
    """RTL vectors/s on every available simulator: exhaustive FpMul (16 lanes) and a MacArray
    GEMM. Builds are cached; the figures time only the simulation loop inside cocotb."""

    from fp8forge.hdl.arith import FpMul
    from fp8forge.hdl.array import MacArray
    from fp8forge.hdl.lanes import Lanes
    from fp8forge.sim.runner import available_simulators, run_bench

    from .rtl_demo import measure_gemm

    e5m2, e6m9 = PRESETS["e5m2"], PRESETS["e6m9"]
    rows = []
    for sim, missing in available_simulators().items():
        if missing:
            rows.append([f"RTL on {sim}", "not run", "", missing])
            continue
        data = run_bench("comb", Lanes(lambda: FpMul(e5m2, e6m9), 16),
                         {"op": "mul", "fmt": "e5m2", "out_fmt": "e6m9", "rounding": "RNE",
                          "rbits": 0, "lanes": 16, "stimuli": "all_pairs"}, sim=sim).summary
        rows.append([f"FpMul e5m2->e6m9 all 65,536 pairs, 16 lanes ({sim})",
                     f"{data['vectors'] / data['seconds']:.3g} vectors/s",
                     f"{data['seconds']:.2f} s", "bit-exact vs golden"])
        m, n, k = 8, 8, 512
        data = measure_gemm(MacArray(e5m2, e6m9, rows=4, cols=4, chunk=64), m, n, k, sim)
        rows.append([f"MacArray 4x4 GEMM {m}x{n}x{k} ({sim})",
                     f"{m * n * k / data['seconds']:.3g} MAC/s",
                     f"{data['cycles'][0]['measured'] / data['seconds']:.3g} cycles/s",
                     "bit-exact, cycles() exact"])
    return rows


def run_benchmarks(repeats: int = 5, out: TextIO | None = None,
                   rtl: bool = True) -> list[list[str]]:
    rows = bench_quantize(repeats) + bench_gemm(repeats) + (bench_rtl() if rtl else [])
    text = render(["benchmark", "speed (median)", "vs reference / detail", "check"], rows)
    if out is not None:
        print(f"golden-model benchmarks, median of {repeats} runs, one core\n", file=out)
        print(text, file=out)
    return rows
