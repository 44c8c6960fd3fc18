"""``fp8forge experiment update``: small weight updates in e6m9, RNE vs SR (paper Sec. 4.2).

What it measures and why: ``METHOD`` below (also the report's introduction).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from fp8forge.files import atomic_write
from fp8forge.golden import PRESETS, Rounding, decode, fma, quantize
from fp8forge.golden.design import PAPER

from .plots import lines
from .report import table

#: What the experiment measures and why: the report's introduction (a constant, not the
#: docstring, so it survives ``python -OO``).
METHOD = """\
Weights start at ``w0 ~ U[1, 2)`` (one e6m9 binade: the ulp is 2^-9, half an ulp 2^-10) and
receive T updates ``w = w - lr * g`` with ``g ~ N(1, 1)`` (a consistent descent direction
plus noise), each one golden fused AXPY ``round(-lr * g + w)`` in

- e6m9 with RNE, e6m9 with SR (12 random bits), and fp32 with RNE,

against the exact float64 trajectory. ``lr`` sets the update size relative to the weights:
when ``lr * |g|`` is below half an e6m9 ulp of ``w``, RNE rounds every update away and the
weights never move, while SR moves each weight by a full ulp with the right probability and so
tracks the exact trajectory in expectation. The sweep varies ``lr`` from 2^-16 to 2^-4 and
reports the mean relative drift error after T steps; the trajectory plot follows one ``lr``
below the half-ulp threshold.
"""

E6M9, FP32 = PRESETS["e6m9"], PRESETS["fp32"]
RBITS = PAPER.rbits
MODES = {"e6m9 RNE": (E6M9, Rounding.RNE), "e6m9 SR": (E6M9, Rounding.SR),
         "fp32 RNE": (FP32, Rounding.RNE)}


def simulate(lr: float, steps: int, weights: int, seed: int, record: int = 0) -> dict:
    """Run every mode on the same weights and gradients.

    Returns per mode the mean relative error of the total drift ``w_T - w_0`` against the
    exact float64 drift, and (if ``record``) the mean weight at ``record`` evenly spaced steps.
    """
    rng = np.random.default_rng(seed)
    w0 = quantize(rng.uniform(1.0, 2.0, weights), E6M9)
    grads = quantize(rng.normal(1.0, 1.0, (steps, weights)), E6M9)
    start = decode(w0, E6M9)
    exact = start - lr * decode(grads, E6M9).sum(axis=0)  # float64: exact enough as reference
    checkpoints = set(np.linspace(0, steps, record + 1, dtype=int)[1:]) if record else set()
    out: dict = {"lr": lr, "exact_mean": [], "modes": {}}
    running = start.copy()
    for t in range(steps):
        running = running - lr * decode(grads[t], E6M9)
        if t + 1 in checkpoints:
            out["exact_mean"].append(float(running.mean()))
    for label, (fmt, mode) in MODES.items():
        w = quantize(start, fmt)
        a = quantize(np.float64(-lr), fmt)
        g_all = quantize(decode(grads, E6M9), fmt)
        means = []
        for t in range(steps):
            rand = rng.integers(0, 1 << RBITS, weights) if mode is Rounding.SR else None
            w = fma(a, g_all[t], w, fmt, mode, rand=rand, rbits=RBITS if rand is not None else 0)
            if t + 1 in checkpoints:
                means.append(float(decode(w, fmt).mean()))
        drift, true_drift = decode(w, fmt) - start, exact - start
        a_exact = float(decode(a, fmt))  # the lr the hardware holds, rounded into fmt
        # compare against the drift with that rounded lr, so only update rounding is measured
        true_drift = true_drift * (-a_exact / lr)
        out["modes"][label] = {
            "drift_error": float(np.abs(drift.mean() - true_drift.mean()) / abs(true_drift.mean())),
            "lost_fraction": float(np.mean(drift == 0)),
            "mean": means}
    return out


def run(quick: bool, out_dir: Path, *, seed: int = 0, progress=print,
        command: str = "fp8forge experiment update") -> dict:
    steps, weights = (200, 500) if quick else (1000, 4000)
    lrs = [2.0 ** -e for e in range(16, 3, -2 if quick else -1)]
    sweep = []
    for lr in lrs:
        progress(f"update: lr = 2^{int(math.log2(lr))}")
        sweep.append(simulate(lr, steps, weights, seed))
    threshold_lr = 2.0 ** -12  # updates ~2^-12 < half ulp (2^-10) of weights in [1, 2)
    trace = simulate(threshold_lr, steps, weights, seed, record=50)
    result = {"steps": steps, "weights": weights, "seed": seed, "sweep": sweep, "trace": trace}
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write(out_dir / "update.json", json.dumps(result, indent=1))
    lines({label: (lrs, [max(p["modes"][label]["drift_error"], 1e-9) for p in sweep])
           for label in MODES}, out_dir / "update-sweep.png",
          title=f"drift error after {steps} updates, weights in [1, 2)",
          xlabel="lr (|update| ~ lr)",
          ylabel="|mean drift - exact| / |exact|")
    xs = list(np.linspace(0, steps, 51, dtype=int)[1:])
    lines({"exact (float64)": (xs, trace["exact_mean"]),
           **{label: (xs, trace["modes"][label]["mean"]) for label in MODES}},
          out_dir / "update-trace.png", title=f"mean weight, lr = 2^-12 ({weights} weights)",
          xlabel="step", ylabel="mean weight", logx=False, logy=False)
    rows = [[f"2^{int(math.log2(p['lr']))}",
             *(f"{p['modes'][m]['drift_error']:.2e} ({p['modes'][m]['lost_fraction']:.0%})"
               for m in MODES)] for p in sweep]
    md = [f"# Weight updates: RNE vs SR\n\nProduced by `{command}`.\n",
          METHOD.strip(), "",
          f"Drift error after {steps} steps on {weights} weights (in brackets: weights that "
          "never moved):", "", table(["lr", *MODES], rows), "",
          "![sweep](update-sweep.png)", "", "![trace](update-trace.png)", ""]
    atomic_write(out_dir / "update.md", "\n".join(md))
    return result
