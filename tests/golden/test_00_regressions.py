"""Every vector that ever failed, replayed first (file name sorts first) against the oracle.

Add a row whenever a bug is found: (operation, format name, mode, operands, rand, rbits, note).
"""

from __future__ import annotations

import numpy as np
import pytest

from fp8forge.golden import PRESETS, Rounding, add, fma, mul

from . import oracle

REGRESSIONS = [
    # Without subnormals, y = min_normal plus a tiny negative product rounds (RNE) back up to
    # min_normal from below emin: the carry from exponent step -1 was clipped (gave 2*min_normal).
    ("fma", "dlfloat16", Rounding.RNE, (0x11FF, 0x8DE7, 0x0200), 0, 0, "ftz carry into emin"),
]

_OPS = {
    "add": (add, lambda ops, f, m, r, rb: oracle.add(*ops, f, m, r, rb)),
    "mul": (lambda a, b, f, m, **kw: mul(a, b, f, f, m, **kw),
            lambda ops, f, m, r, rb: oracle.mul(*ops, f, f, m, r, rb)),
    "fma": (fma, lambda ops, f, m, r, rb: oracle.fma(*ops, f, m, r, rb)),
}


@pytest.mark.parametrize("op, name, mode, operands, rand, rbits, note", REGRESSIONS,
                         ids=[row[-1] for row in REGRESSIONS])
def test_regression(op, name, mode, operands, rand, rbits, note):
    fmt = PRESETS[name]
    golden, reference = _OPS[op]
    kwargs = {"rand": np.array(rand), "rbits": rbits} if mode is Rounding.SR else {}
    got = int(golden(*(np.array(v, dtype=np.uint64) for v in operands), fmt, mode, **kwargs))
    assert got == reference(operands, fmt, mode, rand, rbits), note
