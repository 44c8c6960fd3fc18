"""The paper's design point has one home, ``golden/design.py``: changing it there (here chunk
64 -> 32 and 12 -> 16 SR bits, patched before anything else reads it) changes every default
that names it, in the generators, the CLI, the comparison rows, the projection, the sweeps and
the experiments."""

from __future__ import annotations

import subprocess
import sys
import textwrap

CHECK = textwrap.dedent('''
    from dataclasses import replace
    import fp8forge.golden.design as design

    design.DEFAULT_RBITS = 16
    design.PAPER = replace(design.PAPER, chunk=32, rbits=design.DEFAULT_RBITS)

    from fp8forge.experiments.recipes import RECIPES
    from fp8forge.golden import Rounding
    from fp8forge.hdl.arith import FpFma
    from fp8forge.hdl.generate import UnitOptions
    from fp8forge.scripts import compare
    from fp8forge.scripts.cli import build_parser
    from fp8forge.scripts.project import DesignPoint
    from fp8forge.scripts.rowkeys import label
    from fp8forge.scripts.sweep import SweepPoint

    labels = {label(key) for key in compare.CONFIGS}
    checks = {
        "generator default": UnitOptions().chunk == 32 and UnitOptions().rbits == 16,
        "FpFma default rbits": FpFma(design.PAPER.update_fmt, rounding=Rounding.SR).rbits == 16,
        "CLI default": (lambda a: (a.chunk, a.rbits))(
            build_parser().parse_args(["generate", "macpe", "-o", "x"])) == (32, 16),
        "comparison rows": {"PE e5m2->e6m9 chunk 32", "AXPY lane e6m9 SR 16b"} <= labels
        and "PE e5m2->e6m9 chunk 64" not in labels,
        "projection": DesignPoint().chunk == 32,
        "sweep point": SweepPoint().chunk == 32 and SweepPoint().rbits == 16,
        "recipe": RECIPES["fp8"].chunk == 32 and RECIPES["fp8"].rbits == 16
        and "chunk-32" in RECIPES["fp8"].describe,
    }
    failed = [name for name, ok in checks.items() if not ok]
    print("FAILED:", failed if failed else "none")
''')


def test_design_point_is_one_edit():
    proc = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "FAILED: none"
