"""``fp8forge experiment lrsweep``: stochastic vs nearest rounding of the weight updates, in
training, across learning rates.

What it measures and why: ``METHOD`` below (also the report's introduction).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from fp8forge.files import atomic_write

from .plots import lr_sweep
from .report import table
from .train import Setup, over_seeds, run_grid

METHOD = """\
The paper keeps the master weights in 16 bits (e6m9 here) and applies each update with
stochastic rounding (SR), because an update much smaller than the weight's ulp is lost by
round-to-nearest (RNE): below half an ulp the weight does not move at all. How small updates are
depends on the learning rate, so the experiment trains the MLP of the training experiment
(64-128-128-10 on scikit-learn's digits, the middle layer in e5m2) at constant learning rates
from 2^-12 to 2^-6, with the paper's recipe (SR updates), the same recipe with RNE updates, and
float32, and reports the final test accuracy over seeds. Next to it, the reason: the median over
every weight and bias of the size of its update (|lr x momentum|) in units of the weight's
e6m9 ulp, at the end of training. Below 1/2 an RNE update is lost; SR applies it with the
probability of that fraction (never below 2^-12 ulp, its 12 random bits)."""

#: Constant learning rates of the full sweep, and of the quick one ``make test`` runs.
FULL_LRS = [2.0 ** -12, 2.0 ** -10, 2.0 ** -8, 2.0 ** -6]
QUICK_LRS = [2.0 ** -11]
RECIPE_NAMES = ["fp32", "fp8", "fp8-rne-update"]
LABELS = {"fp32": "float32", "fp8": "FP8, SR updates (paper)",
          "fp8-rne-update": "FP8, RNE updates"}


def setups(quick: bool) -> list[Setup]:
    if quick:
        return [Setup("digits", epochs=4, lr=lr, decay=False, train_limit=640)
                for lr in QUICK_LRS]
    return [Setup("digits", epochs=20, lr=lr, decay=False) for lr in FULL_LRS]


def summarise(runs: list[dict]) -> dict:
    """{recipe: {lr: {"mean", "std", "finals", "update_ulp"}}}: final test accuracy over seeds
    (sample std) and the median update / ulp at the end (mean over seeds)."""
    out: dict = {}
    for r in runs:
        entry = out.setdefault(r["recipe"], {}).setdefault(r["lr"], {"finals": [], "ulps": []})
        entry["finals"].append(r["accuracy"][-1])
        entry["ulps"].append(r["update_ulp"][-1])
    for by_lr in out.values():
        for entry in by_lr.values():
            mean, std = over_seeds(entry["finals"])
            entry["mean"], entry["std"] = float(mean), float(std)
            entry["update_ulp"] = float(np.mean(entry.pop("ulps")))
    return out


def findings(summary: dict) -> list[str]:
    """One sentence per learning rate: does RNE lose against SR by more than the seed spread,
    and is SR within it of float32?"""
    lines = []
    for lr in sorted(summary["fp8"]):
        sr, rne, fp32 = (summary[name][lr] for name in ("fp8", "fp8-rne-update", "fp32"))
        spread = max(sr["std"], rne["std"], fp32["std"])
        gap, to_fp32 = sr["mean"] - rne["mean"], sr["mean"] - fp32["mean"]
        verdict = ("RNE loses" if gap > spread else "RNE does not lose measurably")
        lines.append(f"- lr 2^{np.log2(lr):.0f}: {verdict} (SR - RNE {gap:+.4f}, seed spread "
                     f"{spread:.4f}); SR - float32 {to_fp32:+.4f}; median update "
                     f"{rne['update_ulp']:.3g} ulp with RNE, {sr['update_ulp']:.3g} with SR")
    return lines


def run(quick: bool, out_dir: Path, *, seeds: int = 3, jobs: int = 2,
        command: str = "fp8forge experiment lrsweep") -> dict:
    grid = setups(quick)
    runs = run_grid(grid, RECIPE_NAMES, list(range(1 if quick else seeds)), jobs=jobs,
                    log=lambda line: print(line, file=sys.stderr, flush=True))
    summary = summarise(runs)
    out_dir.mkdir(parents=True, exist_ok=True)
    result = {"setups": [s.__dict__ for s in grid], "runs": runs,
              "summary": {name: {str(lr): v for lr, v in by_lr.items()}
                          for name, by_lr in summary.items()}}
    atomic_write(out_dir / "lrsweep.json", json.dumps(result, indent=1))
    lrs = sorted(summary["fp8"])
    lr_sweep({LABELS[name]: (lrs, [summary[name][lr]["mean"] for lr in lrs],
                             [summary[name][lr]["std"] for lr in lrs],
                             [summary[name][lr]["update_ulp"] for lr in lrs])
              for name in RECIPE_NAMES}, out_dir / "lrsweep.png")
    rows = [[f"2^{np.log2(lr):.0f}"] + [f"{summary[name][lr]['mean']:.4f} ± "
                                         f"{summary[name][lr]['std']:.4f}"
                                         for name in RECIPE_NAMES]
            + [f"{summary['fp8-rne-update'][lr]['update_ulp']:.3g}"] for lr in lrs]
    s = grid[0]
    md = [f"# SR vs RNE weight updates in training\n\nProduced by `{command}`.\n",
          METHOD, "",
          f"Setup: {s.dataset}, {s.epochs} epochs at a constant learning rate, batch {s.batch}, "
          f"momentum {s.momentum}, L2 {s.l2}"
          + (f", first {s.train_limit} training samples" if s.train_limit else "")
          + f"; {len(runs) // (len(grid) * len(RECIPE_NAMES))} seed(s).", "",
          "Final test accuracy (mean ± sample std over seeds) and the median update of the RNE "
          "run in ulps of e6m9:", "",
          table(["lr", *(LABELS[n] for n in RECIPE_NAMES), "update / ulp (RNE)"], rows), "",
          *findings(summary), "", "![lr sweep](lrsweep.png)", ""]
    atomic_write(out_dir / "lrsweep.md", "\n".join(md))
    return result
