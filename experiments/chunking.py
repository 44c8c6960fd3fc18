"""``fp8forge experiment chunking``: chunk-based accumulation in training, chunk 1 vs 64.

What it measures and why: ``METHOD`` below (also the report's introduction).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from fp8forge.files import atomic_write

from .plots import loss_curves
from .report import table
from .train import Setup, over_seeds, run_grid

METHOD = """\
Chunk-based accumulation matters where reductions are long and their addends do not cancel.
In the classification networks of the training experiment neither holds (the longest reduction
is 1,280 terms and cross-entropy errors are sparse), and chunk 1 trains as well as chunk 64. This
experiment builds the case the paper's argument is about: a dense regression. A fully
convolutional student (conv5x16 - conv5x16 - conv5x1, the middle layer in e5m2) learns to map
each MNIST-1D signal to the output of a fixed random teacher of the same shape (mean squared
error over every output position), at batch 512, so every weight and bias gradient is a
reduction of K = 512 x 40 = 20,480 products, and every output carries an error. The FP8 recipe
with chunk 64 (the paper) and with chunk 1 (no chunking) trains for a fixed budget of steps at a
constant learning rate, next to float32, over the same seeds, data order and initial weights;
reported are the training loss per epoch and the final test error."""

RECIPE_NAMES = ["fp32", "fp8", "fp8-chunk1"]
LABELS = {"fp32": "float32", "fp8": "FP8, chunk 64 (paper)", "fp8-chunk1": "FP8, chunk 1"}
BATCH = 512
POSITIONS = 40  # MNIST-1D's length: every layer of the student keeps it


def setup(quick: bool) -> Setup:
    if quick:  # 12 steps on half the training set
        return Setup("mnist1d-signal", epochs=3, lr=0.05, batch=BATCH, decay=False,
                     train_limit=2048)
    return Setup("mnist1d-signal", epochs=8, lr=0.05, batch=BATCH, decay=False)


def summarise(runs: list[dict]) -> dict:
    """{recipe: {"loss": [mean per epoch], "loss_std": [...], "test_mse": mean, "test_std",
    "finals": [final training loss per seed]}}."""
    out = {}
    for name in dict.fromkeys(r["recipe"] for r in runs):
        mine = [r for r in runs if r["recipe"] == name]
        loss, loss_std = over_seeds([r["loss"] for r in mine])
        test, test_std = over_seeds([r["test_mse"][-1] for r in mine])
        out[name] = {"loss": loss.tolist(), "loss_std": loss_std.tolist(),
                     "test_mse": float(test), "test_std": float(test_std),
                     "finals": [r["loss"][-1] for r in mine]}
    return out


def finding(summary: dict) -> str:
    """Does chunk 1 lose against chunk 64 by more than the seed spread, at the end of the
    budget and at its worst epoch?"""
    c64, c1 = summary["fp8"], summary["fp8-chunk1"]
    spreads = np.maximum(c64["loss_std"], c1["loss_std"])
    gaps = np.array(c1["loss"]) - np.array(c64["loss"])
    in_spreads = gaps / np.maximum(spreads, 1e-12)
    worst = int(np.argmax(in_spreads))
    end = ("loses" if gaps[-1] > spreads[-1] else "does not lose measurably")
    return (f"At the end of the budget chunk 1 {end} (training loss {c1['loss'][-1]:.4g} against "
            f"{c64['loss'][-1]:.4g} for chunk 64, {gaps[-1] / c64['loss'][-1]:+.1%}; seed spread "
            f"{spreads[-1]:.2g}); its largest gap is after epoch {worst + 1} "
            f"({gaps[worst] / c64['loss'][worst]:+.1%}, {in_spreads[worst]:.1f} seed spreads). "
            f"Test error: chunk 64 {c64['test_mse']:.4g} ± {c64['test_std']:.2g}, "
            f"chunk 1 {c1['test_mse']:.4g} ± {c1['test_std']:.2g}, float32 "
            f"{summary['fp32']['test_mse']:.4g} ± {summary['fp32']['test_std']:.2g}.")


def run(quick: bool, out_dir: Path, *, seeds: int = 3, jobs: int = 2,
        command: str = "fp8forge experiment chunking") -> dict:
    s = setup(quick)
    runs = run_grid([s], RECIPE_NAMES, list(range(1 if quick else seeds)), jobs=jobs,
                    log=lambda line: print(line, file=sys.stderr, flush=True))
    summary = summarise(runs)
    out_dir.mkdir(parents=True, exist_ok=True)
    result = {"setup": s.__dict__, "k": BATCH * POSITIONS, "runs": runs, "summary": summary}
    atomic_write(out_dir / "chunking.json", json.dumps(result, indent=1))
    loss_curves({LABELS[n]: (summary[n]["loss"], summary[n]["loss_std"]) for n in RECIPE_NAMES},
                out_dir / "chunking.png",
                title=f"dense regression, every gradient a reduction of K = {BATCH * POSITIONS:,}")
    epochs = range(1, s.epochs + 1)
    rows = [[LABELS[n], *(f"{m:.4g} ± {d:.2g}" for m, d in
                          zip(summary[n]["loss"], summary[n]["loss_std"], strict=True)),
             f"{summary[n]['test_mse']:.4g}"] for n in RECIPE_NAMES]
    seeds_run = len(runs) // len(RECIPE_NAMES)
    md = [f"# Chunk-based accumulation in training\n\nProduced by `{command}`.\n", METHOD, "",
          f"Setup: {s.epochs} epochs of {(s.train_limit or 4000) // s.batch} steps at a constant "
          f"learning rate {s.lr}, batch {s.batch}, momentum {s.momentum}, L2 {s.l2}; "
          f"{seeds_run} seed(s).", "",
          "Training loss after each epoch (mean ± sample std over seeds) and the final test "
          "error:", "",
          table(["recipe", *(f"epoch {e}" for e in epochs), "test MSE"], rows), "",
          finding(summary), "", "![training loss](chunking.png)", ""]
    atomic_write(out_dir / "chunking.md", "\n".join(md))
    return result
