"""Compiled (numba) fast paths of ``gemm``, ``chunked_sum`` and ``fma``, bit-exact.

Contract: ``docs/contract.md`` section 2; the exact integer path in ``golden.arith`` and
``golden.accumulate`` defines every result and these kernels are tested against it bit for
bit. They apply to formats of at most 24 significand bits whose values, and the products of
whose inputs, are float64 numbers (every format the project uses).

Why they are exact
------------------
Every value of such a format is a float64, and so is every product of two inputs (at most
2 x 24 significand bits). One contract operation (``round(x + y)``, ``round(a * x + y)``) is
computed as:

1. ``s = fl64(x + y)`` and its error ``e = (x + y) - s`` (Knuth's TwoSum: exact, branch-free).
   The exact result is ``s + e``.
2. Where a rounding mode needs it, ``s`` becomes the *round-to-odd* image of the exact result:
   if ``e != 0`` and the last bit of ``s`` is even, ``s`` steps one float64 ulp towards the
   exact result. Rounding a round-to-odd value of precision >= p + 2 to precision p (any
   mode) equals rounding the exact value once (Boldo and Melquiond, "Emulation of FMA and
   correctly rounded sums: proved algorithms using rounding to odd", 2008); for stochastic
   rounding with ``rbits`` random bits the dropped fraction is read to ``rbits`` bits, which
   the same argument covers when 53 >= p + rbits + 2.
   RNE sums of two numbers of the accumulation format skip this step: double rounding
   through 53 bits is innocuous for a sum of two p-bit numbers when 53 >= 2p + 2 (Figueroa,
   "When is double rounding innocuous?", 1995), which holds for p <= 25.
3. The grid step ``q`` of the format at ``s`` (``2**(max(exponent(s), emin) - man_bits)``,
   built from the exponent bits, a power of two) scales ``|s|`` to an integer grid exactly;
   ``rint``, ``floor`` or ``floor + (rand < floor(frac * 2**rbits))`` rounds it, and scaling
   back is exact. Formats without subnormals flush results below ``min_normal`` to a signed
   zero; results above ``max_finite`` overflow as ``golden.rounding.round_exact`` says
   (infinity, NaN in ``fn`` formats, ``max_finite`` under RTZ); NaN stays NaN.

The hot case, RNE sums into an IEEE-like accumulator of at most 11 significand bits (e6m9,
bf16; products exact), runs on a float32 carrier instead, eight lanes per AVX2 instruction:
see ``float32_scale`` for why one float32 add and an RNE of its encoding is the contract's
addition there.

Signed zeros follow IEEE 754 float64 addition, as the contract asks (``x + (-x)`` is +0, -0
only from -0 + -0, a result rounded to zero keeps its sign). The callers canonicalize NaN when
they encode the float64 results into bit patterns.

``set_threads`` sets how many threads the kernels run on (the rows of a GEMM and the elements
of an ``fma`` are split among them; a ``chunked_sum`` runs as one row, on one thread). SR sums
with explicit random bits (``sum_rows_sr``) run the same operation, ``round(x + y)`` through
round-to-odd, column by column on one thread.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from fractions import Fraction

import numpy as np

from .formats import FloatFormat, Rounding

__all__ = ["AVAILABLE", "KERNELS", "applies", "compile_kernels", "cores", "float32_scale", "fma",
           "gemm", "set_threads", "sum_rows", "sum_rows_sr", "threads"]

#: Whether the compiled kernels can run (numba is installed; it is imported on first use).
AVAILABLE = importlib.util.find_spec("numba") is not None

#: Rounding mode codes passed to the kernels.
MODES = {Rounding.RNE: 0, Rounding.RTZ: 1, Rounding.SR: 2}

_MAX_PRECISION = 24


def applies(fmt: FloatFormat, rounding: Rounding, rbits: int = 0) -> bool:
    """Whether the kernels compute ``fmt`` with ``rounding`` exactly (see the module text)."""
    if not AVAILABLE or fmt.precision > _MAX_PRECISION:
        return False
    if rounding is Rounding.SR and fmt.precision + rbits + 2 > 53:
        return False
    # q and 1/q are float64 normals for every exponent a result can have.
    return -1000 < fmt.emin - fmt.man_bits and fmt.emax < 1000


def _kernels():
    """The kernel module (``golden._kernels``), imported, with numba, on first use."""
    from . import _kernels as kernels

    return kernels


def threads() -> int:
    """How many threads the compiled kernels run on."""
    return 1 if not AVAILABLE else int(_kernels().numba.get_num_threads())


def cores() -> int:
    """The most threads the compiled kernels can run on (numba's ``NUMBA_NUM_THREADS``)."""
    if not AVAILABLE:
        raise RuntimeError("numba is not installed: the compiled golden kernels are unavailable")
    return int(_kernels().numba.config.NUMBA_NUM_THREADS)


def set_threads(n: int) -> None:
    """Run the compiled kernels on ``n`` threads (at most ``cores()``)."""
    most = cores()
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= most:
        raise ValueError(f"threads must be an integer in [1, {most}], not {n!r}")
    _kernels().numba.set_num_threads(n)


def _constants(fmt: FloatFormat) -> tuple[int, int, bool, float, float, float]:
    """Per-format constants the kernels take: man_bits, lowest biased exponent of the grid,
    whether subnormals exist, min_normal, max_finite, and the RNE/SR overflow value."""
    eb_min = fmt.emin + 1023 if fmt.subnormals else fmt.man_bits + 1
    return (fmt.man_bits, eb_min, fmt.subnormals, float(fmt.min_normal),
            float(fmt.max_finite), np.inf if fmt.inf_bits is not None else np.nan)


def float32_scale(in_fmt: FloatFormat | None, acc_fmt: FloatFormat,
                  exact_products: bool = True) -> int | None:
    """The power of two ``S`` that makes RNE accumulation in ``acc_fmt`` a float32 computation,
    or None where it does not apply (then the float64 kernels run).

    Scaled by ``2**S`` with ``S = 127 - emax``, every ``acc_fmt`` value is a float32 number and
    the format's overflow threshold is float32's (a rounded-up max_finite carries into
    infinity), provided the format is IEEE-like (subnormals, an infinity, max_finite the top of
    its binade) with at most 11 significand bits: then one float32 add followed by RNE of the
    float32 encoding to ``p`` bits is the contract's addition (double rounding 24 -> p bits is
    innocuous as 24 >= 2p + 2; a sum below min_normal of two grid values is exact). With
    ``in_fmt``, its products must be exact in ``acc_fmt`` (``exact_products``, from
    ``golden.arith.is_exact_product``) and its scaled values float32 numbers.
    """
    if (acc_fmt.precision > 11 or not acc_fmt.subnormals or acc_fmt.inf_bits is None
            or acc_fmt.max_finite != (2 - Fraction(1, 2**acc_fmt.man_bits)) * 2**acc_fmt.emax):
        return None
    scale = 127 - acc_fmt.emax
    if acc_fmt.min_subnormal * Fraction(2)**scale < Fraction(1, 2**149):
        return None
    if in_fmt is not None:
        if not exact_products:
            return None
        if (in_fmt.min_subnormal * Fraction(2)**scale < Fraction(1, 2**149)
                or in_fmt.max_finite * Fraction(2)**scale >= 2**128):
            return None
    return scale


def _run(a: np.ndarray, b: np.ndarray, chunk: int | None, fmt: FloatFormat,
         rounding: Rounding, round_products: bool, scale: int | None) -> np.ndarray:
    k_len = a.shape[1]
    # Any chunk of at least K is no chunking (and keeps the count inside int64).
    chunk = max(1, k_len) if chunk is None else min(chunk, max(1, k_len))
    out = np.empty((a.shape[0], b.shape[1]), np.float32 if scale is not None else np.float64)
    kernels = _kernels()
    if scale is not None:
        shift = 23 - fmt.man_bits
        kernels.kernel32(np.ascontiguousarray(a * 2.0**scale, np.float32),
                         np.ascontiguousarray(b, np.float32), chunk, np.int32(shift),
                         np.int32((1 << (shift - 1)) - 1), np.int32(~((1 << shift) - 1)), out)
        return out.astype(np.float64) * 2.0**-scale
    kernels.kernel64(np.ascontiguousarray(a), np.ascontiguousarray(b), chunk, MODES[rounding],
                     round_products, *_constants(fmt), out)
    return out


def gemm(a: np.ndarray, b: np.ndarray, chunk: int | None, in_fmt: FloatFormat,
         acc_fmt: FloatFormat, rounding: Rounding, exact: bool) -> np.ndarray:
    """Chunked ``a @ b`` of float64 ``in_fmt`` values into ``acc_fmt`` values (float64, M x N).

    Every product of two ``in_fmt`` values must be a float64 number; unless ``exact`` (every
    product exact in ``acc_fmt``), each is first rounded (RNE) into ``acc_fmt``. ``rounding``
    is RNE or RTZ.
    """
    scale = float32_scale(in_fmt, acc_fmt, exact) if rounding is Rounding.RNE else None
    return _run(a, b, chunk, acc_fmt, rounding, not exact, scale)


def sum_rows(x: np.ndarray, chunk: int | None, fmt: FloatFormat,
             rounding: Rounding) -> np.ndarray:
    """Chunked sums over the first axis of float64 ``fmt`` values ``x`` (K x N) -> (N,);
    ``rounding`` is RNE or RTZ."""
    scale = float32_scale(None, fmt) if rounding is Rounding.RNE else None
    # As a 1 x K by K x N product with a row of ones: every product is exact.
    return _run(np.ones((1, x.shape[0])), x, chunk, fmt, rounding, False, scale)[0]


def sum_rows_sr(x: np.ndarray, rand: np.ndarray, rand_outer: np.ndarray, chunk: int | None,
                fmt: FloatFormat, rbits: int) -> np.ndarray:
    """Chunked SR sums over the first axis of float64 ``fmt`` values ``x`` (K x N) -> (N,):
    ``rand`` (K x N) rounds each inner addition, ``rand_outer`` (chunks x N) each outer one
    (``golden.accumulate.chunked_sum``'s random bits, transposed)."""
    k_len = x.shape[0]
    chunk = max(1, k_len) if chunk is None else min(chunk, max(1, k_len))
    out = np.empty(x.shape[1])
    _kernels().sum_sr_kernel(np.ascontiguousarray(x), np.ascontiguousarray(rand, np.int64),
                             np.ascontiguousarray(rand_outer, np.int64), chunk, rbits,
                             *_constants(fmt), out)
    return out


def fma(a: np.ndarray, x: np.ndarray, y: np.ndarray, fmt: FloatFormat, rounding: Rounding,
        rand: np.ndarray | None, rbits: int) -> np.ndarray:
    """Elementwise ``round(a * x + y)`` of float64 ``fmt`` values (1-D, equal lengths)."""
    out = np.empty(a.shape[0])
    r = np.zeros(a.shape[0], dtype=np.int64) if rand is None else rand
    _kernels().fma_kernel(np.ascontiguousarray(a), np.ascontiguousarray(x),
                          np.ascontiguousarray(y), np.ascontiguousarray(r, np.int64),
                          MODES[rounding], rbits, *_constants(fmt), out)
    return out


#: The kernels ``compile_kernels`` compiles, by name: each a call on the argument types the
#: golden model passes. Each kernel has its own cache files, so two processes may compile
#: different kernels at once.
KERNELS = ("gemm_float32", "gemm_float64", "sum_rows_sr", "fma")


def compile_kernels(names: Sequence[str] = KERNELS) -> None:
    """Compile the kernels ``names`` (all by default, see ``KERNELS``) into numba's on-disk
    cache (beside the installed sources) by calling each once on the argument types the
    golden model passes. Compiling them takes about 14 s of one core (the two GEMM kernels
    about 5 s each); a process that finds them cached loads them in a fraction of a second,
    so ``make test`` runs this once, in two processes beside the lint, before its workers
    start (else each worker, and each process they start before one has finished, compiles
    them again). Without numba, nothing to do; an unknown name is a ``ValueError``."""
    unknown = sorted(set(names) - set(KERNELS))
    if unknown:
        raise ValueError(f"unknown kernel {', '.join(unknown)} (known: {', '.join(KERNELS)})")
    if not AVAILABLE:
        return
    from .formats import PRESETS

    e5m2, e6m9, fp16, fp32 = (PRESETS[name] for name in ("e5m2", "e6m9", "fp16", "fp32"))
    ones = np.ones((2, 2))
    calls = {
        "gemm_float32": lambda: gemm(ones, ones, 1, e5m2, e6m9, Rounding.RNE, True),
        "gemm_float64": lambda: gemm(ones, ones, 1, fp16, fp32, Rounding.RTZ, True),
        "sum_rows_sr": lambda: sum_rows_sr(ones, np.zeros((2, 2)), np.zeros((2, 2)), 1, e6m9, 4),
        "fma": lambda: fma(ones[0], ones[0], ones[0], e6m9, Rounding.SR, None, 4),
    }
    for name in names:
        calls[name]()
