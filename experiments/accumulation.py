"""``fp8forge experiment accumulation``: swamping and chunk-based accumulation (paper Fig. 3).

What it measures and why: ``METHOD`` below (also the report's introduction).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from fp8forge.files import atomic_write
from fp8forge.golden import PRESETS, Rounding, chunked_sum, decode, mul, quantize
from fp8forge.golden.design import PAPER

from .plots import lines
from .report import table

#: What the experiment measures and why: the report's introduction (a constant, not the
#: docstring, so it survives ``python -OO``).
METHOD = """\
Addends are what the MAC array accumulates: products of two e5m2 operands, formed exactly in
e6m9 by the golden ``mul`` (``is_exact_product``), with operands drawn from

- positive: both operands ``|N(0, 1)|`` (activations after a ReLU times positive weights);
- zero mean: both operands ``N(0, 1)``;
- gradient-like: ``ReLU(N(0, 1))`` times ``N(0.05, 1)`` (a weight gradient: activations times
  output errors with a small mean);

each operand quantized to e5m2 (RNE). Their length-N sum (N = 2^4 .. 2^20) is computed by the
golden ``chunked_sum`` in fp32 (sequential, RNE: the baseline's accumulator), in e6m9 RNE with
chunk 1 (plain sequential), 16, 32, 64 and 256, and in e6m9 with stochastic rounding (chunk 1,
12 random bits), and compared with the exactly rounded
float64 sum (``math.fsum``). The error is relative to the result, ``|sum - exact| / |exact|``
(a zero-mean sum's exact value is small, so its relative error is the demanding measure). Each
point is the median over independent trials. The chunk sweep fixes N and varies the chunk from
1 to N; the computed-sum figure (the paper's Fig. 3) shows ``sum / exact`` for the positive
products.
"""

E5M2, E6M9, FP32 = PRESETS["e5m2"], PRESETS["e6m9"], PRESETS["fp32"]
#: name -> (first operand, second operand) samplers, each quantized to e5m2.
DISTRIBUTIONS: dict[str, tuple[Callable, Callable]] = {
    "positive products": (lambda rng, shape: np.abs(rng.standard_normal(shape)),
                          lambda rng, shape: np.abs(rng.standard_normal(shape))),
    "zero-mean products": (lambda rng, shape: rng.standard_normal(shape),
                           lambda rng, shape: rng.standard_normal(shape)),
    "gradient-like products": (lambda rng, shape: np.maximum(rng.standard_normal(shape), 0),
                               lambda rng, shape: rng.normal(0.05, 1.0, shape)),
}
RBITS = PAPER.rbits


def methods() -> dict[str, Callable]:
    """label -> f(e6m9 bits (trials, N), rng) -> float64 sums (trials,)."""
    def e6m9(chunk, rounding=Rounding.RNE):
        def run(bits, rng):
            rand = rand_outer = None
            if rounding is Rounding.SR:
                rand = rng.integers(0, 1 << RBITS, bits.shape)
                rand_outer = rng.integers(0, 1 << RBITS, bits.shape[:-1] + (bits.shape[-1],))
            out = chunked_sum(bits, E6M9, chunk, rounding, rand=rand, rand_outer=rand_outer,
                              rbits=RBITS if rand is not None else 0)
            return decode(out, E6M9)
        return run

    def fp32(bits, rng):
        return decode(chunked_sum(quantize(decode(bits, E6M9), FP32), FP32, None), FP32)

    out = {"fp32 (sequential)": fp32}
    out |= {f"e6m9 RNE chunk {c}": e6m9(c) for c in (1, 16, 32, 64, 256)}
    out["e6m9 SR chunk 1"] = e6m9(1, Rounding.SR)
    return out


def products(dist: str, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """e6m9 bit patterns of exact e5m2 x e5m2 products of distribution ``dist``."""
    first, second = DISTRIBUTIONS[dist]
    return mul(quantize(first(rng, shape), E5M2), quantize(second(rng, shape), E5M2), E5M2, E6M9)


def _reference(bits) -> np.ndarray:
    """The exactly rounded sum of each trial's e6m9 addends."""
    return np.array([math.fsum(row) for row in decode(bits, E6M9)])


def _median_error(sums: np.ndarray, exact: np.ndarray) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.median(np.abs(sums - exact) / np.abs(exact)))


def length_sweep(lengths: list[int], trials: int, seed: int, progress=None) -> tuple[dict, dict]:
    """({distribution: {method: [median error per length]}},
    {method: [median sum / exact per length]} for the positive products)."""
    errors: dict[str, dict[str, list[float]]] = {}
    ratios: dict[str, list[float]] = {}
    for dist in DISTRIBUTIONS:
        rng = np.random.default_rng(seed)
        data = products(dist, rng, (trials, max(lengths)))
        references = {n: _reference(data[:, :n]) for n in lengths}
        errors[dist] = {}
        for label, method in methods().items():
            if progress:
                progress(f"accumulation: {dist}, {label}")
            sums = [method(data[:, :n], rng) for n in lengths]
            errors[dist][label] = [_median_error(s, references[n])
                                   for s, n in zip(sums, lengths, strict=True)]
            if dist == "positive products":
                ratios[label] = [float(np.median(s / references[n]))
                                 for s, n in zip(sums, lengths, strict=True)]
    return errors, ratios


def chunk_sweep(length: int, trials: int, seed: int) -> dict:
    """{distribution: [(chunk, median error)]} for e6m9 RNE at a fixed length."""
    chunks = [2 ** i for i in range(int(math.log2(length)) + 1)]
    out = {}
    for dist in DISTRIBUTIONS:
        rng = np.random.default_rng(seed + 1)
        data = products(dist, rng, (trials, length))
        reference = _reference(data)
        out[dist] = [(c, _median_error(decode(chunked_sum(data, E6M9, c), E6M9), reference))
                     for c in chunks]
    return out


def _fmt(error: float) -> str:
    return "—" if error != error else f"{error:.2e}"


def run(quick: bool, out_dir: Path, *, seed: int = 0, progress=print,
        command: str = "fp8forge experiment accumulation") -> dict:
    lengths = [2 ** i for i in range(4, 13 if quick else 21)]
    trials = 2 if quick else 8
    sweep_len = 2 ** 12 if quick else 2 ** 16
    errors, ratios = length_sweep(lengths, trials, seed, progress)
    result: dict[str, Any] = {"lengths": lengths, "trials": trials, "seed": seed,
                              "errors": errors, "sum_ratio": ratios, "chunk_length": sweep_len,
                              "chunk_sweep": chunk_sweep(sweep_len, trials, seed)}
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write(out_dir / "accumulation.json", json.dumps(result, indent=1))
    md = [f"# Accumulation: swamping and chunk size\n\nProduced by `{command}`.\n",
          METHOD.strip(), ""]
    for i, (dist, errs) in enumerate(result["errors"].items()):
        png = f"accumulation-{i}.png"
        lines({label: ([n for n, e in zip(lengths, v, strict=True) if e == e],
                       [max(e, 1e-12) for e in v if e == e]) for label, v in errs.items()},
              out_dir / png, title=f"sum of N e5m2 x e5m2 {dist} in e6m9", xlabel="N",
              ylabel="|sum - exact| / |exact| (median; 0 drawn at 1e-12)")
        shown = [n for n in lengths if n in (16, 256, 1024, 4096, 2 ** 16, 2 ** 20)]
        md += [f"## {dist}", "", table(["method", *(f"N=2^{int(math.log2(n))}" for n in shown)],
                                       [[label, *(_fmt(v[lengths.index(n)]) for n in shown)]
                                        for label, v in errs.items()]), "", f"![{dist}]({png})",
               ""]
    shown_ratio = ("fp32 (sequential)", "e6m9 RNE chunk 1", "e6m9 RNE chunk 32",
                   "e6m9 RNE chunk 64", "e6m9 SR chunk 1")
    lines({label: ([n for n, r in zip(lengths, ratios[label], strict=True) if r == r],
                   [r for r in ratios[label] if r == r]) for label in shown_ratio},
          out_dir / "accumulation-sum.png", logy=False,
          title="computed sum of N positive e5m2 x e5m2 products / exact sum",
          xlabel="N", ylabel="sum / exact (median)")
    md += ["## Computed sum (positive products)", "",
           "![computed sum / exact](accumulation-sum.png)", ""]
    sweep = result["chunk_sweep"]
    lines({dist: ([c for c, _ in pts], [max(e, 1e-12) for _, e in pts])
           for dist, pts in sweep.items()}, out_dir / "accumulation-chunks.png",
          title=f"e6m9 RNE sum of N = {sweep_len}: error vs chunk size", xlabel="chunk size",
          ylabel="|sum - exact| / |exact| (median; 0 drawn at 1e-12)")
    md += [f"## Chunk size at N = {sweep_len} (e6m9 RNE)", "",
           table(["chunk", *sweep], [[c, *(f"{pts[i][1]:.2e}" for pts in sweep.values())]
                                     for i, (c, _) in enumerate(next(iter(sweep.values())))]),
           "", "![chunk sweep](accumulation-chunks.png)", ""]
    atomic_write(out_dir / "accumulation.md", "\n".join(md))
    return result
