"""``fp8forge experiment gradients``: how faithful FP8 weight gradients are, chunk 1 vs 64.

What it measures and why: ``METHOD`` below (also the report's introduction).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from fp8forge.files import atomic_write
from fp8forge.golden import decode, gemm, quantize

from .datasets import mnist1d
from .nn import Conv1d, Sequential, cnn1d, softmax_xent
from .plots import lines
from .recipes import RECIPES, Arith, Recipe
from .report import table

#: What the experiment measures and why: the report's introduction (a constant, not the
#: docstring, so it survives ``python -OO``).
METHOD = """\
A weight gradient is the longest reduction of training: for a convolution it sums over
K = batch x output positions. The experiment takes the 1-D CNN of the training experiment on
MNIST-1D after one epoch of float32 training, and computes the weight gradient of its second
convolution (16 -> 32 channels, 20 output positions, an e5m2 layer of the FP8 recipe) for
growing batches, in two tasks:

- classification: cross-entropy on the MNIST-1D labels (errors concentrated on the few
  misclassified samples and classes);
- regression: mean squared error against the outputs of a fixed random teacher CNN of the
  same shape (every output has an error: dense, same-signed sums).

Each gradient is the FP8 recipe's wgrad GEMM (e5m2 operands after loss scaling, e6m9
accumulation, the result rounded to e5m2), with chunk 64 (the paper) and chunk 1 (no
chunking), against the exact float64 product of the same e5m2 operands, so only accumulation
and the final rounding differ. Reported: the norm ratio |g| / |exact| (below 1: small
addends swamped) and the cosine between g and exact, mean over the seeds.
"""

#: Batch sizes (K = 20 x batch for the measured layer; 4000 is the whole training set).
FULL_BATCHES = [16, 64, 256, 1024, 4000]
QUICK_BATCHES = [16, 4000]
LAYER = 2  # the second Conv1d of cnn1d (index in Sequential.layers)


def _fp32() -> Arith:
    return Arith(RECIPES["fp32"], np.random.default_rng(0))


def _trained_student(task: str, seed: int) -> tuple[Sequential, Sequential | None]:
    """The CNN after one float32 epoch on ``task`` (and the regression's teacher)."""
    data = mnist1d()
    rng = np.random.default_rng(seed)
    outputs = data.classes
    model = cnn1d(_fp32(), rng, data.x.shape[2], outputs)
    teacher = cnn1d(_fp32(), np.random.default_rng(1000 + seed), data.x.shape[2], outputs) \
        if task == "regression" else None
    order = rng.permutation(len(data.x))
    for start in range(0, len(order), 64):
        idx = order[start:start + 64]
        _, dy = _loss_grad(model, teacher, data.x[idx], data.y[idx], scale=1.0)
        model.backward(dy)
        model.step(0.05, 0.9, 0.0)
    return model, teacher


def _loss_grad(model: Sequential, teacher: Sequential | None, x: np.ndarray, labels: np.ndarray,
               scale: float) -> tuple[float, np.ndarray]:
    out = model.forward(x)
    if teacher is None:
        return softmax_xent(out, labels, scale)
    target = teacher.forward(x)
    err = (out - target).astype(np.float64)
    loss = float((err ** 2).mean())
    return loss, (2 * err * (scale / err.size)).astype(np.float32)


def layer_operands(model: Sequential, teacher: Sequential | None, x: np.ndarray,
                   labels: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """(im2col columns, loss-scaled output gradient) of ``LAYER``: the wgrad GEMM's operands,
    shapes (K, cin x kernel) and (K, cout)."""
    _, dy = _loss_grad(model, teacher, x, labels, scale)
    layer = model.layers[LAYER]
    assert isinstance(layer, Conv1d)
    captured: dict = {}
    original = layer.backward

    def capture(d, need_dx=True):
        captured["dy"] = d
        return original(d, need_dx)

    layer.backward = capture  # type: ignore[method-assign]
    try:
        model.backward(dy)
    finally:
        del layer.backward
    d = captured["dy"]
    assert layer.cols is not None
    dy2 = np.ascontiguousarray(d.transpose(0, 2, 1)).reshape(-1, d.shape[1])
    return layer.cols, dy2


def fidelity(cols: np.ndarray, dy2: np.ndarray, recipe: Recipe) -> tuple[float, float]:
    """(norm ratio, cosine) of the recipe's wgrad GEMM against the exact product of the same
    operands in the recipe's input format."""
    fmt = recipe.in_fmt
    assert fmt is not None
    a = quantize(np.ascontiguousarray(cols.T, np.float32), fmt)
    b = quantize(np.ascontiguousarray(dy2, np.float32), fmt)
    out_fmt = recipe.grad_fmt or recipe.acc_fmt
    got = decode(gemm(a, b, fmt, recipe.acc_fmt, chunk=recipe.chunk, out_fmt=out_fmt),
                 out_fmt).ravel()
    exact = (decode(a, fmt) @ decode(b, fmt)).ravel()
    norm = float(np.linalg.norm(exact))
    return (float(np.linalg.norm(got)) / norm,
            float(got @ exact) / (float(np.linalg.norm(got)) * norm))


def measure(task: str, batches: list[int], seeds: list[int], progress=print) -> dict:
    """{chunk label: {"norm": [mean per batch], "cosine": [...]}} for ``task``."""
    data = mnist1d()
    recipe = RECIPES["fp8"]
    recipes = {"chunk 64": recipe, "chunk 1": replace(recipe, chunk=1)}
    scale = recipe.loss_scale
    per: dict = {label: {"norm": [], "cosine": []} for label in recipes}
    students = {seed: _trained_student(task, seed) for seed in seeds}
    for batch in batches:
        progress(f"gradients: {task}, batch {batch}")
        values: dict = {label: ([], []) for label in recipes}
        for seed in seeds:
            model, teacher = students[seed]
            rng = np.random.default_rng(seed + 1)
            idx = rng.choice(len(data.x), batch, replace=False)
            cols, dy2 = layer_operands(model, teacher, data.x[idx], data.y[idx], scale)
            for label, r in recipes.items():
                norm, cosine = fidelity(cols, dy2, r)
                values[label][0].append(norm)
                values[label][1].append(cosine)
        for label, (norms, cosines) in values.items():
            per[label]["norm"].append(float(np.mean(norms)))
            per[label]["cosine"].append(float(np.mean(cosines)))
    return per


def run(quick: bool, out_dir: Path, *, progress=print,
        command: str = "fp8forge experiment gradients") -> dict:
    batches = QUICK_BATCHES if quick else FULL_BATCHES
    seeds = [0] if quick else [0, 1, 2]
    positions = 20  # output positions of LAYER for MNIST-1D's length 40
    ks = [b * positions for b in batches]
    tasks = {task: measure(task, batches, seeds, progress)
             for task in ("classification", "regression")}
    result = {"batches": batches, "k": ks, "seeds": seeds, "tasks": tasks}
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write(out_dir / "gradients.json", json.dumps(result, indent=1))
    styles: dict[str, dict] = {}
    series: dict[str, tuple[list, list]] = {}
    for task, dashes in (("classification", "--"), ("regression", "-")):
        for label, per in tasks[task].items():
            name = f"{task}, {label}"
            series[name] = (ks, per["norm"])
            styles[name] = {"ls": dashes, "marker": "o", "ms": 3}
    lines(series, out_dir / "gradients-norm.png", styles=styles, logy=False,
          title="weight gradient of an e5m2 conv layer: |g| / |exact|",
          xlabel="K = batch x positions", ylabel="norm ratio")
    rows = []
    for task, by_label in tasks.items():
        for label, per in by_label.items():
            rows.append([task, label, *(f"{n:.3f} / {c:.4f}"
                                        for n, c in zip(per["norm"], per["cosine"],
                                                        strict=True))])
    md = [f"# Gradient fidelity: chunk 1 vs chunk 64\n\nProduced by `{command}`.\n",
          METHOD.strip(), "",
          f"Norm ratio / cosine against exact, mean over {len(seeds)} seed(s), by K:", "",
          table(["task", "accumulation", *(f"K = {k:,}" for k in ks)], rows), "",
          "![norm ratio](gradients-norm.png)", ""]
    atomic_write(out_dir / "gradients.md", "\n".join(md))
    return result
