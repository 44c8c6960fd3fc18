"""Arithmetic recipes for training: how GEMMs and weight updates are computed.

A ``Recipe`` names the formats; ``Arith`` carries them out on float32 NumPy arrays:

- ``matmul(a, b, pass_, wide)``: quantize both operands (RNE) to the operand format (``wide_fmt``
  for the layers kept in 16 bits), run the golden ``gemm`` (products rounded into ``acc_fmt``,
  chunk-based accumulation, bit-exact to the RTL MacArray), and round the result to the operand
  format for fwd and dgrad (the next layer's input, e5m2 in the paper) or keep it in
  ``acc_fmt`` for wgrad (weight gradients feed the 16-bit update). The fp32 recipe uses float32
  ``@``.
- ``update``: SGD with momentum and L2 as the paper's three AXPYs, each one golden ``fma`` in
  ``update_fmt`` (e6m9) with stochastic (or, as an ablation, nearest) rounding: ``g = λS·w + g``,
  ``v = μ·v + g``, ``w = -(η/S)·v + w``. Gradients are loss-scaled by ``S`` (``loss_scale``);
  the scale is folded into the constants, which are themselves e6m9 numbers. The master
  weights and momenta are e6m9 bit patterns; there is no fp32 copy. SR random integers come
  from a seeded NumPy generator (the hardware's LFSR stream is a different, equally valid
  source; the golden model takes them as inputs either way).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from fp8forge.golden import FloatFormat, Rounding, decode, fma, gemm, quantize
from fp8forge.golden.design import PAPER


@dataclass(frozen=True)
class Recipe:
    """Formats of one training run. ``in_fmt=None`` means fp32 everywhere."""

    name: str
    in_fmt: FloatFormat | None = PAPER.in_fmt
    acc_fmt: FloatFormat = PAPER.acc_fmt
    chunk: int | None = PAPER.chunk
    wide_fmt: FloatFormat | None = PAPER.acc_fmt  # first and last layer; None: as in_fmt
    update_rounding: Rounding | None = PAPER.update_rounding  # None: fp32 update
    update_fmt: FloatFormat = PAPER.update_fmt
    rbits: int = PAPER.rbits
    loss_scale: float = 1024.0
    describe: str = ""


RECIPES: dict[str, Recipe] = {
    "fp32": Recipe("fp32", in_fmt=None, update_rounding=None, loss_scale=1.0,
                   describe="float32 GEMMs and updates (baseline)"),
    "fp8": Recipe("fp8", describe="the paper's recipe: e5m2 GEMMs, e6m9 chunk-64 accumulation, "
                  "e6m9 SR updates, first/last layer in e6m9"),
    "fp8-chunk1": Recipe("fp8-chunk1", chunk=1, describe="ablation: no chunking (chunk 1)"),
    "fp8-rne-update": Recipe("fp8-rne-update", update_rounding=Rounding.RNE,
                             describe="ablation: RNE instead of SR in the e6m9 updates"),
    "fp8-all-layers": Recipe("fp8-all-layers", wide_fmt=None,
                             describe="ablation: e5m2 also in the first and last layer"),
}


class Arith:
    """Carries out a recipe's GEMMs and updates; ``rng`` feeds stochastic rounding."""

    def __init__(self, recipe: Recipe, rng: np.random.Generator):
        self.recipe = recipe
        self.rng = rng

    @property
    def exact_fp32(self) -> bool:
        return self.recipe.in_fmt is None

    def matmul(self, a: np.ndarray, b: np.ndarray, pass_: str, wide: bool) -> np.ndarray:
        r = self.recipe
        if r.in_fmt is None:
            return (a.astype(np.float32) @ b.astype(np.float32)).astype(np.float32)
        fmt = r.wide_fmt if wide and r.wide_fmt is not None else r.in_fmt
        out = r.acc_fmt if pass_ == "wgrad" else fmt
        bits = gemm(quantize(np.ascontiguousarray(a, np.float32), fmt),
                    quantize(np.ascontiguousarray(b, np.float32), fmt), fmt, r.acc_fmt,
                    chunk=r.chunk, out_fmt=out)
        return decode(bits, out).astype(np.float32)

    # -- parameters and their update ---------------------------------------------------------

    def store(self, w: np.ndarray) -> np.ndarray:
        """A parameter as kept between steps (float32, or update_fmt bits)."""
        if self.recipe.update_rounding is None:
            return w.astype(np.float32)
        return quantize(w.astype(np.float32), self.recipe.update_fmt)

    def value(self, stored: np.ndarray) -> np.ndarray:
        if self.recipe.update_rounding is None:
            return stored
        return decode(stored, self.recipe.update_fmt).astype(np.float32)

    def update(self, w, v, grad: np.ndarray, lr: float, momentum: float, l2: float):
        """One SGD step on stored ``w`` and momentum ``v`` with loss-scaled ``grad``; returns
        the new (w, v)."""
        r = self.recipe
        s = r.loss_scale
        if r.update_rounding is None:
            g = grad / np.float32(s) + np.float32(l2) * w
            v = np.float32(momentum) * v + g
            return (w - np.float32(lr) * v).astype(np.float32), v.astype(np.float32)
        fmt, mode = r.update_fmt, r.update_rounding
        g = quantize(grad.astype(np.float32), fmt)  # wgrad leaves the array in acc_fmt already
        g = self._fma(l2 * s, w, g, fmt, mode)
        v = self._fma(momentum, v, g, fmt, mode)
        w = self._fma(-lr / s, v, w, fmt, mode)
        return w, v

    def _fma(self, a: float, x, y, fmt: FloatFormat, mode: Rounding):
        scalar = quantize(np.float64(a), fmt)
        if mode is Rounding.SR:
            rand = self.rng.integers(0, 1 << self.recipe.rbits, size=x.shape, dtype=np.int64)
            return fma(scalar, x, y, fmt, mode, rand=rand, rbits=self.recipe.rbits)
        return fma(scalar, x, y, fmt, mode)


def with_chunk(recipe: Recipe, chunk: int | None) -> Recipe:
    return replace(recipe, chunk=chunk)
