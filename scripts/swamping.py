"""The worked example of ``make demo``: swamping in a long e5m2 dot product and its cure.

An e5m2 dot product of length 4096 is accumulated in e6m9 sequentially (chunk 1) and with chunk
64, and compared with float64 accumulation of the same (exact) products.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fp8forge.golden import PRESETS, decode, gemm, quantize
from fp8forge.table import render


@dataclass(frozen=True)
class SwampingResult:
    length: int
    reference: float  # float64 sum of the exact products
    sums: dict[str, float]  # label -> result in e6m9

    def table(self) -> str:
        rows = [["float64 (reference)", f"{self.reference:.6g}", "0"]]
        for label, value in self.sums.items():
            rel = abs(value - self.reference) / abs(self.reference)
            rows.append([label, f"{value:.6g}", f"{rel:.3%}"])
        return render(["accumulation", "result", "relative error"], rows)


def swamping_example(length: int = 4096, seed: int = 0) -> SwampingResult:
    """Positive e5m2 operands (as after a ReLU) so the sum grows and swamping shows."""
    rng = np.random.default_rng(seed)
    e5m2, e6m9 = PRESETS["e5m2"], PRESETS["e6m9"]
    a = quantize(np.abs(rng.standard_normal((1, length))), e5m2)
    b = quantize(np.abs(rng.standard_normal((length, 1))), e5m2)
    reference = float((decode(a, e5m2) @ decode(b, e5m2))[0, 0])
    sums = {}
    for label, chunk in [("e6m9, chunk 1 (sequential)", 1), ("e6m9, chunk 64", 64)]:
        bits = gemm(a, b, e5m2, e6m9, chunk=chunk)
        sums[label] = float(decode(bits, e6m9)[0, 0])
    return SwampingResult(length=length, reference=reference, sums=sums)
