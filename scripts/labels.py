"""Row labels of ``synth --compare``: one definition, used by ``compare`` to name its rows and
by ``project`` and ``demo`` to find them in ``compare.json``.

The FP8 rows are the paper's datapath and the baseline rows the fair baseline of
``golden.design`` (formats by name); a label is the join key, so it is built here only.
"""

from __future__ import annotations

from fp8forge.golden.design import BASELINE, PAPER

_FP8 = f"{PAPER.in_fmt.name}->{PAPER.acc_fmt.name}"
_BASE = f"{BASELINE.in_fmt.name}->{BASELINE.acc_fmt.name} (baseline)"

#: Every FP8 PE row starts so (then "chunk N", "no chunking" and variants).
FP8_PE_PREFIX = f"PE {_FP8} "
#: The paper's PE with a chunk length (``.format(chunk=...)``), and without chunking.
FP8_PE = FP8_PE_PREFIX + "chunk {chunk}"
FP8_PE_CHUNK = FP8_PE.format(chunk=PAPER.chunk)
FP8_PE_NO_CHUNK = FP8_PE_PREFIX + "no chunking"
#: The fair baseline PE (one fp32 adder, no chunking).
BASE_PE = f"PE {_BASE}"
#: Whole arrays (``.format(n=side)``).
FP8_ARRAY = f"MacArray {{n}}x{{n}} {_FP8} chunk {PAPER.chunk}"
FP8_ARRAY_NO_CHUNK = f"MacArray {{n}}x{{n}} {_FP8} no chunking"
BASE_ARRAY = f"MacArray {{n}}x{{n}} {_BASE}"
#: Weight-update lanes: the paper's SR lane, the same lane rounding to nearest, the baseline.
AXPY_FP8 = f"AXPY lane {PAPER.update_fmt.name} SR {PAPER.rbits}b"
AXPY_FP8_RNE = f"AXPY lane {PAPER.update_fmt.name} RNE"
AXPY_BASE = f"AXPY lane {BASELINE.update_fmt.name} RNE (baseline)"
#: Suffixes of the pipelined and clock-gated variants of a row.
PIPELINED = ", pipelined"
GATED = ", clock-gated"

#: Standalone blocks of the two one-adder PEs (area only): the multiplier (``FpMul`` into the
#: accumulation format) and the accumulation adder (``FpAdd``, RNE).
BLOCK_MUL_FP8 = f"block: multiplier {_FP8}"
BLOCK_ADD_FP8 = f"block: adder {PAPER.acc_fmt.name}"
BLOCK_MUL_BASE = f"block: multiplier {_BASE}"
BLOCK_ADD_BASE = f"block: adder {BASELINE.acc_fmt.name} (baseline)"
