"""The claim-by-claim report: each claim of the paper next to what the experiments measured.

``write_report(out_dir)`` reads the JSON results the experiments left in ``out_dir`` (whichever
have run) and writes ``report.md``: one row per claim with the measured numbers, a verdict
computed from them, and the figure. ``fp8forge experiment all`` writes it at the end;
``fp8forge experiment report`` rewrites it from the results already there.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from fp8forge.files import atomic_write

from .chunking import METRICS, losing_metrics
from .chunking import verdict as chunk_verdict
from .report import table

Row = tuple[str, str, str, tuple[str, ...]]  # claim, measured, verdict, figures


def _load(out_dir: Path, name: str) -> dict | None:
    path = out_dir / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _swamping(r: dict) -> Row:
    errs, lengths = r["errors"]["positive products"], r["lengths"]
    at = max(i for i, n in enumerate(lengths) if n <= 4096)
    plain, chunked = errs["e6m9 RNE chunk 1"][at], errs["e6m9 RNE chunk 64"][at]
    verdict = "holds" if plain > 0.1 > 10 * chunked else "not shown"
    return ("Summing many e5m2 x e5m2 products in e6m9 swamps (the sum stalls); chunk-based "
            "accumulation (chunk 64) removes it.",
            f"N = {lengths[at]:,} positive products: relative error {plain:.2g} with chunk 1, "
            f"{chunked:.2g} with chunk 64", verdict, ("accumulation-sum.png",))


def _gradients(r: dict) -> Row:
    k = r["k"][-1]
    parts, worst = [], 1.0
    for task, per in r["tasks"].items():
        c1, c64 = per["chunk 1"]["norm"][-1], per["chunk 64"]["norm"][-1]
        parts.append(f"{task}: chunk 1 keeps {c1:.1%} of the norm, chunk 64 {c64:.1%}")
        worst = min(worst, c1 - c64)
    verdict = "holds" if worst < -0.02 else "weaker: chunk 1 within 2 % of chunk 64"
    return ("Long weight-gradient reductions need chunking to stay faithful.",
            f"K = {k:,}, " + "; ".join(parts), verdict, ("gradients-norm.png",))


def _update(r: dict) -> Row:
    small = min(r["sweep"], key=lambda p: p["lr"])
    modes = small["modes"]
    rne, sr = modes["e6m9 RNE"], modes["e6m9 SR"]
    verdict = ("holds" if rne["lost_fraction"] > 0.5 and sr["drift_error"] < 0.05
               else "not shown")
    return ("Round-to-nearest loses weight updates below half an ulp; stochastic rounding keeps "
            "them on average.",
            f"lr {small['lr']:.3g}: RNE left {rne['lost_fraction']:.0%} of the weights unmoved "
            f"(drift error {rne['drift_error']:.2g}); SR drift error {sr['drift_error']:.2g}",
            verdict, ("update-trace.png",))


def _training(r: dict) -> list[Row]:
    by = {(s["dataset"], s["recipe"]): s for s in r["summary"]}
    rows = []
    datasets = list(dict.fromkeys(d for d, _ in by))
    parts, worst = [], 0.0
    for d in datasets:
        if (d, "fp8") in by and (d, "fp32") in by:
            fp8, fp32 = by[(d, "fp8")], by[(d, "fp32")]
            parts.append(f"{d}: FP8 {fp8['mean']:.4f} ± {fp8['std']:.4f}, float32 "
                         f"{fp32['mean']:.4f} ± {fp32['std']:.4f}")
            worst = min(worst, fp8["mean"] - fp32["mean"])
    if parts:
        verdict = ("holds" if worst > -0.01 else
                   f"weaker: FP8 up to {-worst:.1%} below float32")
        rows.append(("Networks train to float32 accuracy with the FP8 recipe (e5m2 GEMMs, "
                     "e6m9 chunked accumulation, SR updates).", "; ".join(parts), verdict,
                     tuple(f"train-{d}.png" for d in datasets)))
    parts, worst = [], 0.0
    for d in datasets:
        if (d, "fp8-all-layers") in by and (d, "fp8") in by:
            gap = by[(d, "fp8")]["mean"] - by[(d, "fp8-all-layers")]["mean"]
            parts.append(f"{d}: e5m2 everywhere {-gap:+.4f} against the recipe")
            worst = max(worst, gap)
    if parts:
        rows.append(("The first and last layer need 16 bits.", "; ".join(parts),
                     "holds" if worst > 0.01 else "weaker: within 1 point",
                     tuple(f"train-{d}.png" for d in datasets)))
    return rows


def _chunking(r: dict) -> Row:
    s = r["summary"]
    c1, c64, fp32 = s["fp8-chunk1"], s["fp8"], s["fp32"]
    if "gap" in s:  # seed by seed: the recipes share each seed's weights and data order
        verdict = ("holds" if len(losing_metrics(s["gap"])) == len(METRICS) else
                   f"weaker: chunk 1 {chunk_verdict(s['gap'])}")
        compared = "; ".join(_paired(s["gap"], name, what) for name, what in METRICS.items())
    else:
        gap = c1["loss"][-1] - c64["loss"][-1]
        spread = max(c1["loss_std"][-1], c64["loss_std"][-1])
        verdict = ("holds" if gap > spread else "weaker: the gap is within the seed spread")
        compared = f"training loss difference {gap:+.3g}, seed spread {spread:.2g}"
    return ("In training, accumulation without chunking loses where reductions are long; chunk "
            "64 trains like float32.",
            f"dense regression, K = {r['k']:,}, after a budget of {len(c1['loss'])} epochs: "
            f"training loss chunk 1 {c1['loss'][-1]:.4g}, chunk 64 {c64['loss'][-1]:.4g}, "
            f"float32 {fp32['loss'][-1]:.4g}"
            + (f"; test error {c1['test_mse']:.4g} / {c64['test_mse']:.4g} / "
               f"{fp32['test_mse']:.4g}" if "test_mse" in c1 else "")
            + f" (seed by seed, chunk 1 against chunk 64: {compared})",
            verdict, ("chunking.png",))


def _paired(gap: dict, name: str, what: str) -> str:
    """One metric of the seed-by-seed comparison, as the verdict judges it."""
    if f"{name}_ratio" in gap:
        return (f"{what} {gap[f'{name}_ratio'][-1]:.3g}x, seed spread x/÷ "
                f"{gap[f'{name}_ratio_spread'][-1]:.3g}")
    return (f"{what} {gap[name][-1]:+.3g}, seed spread of the difference "
            f"{gap[f'{name}_std'][-1]:.2g}")


def _lrsweep(r: dict) -> Row:
    s = r["summary"]
    lr = min(s["fp8"], key=float)
    sr, rne, fp32 = s["fp8"][lr], s["fp8-rne-update"][lr], s["fp32"][lr]
    spread = max(sr["std"], rne["std"], fp32["std"])
    if sr["mean"] - rne["mean"] <= spread:
        verdict = "weaker: RNE within the seed spread of SR"
    elif fp32["mean"] - sr["mean"] >= max(spread, 0.01):
        verdict = f"weaker: SR {fp32['mean'] - sr['mean']:.1%} below float32"
    else:
        verdict = "holds"
    return ("In training, SR weight updates match float32 where RNE updates fall behind.",
            f"lr {float(lr):.3g}: test accuracy SR {sr['mean']:.4f}, RNE {rne['mean']:.4f}, "
            f"float32 {fp32['mean']:.4f} (seed spread {spread:.4f})",
            verdict, ("lrsweep.png",))


#: experiment result -> its rows, in the report's order
SECTIONS: list[tuple[str, Callable[[dict], Row | list[Row]]]] = [
    ("accumulation", _swamping), ("gradients", _gradients), ("update", _update),
    ("train", _training), ("chunking", _chunking), ("lrsweep", _lrsweep)]


def write_report(out_dir: Path) -> str:
    """Write ``out_dir/report.md`` from the results there; return its text."""
    rows: list[list[str]] = []
    missing = []
    for name, make in SECTIONS:
        result = _load(out_dir, name)
        if result is None:
            missing.append(name)
            continue
        made = make(result)
        for claim, measured, verdict, figures in (made if isinstance(made, list) else [made]):
            links = ", ".join(f"[{f}]({f})" for f in figures)
            rows.append([claim, measured, verdict, links])
    md = ["# The paper's claims, as measured\n",
          "Each row: a claim of Wang et al. (2018), what the experiments in this folder measured "
          "(details in each experiment's own report), and a verdict computed from those "
          "numbers (`experiments/claims.py`).", "",
          table(["claim", "measured", "verdict", "figure"], rows), ""]
    if missing:
        md.append("Not run yet: " + ", ".join(f"`fp8forge experiment {m}`" for m in missing)
                  + ".\n")
    text = "\n".join(md)
    atomic_write(out_dir / "report.md", text)
    return text
