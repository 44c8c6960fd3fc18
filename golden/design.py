"""The paper's design point and the baseline it is compared with, in one place.

Wang et al. (NeurIPS 2018): e5m2 GEMM operands, products accumulated in e6m9 with chunk-based
accumulation (chunk 64), e6m9 weight updates with stochastic rounding. The baseline is the
fp16 x fp16 -> fp32 datapath of the hardware of its day, accumulating without chunks, with
fp32 round-to-nearest updates. Every default of the generators, the CLI, the experiments and
the projection that names one of these choices reads it from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from .formats import PRESETS, FloatFormat, Rounding

__all__ = ["BASELINE", "DEFAULT_RBITS", "PAPER", "Datapath"]

#: Random bits per stochastic rounding: the bias of SR with r bits is below 2**-r ulp, far
#: under the other error terms at 12, and it keeps the LFSR narrow (docs/decisions.md).
DEFAULT_RBITS = 12


@dataclass(frozen=True)
class Datapath:
    """A training datapath: GEMM operand and accumulator formats, the chunk length (None: no
    chunking), and the weight-update format, rounding and SR random bits."""

    in_fmt: FloatFormat
    acc_fmt: FloatFormat
    chunk: int | None
    update_fmt: FloatFormat
    update_rounding: Rounding
    rbits: int = DEFAULT_RBITS


#: The paper's FP8 datapath.
PAPER = Datapath(PRESETS["e5m2"], PRESETS["e6m9"], 64, PRESETS["e6m9"], Rounding.SR)
#: The baseline: fp16 operands, fp32 accumulation without chunks, fp32 RNE updates.
BASELINE = Datapath(PRESETS["fp16"], PRESETS["fp32"], None, PRESETS["fp32"], Rounding.RNE)
