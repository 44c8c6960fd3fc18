"""Arithmetic recipes for training: how GEMMs, gradient reductions and weight updates are
computed.

A ``Recipe`` names the formats; ``Arith`` carries them out on float32 NumPy arrays:

- ``matmul(a, b, pass_, wide)``: quantize both operands (RNE) to the operand format (``wide_fmt``
  for the layers kept in 16 bits), run the golden ``gemm`` (products rounded into ``acc_fmt``,
  chunk-based accumulation, bit-exact to the RTL MacArray), and round the result: fwd and dgrad
  results to the operand format (the next layer's input, e5m2 in the paper), wgrad results to
  ``grad_fmt`` (e5m2: the paper's Fig. 2 rounds weight gradients to 8 bits) or, in the wide
  layers, to ``wide_fmt``. The fp32 recipe uses float32 ``@``.
- ``reduce_rows(dy, wide)``: a bias gradient, the column sums of ``dy``, as a GEMM with a row of
  ones: the same operand format, chunked accumulation and gradient format as the weight
  gradient (in a conv layer it is the longest reduction, batch x positions).
- ``update``: SGD with momentum and L2 as the paper's three AXPYs, each one golden ``fma`` in
  ``update_fmt`` (e6m9) with stochastic (or, as an ablation, nearest) rounding: ``g = λS·w + g``,
  ``v = μ·v + g``, ``w = -(η/S)·v + w``. Gradients are loss-scaled by ``S`` (``LossScale``); the
  scale is folded into the constants, which are themselves e6m9 numbers. The master weights and
  momenta are e6m9 bit patterns; there is no fp32 copy. SR random integers come from a seeded
  NumPy generator (the hardware's LFSR stream is a different, equally valid source; the golden
  model takes them as inputs either way). With ``rbits`` random bits SR rounds up with
  probability ``floor(f * 2**rbits) / 2**rbits`` for the fraction ``f`` of an ulp below the
  result: an update smaller than ``2**-rbits`` ulp (2^-12 with the paper's 12 bits) is never
  applied.
- Loss scaling (``LossScale``): a step whose gradients overflowed (an inf or NaN in any weight or
  bias gradient) is skipped and the scale halved; after ``growth_interval`` steps without
  overflow it is doubled again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from fp8forge.golden import FloatFormat, Rounding, decode, fma, gemm, quantize
from fp8forge.golden.design import PAPER


@dataclass(frozen=True)
class Recipe:
    """Every arithmetic choice of one training run. ``in_fmt=None`` means fp32 everywhere.

    ``in_fmt``: GEMM operands of every layer but the first and last (e5m2);
    ``acc_fmt``, ``chunk``: products and chunk-based accumulation of every GEMM and gradient
    reduction (e6m9, 64); ``wide_fmt``: operands and results of the first and last layer (e6m9;
    None: ``in_fmt`` there too); ``grad_fmt``: weight and bias gradients as they leave the
    array (e5m2; None: ``acc_fmt``); ``update_fmt``, ``update_rounding``, ``rbits``: master
    weights, momenta and their AXPYs (e6m9, SR, 12 bits; ``update_rounding=None``: float32);
    ``loss_scale``, ``dynamic_scale``: the initial loss scale and whether it adapts."""

    name: str
    in_fmt: FloatFormat | None = PAPER.in_fmt
    acc_fmt: FloatFormat = PAPER.acc_fmt
    chunk: int | None = PAPER.chunk
    wide_fmt: FloatFormat | None = PAPER.acc_fmt  # first and last layer; None: as in_fmt
    grad_fmt: FloatFormat | None = PAPER.in_fmt  # None: gradients stay in acc_fmt
    update_rounding: Rounding | None = PAPER.update_rounding  # None: fp32 update
    update_fmt: FloatFormat = PAPER.update_fmt
    rbits: int = PAPER.rbits
    loss_scale: float = 1024.0
    dynamic_scale: bool = True
    describe: str = ""


RECIPES: dict[str, Recipe] = {
    "fp32": Recipe("fp32", in_fmt=None, update_rounding=None, loss_scale=1.0,
                   dynamic_scale=False, describe="float32 GEMMs and updates (baseline)"),
    "fp8": Recipe("fp8", describe=f"the paper's recipe: {PAPER.in_fmt.name} GEMM operands, "
                  f"{PAPER.acc_fmt.name} chunk-{PAPER.chunk} accumulation (weight and bias "
                  f"gradients too), gradients rounded to {PAPER.in_fmt.name}, "
                  f"{PAPER.update_fmt.name} {PAPER.update_rounding.name} updates, first/last "
                  f"layer in {PAPER.acc_fmt.name}, dynamic loss scaling"),
    "fp8-chunk1": Recipe("fp8-chunk1", chunk=1, describe="ablation: no chunking (chunk 1)"),
    "fp8-rne-update": Recipe("fp8-rne-update", update_rounding=Rounding.RNE,
                             describe="ablation: RNE instead of SR in the e6m9 updates"),
    "fp8-all-layers": Recipe("fp8-all-layers", wide_fmt=None,
                             describe="ablation: e5m2 also in the first and last layer"),
    "fp8-grad-e6m9": Recipe("fp8-grad-e6m9", grad_fmt=None,
                            describe="ablation: weight and bias gradients kept in e6m9"),
}


class LossScale:
    """Dynamic loss scaling: ``value`` multiplies the loss gradient; ``step_ok(finite)`` says
    whether a step's gradients may be applied and adapts the scale (halved on overflow, doubled
    after ``growth_interval`` clean steps, within [1, 2^24]). Static when not ``dynamic``."""

    def __init__(self, initial: float, dynamic: bool, growth_interval: int = 200):
        self.value = float(initial)
        self.dynamic = dynamic
        self.growth_interval = growth_interval
        self.clean_steps = 0
        self.skipped = 0

    def step_ok(self, finite: bool) -> bool:
        if not self.dynamic:
            return True
        if not finite:
            self.skipped += 1
            self.clean_steps = 0
            self.value = max(1.0, self.value / 2)
            return False
        self.clean_steps += 1
        if self.clean_steps >= self.growth_interval:
            self.clean_steps = 0
            self.value = min(2.0 ** 24, self.value * 2)
        return True


class Arith:
    """Carries out a recipe's GEMMs and updates; ``rng`` feeds stochastic rounding."""

    def __init__(self, recipe: Recipe, rng: np.random.Generator):
        self.recipe = recipe
        self.rng = rng
        self.scale = LossScale(recipe.loss_scale, recipe.dynamic_scale)

    @property
    def exact_fp32(self) -> bool:
        return self.recipe.in_fmt is None

    def matmul(self, a: np.ndarray, b: np.ndarray, pass_: str, wide: bool) -> np.ndarray:
        r = self.recipe
        if r.in_fmt is None:
            return (a.astype(np.float32) @ b.astype(np.float32)).astype(np.float32)
        fmt = r.wide_fmt if wide and r.wide_fmt is not None else r.in_fmt
        out = fmt
        if pass_ == "wgrad" and not (wide and r.wide_fmt is not None):
            out = r.grad_fmt or r.acc_fmt
        bits = gemm(quantize(np.ascontiguousarray(a, np.float32), fmt),
                    quantize(np.ascontiguousarray(b, np.float32), fmt), fmt, r.acc_fmt,
                    chunk=r.chunk, out_fmt=out)
        return decode(bits, out).astype(np.float32)

    def reduce_rows(self, dy: np.ndarray, wide: bool) -> np.ndarray:
        """Column sums of ``dy`` (a bias gradient) as the GEMM ``ones @ dy`` of a wgrad pass."""
        if self.exact_fp32:
            return dy.sum(axis=0, dtype=np.float32)
        return self.matmul(np.ones((1, dy.shape[0]), np.float32), dy, "wgrad", wide)[0]

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
        s = self.scale.value
        if r.update_rounding is None:
            g = grad / np.float32(s) + np.float32(l2) * w
            v = np.float32(momentum) * v + g
            return (w - np.float32(lr) * v).astype(np.float32), v.astype(np.float32)
        fmt, mode = r.update_fmt, r.update_rounding
        g = quantize(grad.astype(np.float32), fmt)  # exact: gradients leave in e5m2 or e6m9
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
