"""A small NumPy network library whose GEMMs and updates go through an ``Arith`` recipe.

Layers keep float32 activations between GEMMs (bias additions, ReLU, softmax and im2col/col2im
are not GEMMs and run in float32, as the paper runs them in higher precision); every GEMM —
forward, backward-data and weight-gradient — is ``arith.matmul``, every bias gradient (a sum
over the batch and positions) ``arith.reduce_rows``, every parameter update ``arith.update``.
A layer built with ``wide=True`` is one the recipe keeps in 16 bits.
"""

from __future__ import annotations

import numpy as np

from .recipes import Arith


class Param:
    """A parameter as the recipe stores it, its momentum, and the last (loss-scaled) gradient."""

    def __init__(self, arith: Arith, value: np.ndarray):
        self.arith = arith
        self.stored = arith.store(value)
        self.momentum = arith.store(np.zeros_like(value))
        self.grad: np.ndarray | None = None

    @property
    def value(self) -> np.ndarray:
        return self.arith.value(self.stored)

    def step(self, lr: float, momentum: float, l2: float) -> None:
        assert self.grad is not None, "backward() before step()"
        self.stored, self.momentum = self.arith.update(self.stored, self.momentum, self.grad,
                                                       lr, momentum, l2)


class Dense:
    """``y = x @ W + b`` for x of shape (batch, fin)."""

    def __init__(self, arith: Arith, rng: np.random.Generator, fin: int, fout: int, *,
                 wide: bool = False):
        self.arith, self.wide = arith, wide
        self.w = Param(arith, rng.standard_normal((fin, fout)) * np.sqrt(2.0 / fin))
        self.b = Param(arith, np.zeros(fout))
        self.x: np.ndarray | None = None

    @property
    def params(self) -> list[Param]:
        return [self.w, self.b]

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        return self.arith.matmul(x, self.w.value, "fwd", self.wide) + self.b.value

    def backward(self, dy: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        assert self.x is not None
        self.w.grad = self.arith.matmul(self.x.T, dy, "wgrad", self.wide)
        self.b.grad = self.arith.reduce_rows(dy, self.wide)
        return self.arith.matmul(dy, self.w.value.T, "dgrad", self.wide) if need_dx else None


class Conv1d:
    """1-D convolution (batch, cin, length) -> (batch, cout, out_length) by im2col."""

    def __init__(self, arith: Arith, rng: np.random.Generator, cin: int, cout: int, kernel: int,
                 stride: int = 1, padding: int = 0, *, wide: bool = False):
        self.arith, self.wide = arith, wide
        self.kernel, self.stride, self.padding = kernel, stride, padding
        fan_in = cin * kernel
        self.w = Param(arith, rng.standard_normal((fan_in, cout)) * np.sqrt(2.0 / fan_in))
        self.b = Param(arith, np.zeros(cout))
        self.cols: np.ndarray | None = None
        self.shape: tuple[int, int, int] = (0, 0, 0)

    @property
    def params(self) -> list[Param]:
        return [self.w, self.b]

    def _index(self, length: int) -> np.ndarray:
        out_len = (length + 2 * self.padding - self.kernel) // self.stride + 1
        return np.arange(out_len)[:, None] * self.stride + np.arange(self.kernel)[None, :]

    def forward(self, x: np.ndarray) -> np.ndarray:
        batch, cin, length = x.shape
        self.shape = x.shape
        xp = np.pad(x, ((0, 0), (0, 0), (self.padding, self.padding)))
        idx = self._index(length)  # (P, k)
        # cols[b, p, c, k] = xp[b, c, idx[p, k]] -> rows (b, p), columns (c, k)
        cols = xp[:, :, idx].transpose(0, 2, 1, 3).reshape(batch * idx.shape[0], cin * self.kernel)
        self.cols = cols
        y = self.arith.matmul(cols, self.w.value, "fwd", self.wide) + self.b.value
        return y.reshape(batch, idx.shape[0], -1).transpose(0, 2, 1)

    def backward(self, dy: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        assert self.cols is not None
        batch, cin, length = self.shape
        out_len = dy.shape[2]
        dy2 = np.ascontiguousarray(dy.transpose(0, 2, 1)).reshape(batch * out_len, -1)
        self.w.grad = self.arith.matmul(self.cols.T, dy2, "wgrad", self.wide)
        self.b.grad = self.arith.reduce_rows(dy2, self.wide)
        if not need_dx:
            return None
        dcols = self.arith.matmul(dy2, self.w.value.T, "dgrad", self.wide)
        dcols = dcols.reshape(batch, out_len, cin, self.kernel)
        dxp = np.zeros((batch, cin, length + 2 * self.padding), np.float32)
        idx = self._index(length)
        for k in range(self.kernel):  # col2im: a float32 scatter-add, not a GEMM
            np.add.at(dxp, (slice(None), slice(None), idx[:, k]),  # type: ignore[arg-type]
                      dcols[:, :, :, k].transpose(0, 2, 1))
        return dxp[:, :, self.padding:self.padding + length]


class ReLU:
    params: list[Param] = []

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.mask = x > 0
        return np.where(self.mask, x, np.float32(0))

    def backward(self, dy: np.ndarray, need_dx: bool = True) -> np.ndarray:
        return np.where(self.mask, dy, np.float32(0))


class Flatten:
    params: list[Param] = []

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dy: np.ndarray, need_dx: bool = True) -> np.ndarray:
        return dy.reshape(self.shape)


class Sequential:
    def __init__(self, layers: list):
        self.layers = layers

    @property
    def params(self) -> list[Param]:
        return [p for layer in self.layers for p in layer.params]

    def forward(self, x: np.ndarray) -> np.ndarray:
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dy: np.ndarray) -> None:
        for i, layer in reversed(list(enumerate(self.layers))):
            dy = layer.backward(dy, need_dx=i > 0)

    def step(self, lr: float, momentum: float, l2: float) -> None:
        for p in self.params:
            p.step(lr, momentum, l2)

    def gradients_finite(self) -> bool:
        """No weight or bias gradient overflowed (loss scaling skips the step otherwise)."""
        return all(p.grad is not None and bool(np.isfinite(p.grad).all()) for p in self.params)


def softmax_xent(logits: np.ndarray, labels: np.ndarray, scale: float) -> tuple[float, np.ndarray]:
    """Mean cross-entropy and its gradient w.r.t. the logits, multiplied by ``scale``."""
    z = logits.astype(np.float64) - logits.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    n = len(labels)
    loss = float(-np.log(np.maximum(p[np.arange(n), labels], 1e-30)).mean())
    p[np.arange(n), labels] -= 1
    return loss, (p * (scale / n)).astype(np.float32)


def mse(out: np.ndarray, target: np.ndarray, scale: float) -> tuple[float, np.ndarray]:
    """Mean squared error over every element and its gradient w.r.t. ``out``, multiplied by
    ``scale``: dense, every output carries an error."""
    err = out.astype(np.float64) - target
    return float((err ** 2).mean()), (err * (2 * scale / err.size)).astype(np.float32)


def mlp(arith: Arith, rng: np.random.Generator, sizes: list[int]) -> Sequential:
    """Dense layers with ReLU between; the first and the last are the recipe's wide layers."""
    layers: list = []
    for i, (fin, fout) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(Dense(arith, rng, fin, fout, wide=i in (0, len(sizes) - 2)))
        if i < len(sizes) - 2:
            layers.append(ReLU())
    return Sequential(layers)


def cnn1d(arith: Arith, rng: np.random.Generator, length: int, classes: int) -> Sequential:
    """A small 1-D CNN for MNIST-1D: conv5x16 - conv3x32/2 - conv3x32/2 - fc."""
    out_len = (length // 2) // 2
    return Sequential([
        Conv1d(arith, rng, 1, 16, 5, 1, 2, wide=True), ReLU(),
        Conv1d(arith, rng, 16, 32, 3, 2, 1), ReLU(),
        Conv1d(arith, rng, 32, 32, 3, 2, 1), ReLU(),
        Flatten(), Dense(arith, rng, 32 * out_len, classes, wide=True),
    ])


def fcn1d(arith: Arith, rng: np.random.Generator, width: int = 16) -> Sequential:
    """A fully convolutional 1-D net, signal to signal of the same length: conv5x``width`` -
    conv5x``width`` - conv5x1 (the first and last layer wide). Every weight and bias gradient
    is a reduction over batch x length."""
    return Sequential([
        Conv1d(arith, rng, 1, width, 5, 1, 2, wide=True), ReLU(),
        Conv1d(arith, rng, width, width, 5, 1, 2), ReLU(),
        Conv1d(arith, rng, width, 1, 5, 1, 2, wide=True),
    ])
