"""``fp8forge experiment train``: small networks trained on the golden arithmetic.

Every GEMM of every training step (forward, backward-data, weight-gradient) is the golden
``gemm`` and every weight update three golden ``fma`` AXPYs (``recipes.py``), so a run trains
with exactly the numbers the RTL would produce. Models: an MLP 64-128-128-10 on scikit-learn's
digits (the middle layer in e5m2), an MLP 784-128-128-128-10 on 5,000 MNIST digits (two e5m2
middle layers; fp32, the recipe and the all-e5m2 ablation only) and a 1-D CNN on MNIST-1D
(``nn.py``). Each recipe (fp32 |
the paper's FP8 recipe | ablations) runs with the same seeds, data order and hyper-parameters:
SGD, momentum 0.9, L2 5e-4, batch 32, learning rate ``lr`` divided by 10 after half and after
three quarters of the epochs. Runs are spread over worker processes; each prints its epochs.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from fp8forge.files import atomic_write
from fp8forge.golden.design import PAPER
from fp8forge.golden.workers import reuse_freed_memory, share_cores

from .datasets import DATASETS, Dataset
from .nn import Sequential, cnn1d, fcn1d, mlp, mse, softmax_xent
from .recipes import RECIPES, Arith, Recipe


@dataclass(frozen=True)
class Setup:
    """Training hyper-parameters of one dataset (shared by every recipe and seed)."""

    dataset: str
    epochs: int
    lr: float
    batch: int = 32
    momentum: float = 0.9
    l2: float = 5e-4
    train_limit: int | None = None  # use only the first N training samples (quick runs)
    decay: bool = True  # lr divided by 10 after half and after three quarters of the epochs
    #: the recipes this setup trains (None: every one asked for); a costly setup runs fewer
    recipes: tuple[str, ...] | None = None

    def lr_at(self, epoch: int) -> float:
        if not self.decay:
            return self.lr
        return self.lr * (0.1 if epoch >= self.epochs // 2 else 1) * (
            0.1 if epoch >= 3 * self.epochs // 4 else 1)


FULL = [Setup("digits", epochs=20, lr=0.05), Setup("mnist1d", epochs=16, lr=0.05),
        # an FP8 epoch of the 784-wide MLP takes 11-15 s: the recipe, fp32 and the one ablation
        # the first layer's width makes interesting
        Setup("mnist", epochs=8, lr=0.05, recipes=("fp32", "fp8", "fp8-all-layers"))]
QUICK = [Setup("digits", epochs=3, lr=0.05, train_limit=640)]


def build_model(dataset: Dataset, arith: Arith, rng: np.random.Generator) -> Sequential:
    if dataset.name.startswith("mnist1d-signal"):  # fully convolutional: any length
        return fcn1d(arith, rng, dataset.width)
    if dataset.name == "mnist1d":
        return cnn1d(arith, rng, dataset.x.shape[-1], dataset.classes)
    if dataset.name == "mnist":  # 784 - 128 - 128 - 128 - 10: two e5m2 middle layers
        return mlp(arith, rng, [dataset.x.shape[1], 128, 128, 128, dataset.classes])
    # 64 - 128 - 128 - 10: the middle layer is the recipe's FP8 layer (first and last wide)
    return mlp(arith, rng, [dataset.x.shape[1], 128, 128, dataset.classes])


def evaluate(model: Sequential, x: np.ndarray, y: np.ndarray, batch: int = 500) -> float:
    """Test accuracy, or for a regression (float targets) the test mean squared error."""
    if y.dtype.kind == "f":
        return float(np.mean([mse(model.forward(x[i:i + batch]), y[i:i + batch], 1.0)[0]
                              for i in range(0, len(y), batch)]))
    hits = sum(int((model.forward(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum())
               for i in range(0, len(y), batch))
    return hits / len(y)


def update_to_ulp(model: Sequential, arith: Arith, lr: float) -> float:
    """Median over every weight and bias of the size of its next update, about
    ``|lr * momentum|`` (the momentum unscaled by the loss scale), in units of the weight's ulp
    in the paper's update format (e6m9): below 1/2, a round-to-nearest update leaves the weight
    unchanged; stochastic rounding applies it with the probability of that fraction (above
    2^-rbits). Measured the same way for the fp32 recipe, as the ulp it would have in e6m9."""
    fmt = PAPER.update_fmt
    ratios = []
    for p in model.params:
        w = np.abs(p.value.astype(np.float64))
        step = np.abs(lr * arith.value(p.momentum).astype(np.float64) / arith.scale.value)
        exponent = np.floor(np.log2(np.maximum(w, 2.0 ** fmt.emin)))
        ratios.append((step / 2.0 ** (exponent - fmt.man_bits)).ravel())
    return float(np.median(np.concatenate(ratios)))


def train_run(setup: Setup, recipe: Recipe, seed: int,
              log: Callable[[str], None] | None = None) -> dict:
    """Train one model; return its curves per epoch: training loss, the test metric
    (``accuracy``, or ``test_mse`` for a regression) and ``update_ulp``."""
    data = DATASETS[setup.dataset]()
    x, y = data.x, data.y
    if setup.train_limit:
        x, y = x[:setup.train_limit], y[:setup.train_limit]
    init_rng = np.random.default_rng(seed)  # same initial weights and data order per seed
    order_rng = np.random.default_rng(seed + 1000)
    arith = Arith(recipe, np.random.default_rng(seed + 2000))
    model = build_model(data, arith, init_rng)
    loss_of = mse if data.regression else softmax_xent
    metric = "test_mse" if data.regression else "accuracy"
    losses: list[float] = []
    tests: list[float] = []
    update_ulps: list[float] = []
    start = time.perf_counter()
    for epoch in range(setup.epochs):
        lr = setup.lr_at(epoch)
        perm = order_rng.permutation(len(y))
        total, steps = 0.0, 0
        for i in range(0, len(perm) - setup.batch + 1, setup.batch):
            idx = perm[i:i + setup.batch]
            loss, dout = loss_of(model.forward(x[idx]), y[idx], arith.scale.value)
            model.backward(dout)
            if arith.scale.step_ok(model.gradients_finite()):  # else skipped, scale halved
                model.step(lr, setup.momentum, setup.l2)
            total, steps = total + loss, steps + 1
        losses.append(total / steps)
        tests.append(evaluate(model, data.x_test, data.y_test))
        update_ulps.append(update_to_ulp(model, arith, lr))
        if log:
            log(f"{setup.dataset:8} {recipe.name:15} lr {lr:<8.3g} seed {seed} epoch "
                f"{epoch + 1:2}/{setup.epochs} loss {losses[-1]:.4f} "
                f"{'test MSE' if data.regression else 'test accuracy'} {tests[-1]:.4f} "
                f"({time.perf_counter() - start:.0f} s)")
    return {"dataset": setup.dataset, "recipe": recipe.name, "seed": seed, "loss": losses,
            metric: tests, "update_ulp": update_ulps, "lr": setup.lr,
            "seconds": time.perf_counter() - start,
            "skipped_steps": arith.scale.skipped, "final_loss_scale": arith.scale.value}


def _worker(args) -> dict:
    setup, recipe, seed = args
    return train_run(setup, recipe, seed, log=lambda line: print(line, flush=True))


def run_grid(setups: list[Setup], recipes: list[str], seeds: list[int], jobs: int = 2,
             log: Callable[[str], None] = print) -> list[dict]:
    """Every (setup, recipe, seed); longest first over ``jobs`` processes (never more processes
    than runs)."""
    unknown = [r for r in recipes if r not in RECIPES]
    if unknown:
        raise ValueError(f"unknown recipe {', '.join(unknown)} (known: {', '.join(RECIPES)})")
    tasks = [(s, RECIPES[r], seed) for s in sorted(setups, key=lambda s: s.dataset != "mnist1d")
             for r in recipes if s.recipes is None or r in s.recipes for seed in seeds]
    jobs = min(jobs, len(tasks))
    if jobs <= 1:
        return [train_run(*t, log=log) for t in tasks]
    # Workers are spawned, not forked: a parent that already ran the compiled golden kernels
    # (``fp8forge experiment all`` runs the accumulation experiment first) has GNU OpenMP
    # threads, and a forked child of such a process is killed by libgomp.
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=spawn, initializer=_start_worker,
                             initargs=(os.getpid(), jobs)) as pool:
        return list(pool.map(_worker, tasks))


def _start_worker(parent: int, jobs: int) -> None:
    """A worker uses its share of the cores (more BLAS and kernel threads than cores makes
    their idle threads spin against the other workers': an epoch took 5x as long), keeps
    freed memory for the next step's arrays (``golden.workers``) and ends with its parent."""
    share_cores(jobs)
    reuse_freed_memory()
    _exit_with_parent(parent)


def _exit_with_parent(parent: int) -> None:
    """A worker ends within a second of the process that started it (a parent killed by
    SIGTERM or SIGKILL gets no chance to stop its workers, which would train on for minutes)."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def over_seeds(values) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sample standard deviation over the seeds (axis 0; the spread of one seed is 0)
    of per-seed figures or per-seed curves."""
    values = np.asarray(values, dtype=np.float64)
    return values.mean(0), values.std(0, ddof=1 if len(values) > 1 else 0)


def summarise(runs: list[dict]) -> list[dict]:
    """Final test accuracy per (dataset, recipe): mean, sample std and the values."""
    out = []
    for key in dict.fromkeys((r["dataset"], r["recipe"]) for r in runs):
        finals = [r["accuracy"][-1] for r in runs if (r["dataset"], r["recipe"]) == key]
        mean, std = over_seeds(finals)
        out.append({"dataset": key[0], "recipe": key[1], "mean": float(mean), "std": float(std),
                    "finals": finals})
    return out


def report(runs: list[dict], setups: list[Setup], out_dir: Path, command: str) -> str:
    from .plots import training_curves
    from .report import table

    out_dir.mkdir(parents=True, exist_ok=True)
    summary = summarise(runs)
    fp32 = {s["dataset"]: s for s in summary if s["recipe"] == "fp32"}
    rows = []
    for s in summary:
        base = fp32.get(s["dataset"])
        delta = "" if base is None or s["recipe"] == "fp32" else f"{s['mean'] - base['mean']:+.4f}"
        rows.append([s["dataset"], s["recipe"], f"{s['mean']:.4f}", f"{s['std']:.4f}", delta,
                     " ".join(f"{v:.4f}" for v in s["finals"])])
    md = [f"# Training on the golden arithmetic\n\nProduced by `{command}`.\n",
          "Recipes:\n", *[f"- `{r}`: {RECIPES[r].describe}" for r in
                          dict.fromkeys(x["recipe"] for x in runs)],
          "", "Setups: " + "; ".join(
              f"{s.dataset}: {s.epochs} epochs, lr {s.lr} (/10 at 1/2 and 3/4), batch {s.batch}, "
              f"momentum {s.momentum}, L2 {s.l2}" + (f", first {s.train_limit} training samples"
                                                     if s.train_limit else "")
              for s in setups), "",
          "Final test accuracy over seeds (mean, sample std, difference of the mean to fp32):",
          "", table(["dataset", "recipe", "mean", "std", "vs fp32", "per seed"], rows), ""]
    for setup in setups:
        png = out_dir / f"train-{setup.dataset}.png"
        training_curves([r for r in runs if r["dataset"] == setup.dataset], setup.dataset, png)
        md.append(f"![{setup.dataset}]({png.name})\n")
    text = "\n".join(md)
    atomic_write(out_dir / "train.md", text)
    atomic_write(out_dir / "train.json", json.dumps(
        {"setups": [asdict(s) for s in setups], "runs": runs, "summary": summary}, indent=1))
    return text


def run(quick: bool, out_dir: Path, *, seeds: int = 3, jobs: int = 2,
        recipes: list[str] | None = None, command: str = "fp8forge experiment train") -> str:
    setups = QUICK if quick else FULL
    recipes = recipes or list(RECIPES)
    runs = run_grid(setups, recipes, list(range(1 if quick else seeds)), jobs=jobs,
                    log=lambda line: print(line, file=sys.stderr, flush=True))
    return report(runs, setups, out_dir, command)
