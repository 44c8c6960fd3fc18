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
convolutional student (conv5x4 - conv5x4 - conv5x1, the middle layer in e5m2) learns to map
each MNIST-1D signal, upsampled 16x (each sample held for 16 positions: 640 positions), to the
output of a fixed random teacher of the same shape (mean squared error over every output
position), at batch 512, so every weight and bias gradient is a reduction of
K = 512 x 640 = 327,680 products, and every output carries an error. (The net is narrow
because K, not the width, decides swamping, and the golden model's cost grows with both.)
The FP8 recipe with chunk 64 (the paper) and with chunk 1 (no chunking) trains for a fixed
budget of steps at a constant learning rate, next to float32, over the same seeds, data order
and initial weights; reported are the training loss per epoch and the test error after each
epoch."""

RECIPE_NAMES = ["fp32", "fp8", "fp8-chunk1"]
LABELS = {"fp32": "float32", "fp8": "FP8, chunk 64 (paper)", "fp8-chunk1": "FP8, chunk 1"}
BATCH = 512
#: positions per sample of each dataset (every layer of the student keeps its input's length)
POSITIONS = {"mnist1d-signal": 40, "mnist1d-signal-x16-w4": 640}


def setup(quick: bool) -> Setup:
    if quick:  # a check of the machinery: 4 steps at the signals' own length
        return Setup("mnist1d-signal", epochs=2, lr=0.05, batch=BATCH, decay=False,
                     train_limit=1024)
    # 3 epochs of 7 steps: an FP8 epoch at K = 327,680 takes about a minute on one core. At
    # K = 81,920 (the 16-channel net, 4x) chunk 1 ended behind on 5 of 6 seeds but within the
    # seed spread; at lr 0.03 here it catches up by the third epoch (a larger learning rate
    # makes up for the gradient that swamping shrinks).
    return Setup("mnist1d-signal-x16-w4", epochs=3, lr=0.01, batch=BATCH, decay=False)


def reduction_length(s: Setup) -> int:
    """K of every weight and bias gradient of the student: batch x positions."""
    return s.batch * POSITIONS[s.dataset]


def summarise(runs: list[dict]) -> dict:
    """{recipe: {"loss": [mean per epoch], "loss_std": [...], "test": [mean test error per
    epoch], "test_epoch_std": [...], "test_mse": final mean, "test_std", "finals": [final
    training loss per seed]}, "gap": paired_gap(runs)}."""
    out: dict = {}
    for name in dict.fromkeys(r["recipe"] for r in runs):
        mine = [r for r in runs if r["recipe"] == name]
        loss, loss_std = over_seeds([r["loss"] for r in mine])
        test, test_std = over_seeds([r["test_mse"] for r in mine])
        out[name] = {"loss": loss.tolist(), "loss_std": loss_std.tolist(),
                     "test": test.tolist(), "test_epoch_std": test_std.tolist(),
                     "test_mse": float(test[-1]), "test_std": float(test_std[-1]),
                     "finals": [r["loss"][-1] for r in mine]}
    gap = paired_gap(runs)
    if gap:
        out["gap"] = gap
    return out


def paired_gap(runs: list[dict], worse: str = "fp8-chunk1", better: str = "fp8") -> dict:
    """Chunk 1 against chunk 64, seed by seed (the recipes share each seed's initial weights
    and data order, so the seed-to-seed spread of the task cancels). Per epoch, for the
    training loss (``loss``) and the test error (``test``):

    - ``{m}``, ``{m}_std``: the mean difference (chunk 1 minus chunk 64) and its sample std;
    - ``{m}_ratio``, ``{m}_ratio_spread``: the geometric mean of the ratio (chunk 1 over chunk
      64) and the spread factor exp(sample std of its logarithm);
    - ``{m}_worse``: on how many seeds chunk 1 ends higher (last epoch only).

    {} if the two recipes share no seed."""
    by = {(r["recipe"], r["seed"]): r for r in runs}
    seeds = sorted(seed for name, seed in by if name == worse and (better, seed) in by)
    if not seeds:
        return {}
    out: dict = {"seeds": len(seeds)}
    for key, name in (("loss", "loss"), ("test_mse", "test")):
        pairs = [(np.asarray(by[worse, s][key]), np.asarray(by[better, s][key])) for s in seeds]
        mean, std = over_seeds([w - b for w, b in pairs])
        out[name], out[f"{name}_std"] = mean.tolist(), std.tolist()
        with np.errstate(divide="ignore", invalid="ignore"):  # a diverged run: nan, not a crash
            log_mean, log_std = over_seeds([np.log(w / b) for w, b in pairs])
        out[f"{name}_ratio"] = np.exp(log_mean).tolist()
        out[f"{name}_ratio_spread"] = np.exp(log_std).tolist()
        out[f"{name}_worse"] = sum(int(w[-1] > b[-1]) for w, b in pairs)
    return out


METRICS = {"loss": "training loss", "test": "test error"}


def beyond_spread(gap: dict, name: str) -> bool:
    """Does chunk 1 lose on metric ``name`` at the end of the budget, by more than the seed
    spread? Judged on the ratio to chunk 64, seed by seed: the mean log ratio must exceed its
    sample std. (Ratios, not differences: at a fixed budget a seed whose student starts far
    from the teacher ends with a loss several times the others' in every recipe, and the mean
    and spread of an absolute difference are then that seed's.) Results stored before ratios
    were recorded are judged on the difference."""
    if f"{name}_ratio" not in gap:
        return gap[name][-1] > gap[f"{name}_std"][-1]
    return gap[f"{name}_ratio"][-1] > gap[f"{name}_ratio_spread"][-1]


def losing_metrics(gap: dict) -> list[str]:
    """The metrics (``METRICS`` names) on which chunk 1 loses beyond the seed spread."""
    return [what for name, what in METRICS.items() if beyond_spread(gap, name)]


def verdict(gap: dict) -> str:
    """Whether chunk 1 loses, in words, from ``losing_metrics``."""
    beyond = losing_metrics(gap)
    if len(beyond) == len(METRICS):
        return "loses measurably (training loss and test error)"
    if beyond:
        return f"loses measurably in {' and '.join(beyond)} only"
    return "does not lose measurably"


def _metric_finding(gap: dict, name: str, what: str, base: float) -> str:
    mean, std = gap[name][-1], gap[f"{name}_std"][-1]
    where = "beyond" if beyond_spread(gap, name) else "within"
    absolute = (f"{'+' if mean >= 0 else ''}{mean:.3g} ({mean / base:+.1%} of chunk 64's "
                f"{base:.4g}; seed spread of the difference {std:.2g})")
    if f"{name}_ratio" not in gap:
        return f"{what} {absolute}: {where} the spread"
    return (f"{what} {gap[f'{name}_ratio'][-1]:.3g}x chunk 64's (geometric mean of the ratio; "
            f"seed spread x/÷ {gap[f'{name}_ratio_spread'][-1]:.3g}: {where} it; higher on "
            f"{gap[f'{name}_worse']} of {gap['seeds']} seeds), difference {absolute}")


def finding(summary: dict) -> str:
    """Does chunk 1 lose against chunk 64 by more than the seed spread, seed by seed, at the
    end of the budget (``beyond_spread``)?"""
    c64, c1, gap = summary["fp8"], summary["fp8-chunk1"], summary["gap"]
    parts = [_metric_finding(gap, name, what, c64[name][-1]) for name, what in METRICS.items()]
    return (f"After the budget of {len(c1['loss'])} epochs chunk 1 {verdict(gap)} against "
            "chunk 64, seed by seed "
            f"over {gap['seeds']} seed(s): " + "; ".join(parts) + ". Test error: chunk 64 "
            f"{c64['test_mse']:.4g} ± {c64['test_std']:.2g}, chunk 1 {c1['test_mse']:.4g} ± "
            f"{c1['test_std']:.2g}, float32 {summary['fp32']['test_mse']:.4g} ± "
            f"{summary['fp32']['test_std']:.2g}.")


#: Seeds of the full setting: the final losses of different seeds differ by up to 10x, and three
#: of them (0-2) had chunk 1 losing beyond the spread in test error where six did not.
SEEDS = 6


def run(quick: bool, out_dir: Path, *, seeds: int = SEEDS, jobs: int = 2,
        command: str = "fp8forge experiment chunking") -> dict:
    s = setup(quick)
    runs = run_grid([s], RECIPE_NAMES, list(range(1 if quick else seeds)), jobs=jobs,
                    log=lambda line: print(line, file=sys.stderr, flush=True))
    result = {"setup": s.__dict__, "k": reduction_length(s), "runs": runs}
    write(result, out_dir, command)  # adds the summary
    return result


def write(result: dict, out_dir: Path, command: str) -> None:
    """chunking.json, chunking.md and chunking.png of a result (the summary recomputed from
    its runs, so a stored result can be reported again: ``rewrite``)."""
    s = Setup(**result["setup"])
    summary = result["summary"] = summarise(result["runs"])
    k = result["k"]
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write(out_dir / "chunking.json", json.dumps(result, indent=1))
    loss_curves({LABELS[n]: (summary[n]["loss"], summary[n]["loss_std"]) for n in RECIPE_NAMES},
                out_dir / "chunking.png",
                title=f"dense regression, every gradient a reduction of K = {k:,}")
    epochs = range(1, s.epochs + 1)
    rows = [[LABELS[n], *(f"{m:.4g} ± {d:.2g}" for m, d in
                          zip(summary[n]["loss"], summary[n]["loss_std"], strict=True)),
             f"{summary[n]['test_mse']:.4g} ± {summary[n]['test_std']:.2g}"]
            for n in RECIPE_NAMES]
    seeds_run = len(result["runs"]) // len(RECIPE_NAMES)
    md = [f"# Chunk-based accumulation in training\n\nProduced by `{command}`.\n", METHOD, "",
          f"Setup: {s.epochs} epochs of {(s.train_limit or 4000) // s.batch} steps at a constant "
          f"learning rate {s.lr}, batch {s.batch}, momentum {s.momentum}, L2 {s.l2}; "
          f"{seeds_run} seed(s).", "",
          "Training loss after each epoch (mean ± sample std over seeds) and the final test "
          "error:", "",
          table(["recipe", *(f"epoch {e}" for e in epochs), "test MSE"], rows), "",
          "Test error after each epoch (mean ± sample std over seeds):", "",
          table(["recipe", *(f"epoch {e}" for e in epochs)],
                [[LABELS[n], *(f"{m:.4g} ± {d:.2g}" for m, d in
                               zip(summary[n]["test"], summary[n]["test_epoch_std"],
                                   strict=True))] for n in RECIPE_NAMES]), "",
          finding(summary), "", "![training loss](chunking.png)", ""]
    atomic_write(out_dir / "chunking.md", "\n".join(md))


def rewrite(out_dir: Path, command: str = "fp8forge experiment chunking") -> None:
    """Write the report again from ``out_dir/chunking.json`` (no training)."""
    write(json.loads((out_dir / "chunking.json").read_text()), out_dir, command)
