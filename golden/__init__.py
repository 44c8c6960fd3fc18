"""Bit-exact NumPy golden model of fp8forge (imports no HDL).

Contract: ``docs/contract.md`` sections 1 and 2. Every function works on integer bit patterns
and rounds exactly once from the exact result.
"""

from .accumulate import chunked_sum, gemm
from .arith import add, fma, is_exact_product, mul, quantize
from .bits import bits_dtype, decode
from .design import BASELINE, PAPER, Datapath
from .formats import PRESETS, FloatFormat, Rounding, Specials, parse_format

__all__ = [
    "BASELINE",
    "PAPER",
    "PRESETS",
    "Datapath",
    "FloatFormat",
    "Rounding",
    "Specials",
    "add",
    "bits_dtype",
    "chunked_sum",
    "decode",
    "fma",
    "gemm",
    "is_exact_product",
    "mul",
    "parse_format",
    "quantize",
]
