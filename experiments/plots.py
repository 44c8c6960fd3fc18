"""PNG figures of the experiments (matplotlib figures without pyplot: ``fp8forge.plotting``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fp8forge.plotting import save as _save
from fp8forge.plotting import subplots


def training_curves(runs: list[dict], dataset: str, path: Path) -> None:
    """Test accuracy and training loss per epoch: mean over seeds, band = min..max."""
    fig, (ax_acc, ax_loss) = subplots(1, 2, figsize=(11, 4))
    for recipe in dict.fromkeys(r["recipe"] for r in runs):
        mine = [r for r in runs if r["recipe"] == recipe]
        for ax, key in ((ax_acc, "accuracy"), (ax_loss, "loss")):
            curves = np.array([r[key] for r in mine])
            epochs = np.arange(1, curves.shape[1] + 1)
            (line,) = ax.plot(epochs, curves.mean(0), label=f"{recipe} ({len(mine)} seeds)")
            ax.fill_between(epochs, curves.min(0), curves.max(0), alpha=0.15,
                            color=line.get_color())
    ax_acc.set_ylabel("test accuracy")
    ax_loss.set_ylabel("training loss")
    ax_loss.set_yscale("log")
    for ax in (ax_acc, ax_loss):
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    ax_acc.legend(fontsize=8)
    fig.suptitle(f"{dataset}: training on the golden arithmetic")
    _save(fig, path)


def lines(series: dict[str, tuple[list, list]], path: Path, *, title: str, xlabel: str,
          ylabel: str, logx: bool = True, logy: bool = True, styles: dict | None = None) -> None:
    """One line per label: ``series[label] = (x, y)``."""
    fig, ax = subplots(figsize=(7, 4.5))
    for label, (x, y) in series.items():
        ax.plot(x, y, **(styles or {}).get(label, {"marker": "o", "ms": 3}), label=label)
    if logx:
        ax.set_xscale("log", base=2)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    _save(fig, path)


def lr_sweep(series: dict[str, tuple[list, list, list, list]], path: Path) -> None:
    """Left: final test accuracy against the learning rate (mean, error bar = sample std);
    right: the median update in ulps of e6m9, with RNE's threshold (1/2) and SR's floor."""
    fig, (ax_acc, ax_ulp) = subplots(1, 2, figsize=(11, 4))
    for label, (lrs, means, stds, ulps) in series.items():
        (line,) = ax_acc.plot(lrs, means, marker="o", ms=3, label=label)
        ax_acc.errorbar(lrs, means, yerr=stds, fmt="none", color=line.get_color(), capsize=3)
        ax_ulp.plot(lrs, ulps, marker="o", ms=3, color=line.get_color(), label=label)
    ax_ulp.axhline(0.5, color="k", ls="--", lw=1, label="1/2 ulp: RNE loses smaller updates")
    ax_ulp.axhline(2.0 ** -12, color="k", ls=":", lw=1, label="2^-12 ulp: SR's floor")
    ax_acc.set_ylabel("final test accuracy")
    ax_ulp.set_ylabel("median |update| / ulp(weight), e6m9")
    ax_ulp.set_yscale("log", base=2)
    for ax in (ax_acc, ax_ulp):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("learning rate (constant)")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    fig.suptitle("weight updates in e6m9: stochastic vs nearest rounding")
    _save(fig, path)


def loss_curves(series: dict[str, tuple[list, list]], path: Path, *, title: str) -> None:
    """Training loss per epoch: mean over seeds, band = mean ± sample std."""
    fig, ax = subplots(figsize=(7, 4.5))
    for label, (means, stds) in series.items():
        epochs = np.arange(1, len(means) + 1)
        mean, std = np.asarray(means), np.asarray(stds)
        (line,) = ax.plot(epochs, mean, marker="o", ms=3, label=label)
        ax.fill_between(epochs, mean - std, mean + std, alpha=0.2, color=line.get_color())
    ax.set_yscale("log")
    ax.set_xticks(np.arange(1, max(len(m) for m, _ in series.values()) + 1))
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss (mean squared error)")
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    _save(fig, path)
