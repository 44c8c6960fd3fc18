"""The compiled (numba) engine against the exact integer path, bit for bit.

Stimuli: the TestFloat-style catalogue of ``golden.stimuli`` (boundary values, ties, carries,
huge exponent gaps, NaN/inf, subnormals, -0) plus long dot products whose sums overflow,
cancel to zero and land in the subnormal range.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fp8forge.golden import PRESETS, Rounding, chunked_sum, compiled, fma, gemm, quantize
from fp8forge.golden import accumulate as accumulate_module
from fp8forge.golden.stimuli import operands

from ..conftest import assert_bits_equal

ACCUMULATORS = ["e6m9", "fp16", "bf16", "dlfloat16", "fp32"]
INPUTS = ["e5m2", "e4m3fn"]
CHUNKS = [None, 1, 3, 64]
MODES = [Rounding.RNE, Rounding.RTZ]

pytestmark = pytest.mark.skipif(not compiled.AVAILABLE, reason="numba not installed")


def _gemm_operands(in_fmt, m, k, n, rng):
    """A (m x k), B (k x n): catalogue products, plus rows and columns that overflow or cancel."""
    a, b = operands(in_fmt, m * k, rng, op="mul")
    a, b = a.reshape(m, k), np.resize(b, k * n).reshape(k, n)
    a[0] = in_fmt.max_finite_bits                      # sums of the largest products
    b[:, 0] = in_fmt.max_finite_bits
    a[1, : k // 2] = in_fmt.max_finite_bits            # +big then -big: exact cancellation
    a[1, k // 2: 2 * (k // 2)] = in_fmt.max_finite_bits | in_fmt.sign_mask
    b[:, 1] = 1                                        # smallest subnormal products
    return a, b


@pytest.mark.parametrize("acc", ACCUMULATORS)
@pytest.mark.parametrize("inp", INPUTS)
@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.name)
def test_gemm_compiled_equals_exact(acc, inp, mode, rng):
    in_fmt, acc_fmt = PRESETS[inp], PRESETS[acc]
    a, b = _gemm_operands(in_fmt, 6, 70, 9, rng)
    for chunk in CHUNKS:
        exact = gemm(a, b, in_fmt, acc_fmt, chunk=chunk, rounding=mode, engine="exact")
        fast = gemm(a, b, in_fmt, acc_fmt, chunk=chunk, rounding=mode, engine="compiled")
        assert_bits_equal(fast, exact, acc_fmt)


def test_gemm_paper_formats_long_k_and_float32_carrier(rng):
    """e5m2 -> e6m9 RNE runs on the float32 carrier; long K at chunk 1, 64 and none."""
    e5m2, e6m9 = PRESETS["e5m2"], PRESETS["e6m9"]
    assert compiled.float32_scale(e5m2, e6m9) == 127 - e6m9.emax
    a = quantize(rng.standard_normal((3, 5000)) * 40, e5m2)
    b = quantize(rng.standard_normal((5000, 4)) * 40, e5m2)
    for chunk in (1, 64, None):
        exact = gemm(a, b, e5m2, e6m9, chunk=chunk, engine="exact")
        assert_bits_equal(gemm(a, b, e5m2, e6m9, chunk=chunk, engine="compiled"), exact, e6m9)


@pytest.mark.parametrize("fmt", ACCUMULATORS)
@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.name)
def test_chunked_sum_compiled_equals_exact(fmt, mode, rng):
    fmt = PRESETS[fmt]
    # Pairs from the add catalogue (ties, carries, gaps, cancellation, specials) ...
    x, y = operands(fmt, 4000, rng, op="add")
    pairs = np.stack([x, y], axis=-1)
    assert_bits_equal(chunked_sum(pairs, fmt, None, mode, engine="compiled"),
                      chunked_sum(pairs, fmt, None, mode, engine="exact"), fmt)
    # ... and rows of 200 catalogue values summed with every chunking.
    rows = operands(fmt, 40 * 200, rng, op="quantize")[0].reshape(40, 200)
    for chunk in CHUNKS:
        assert_bits_equal(chunked_sum(rows, fmt, chunk, mode, engine="compiled"),
                          chunked_sum(rows, fmt, chunk, mode, engine="exact"), fmt)


@pytest.mark.parametrize("fmt", ACCUMULATORS)
def test_chunked_sr_sum_compiled_equals_exact(fmt, rng):
    """SR sums with explicit random bits: catalogue pairs (every rbits the kernels take for
    the format), and rows of catalogue values with every chunking, random bits at the ends of
    their range included."""
    fmt = PRESETS[fmt]
    x, y = operands(fmt, 4000, rng, op="add")
    pairs = np.stack([x, y], axis=-1)
    for rbits in (1, 8, 12, min(32, 53 - fmt.precision - 2)):  # 32: the most SR takes
        kw = {"rand": rng.integers(0, 1 << rbits, pairs.shape),
              "rand_outer": rng.integers(0, 1 << rbits, (pairs.shape[0], 1)), "rbits": rbits}
        assert_bits_equal(chunked_sum(pairs, fmt, None, Rounding.SR, engine="compiled", **kw),
                          chunked_sum(pairs, fmt, None, Rounding.SR, engine="exact", **kw), fmt)
    rows = operands(fmt, 40 * 200, rng, op="quantize")[0].reshape(40, 200)
    for chunk in CHUNKS:
        chunks = 1 if chunk is None else -(-200 // chunk)
        rand = rng.integers(0, 1 << 12, rows.shape)
        rand[:, ::7] = (1 << 12) - 1
        kw = {"rand": rand, "rand_outer": rng.integers(0, 1 << 12, (40, chunks)), "rbits": 12}
        assert_bits_equal(chunked_sum(rows, fmt, chunk, Rounding.SR, engine="compiled", **kw),
                          chunked_sum(rows, fmt, chunk, Rounding.SR, engine="exact", **kw), fmt)


@pytest.mark.parametrize("fmt", ACCUMULATORS + ["e5m2", "e4m3fn"])
@pytest.mark.parametrize("mode", list(Rounding), ids=lambda m: m.name)
def test_fma_compiled_equals_exact(fmt, mode, rng):
    fmt = PRESETS[fmt]
    a, x, y = operands(fmt, 20000, rng, op="fma")
    for rbits in ((1, 8, 12, 20) if mode is Rounding.SR else (0,)):
        kw = {}
        if mode is Rounding.SR:
            kw = {"rand": rng.integers(0, 1 << rbits, a.shape), "rbits": rbits}
        assert_bits_equal(fma(a, x, y, fmt, mode, engine="compiled", **kw),
                          fma(a, x, y, fmt, mode, engine="exact", **kw), fmt)


def test_auto_picks_compiled_and_falls_back_without_numba(rng, monkeypatch):
    e5m2, e6m9 = PRESETS["e5m2"], PRESETS["e6m9"]
    a = quantize(rng.standard_normal((4, 30)), e5m2)
    b = quantize(rng.standard_normal((30, 5)), e5m2)
    exact = gemm(a, b, e5m2, e6m9, chunk=8, engine="exact")
    calls = []
    real = compiled.gemm
    monkeypatch.setattr(compiled, "gemm", lambda *args: calls.append(1) or real(*args))
    assert_bits_equal(gemm(a, b, e5m2, e6m9, chunk=8), exact, e6m9)
    assert calls, "auto did not run the compiled engine"
    monkeypatch.setattr(compiled, "AVAILABLE", False)
    assert_bits_equal(gemm(a, b, e5m2, e6m9, chunk=8), exact, e6m9)  # numpy path
    assert len(calls) == 1
    with pytest.raises(ValueError, match="numba is not installed"):
        gemm(a, b, e5m2, e6m9, chunk=8, engine="compiled")


def test_engine_errors_say_why(rng):
    e5m2, e6m9 = PRESETS["e5m2"], PRESETS["e6m9"]
    a = quantize(rng.standard_normal((2, 3)), e5m2)
    with pytest.raises(ValueError, match="engine must be one of"):
        gemm(a, a.T, e5m2, e6m9, chunk=None, engine="fast")
    fp32 = PRESETS["fp32"]  # SR to 24 + 28 bits: more than round-to-odd in float64 keeps
    with pytest.raises(ValueError, match="does not apply"):
        chunked_sum(quantize(rng.standard_normal((2, 3)), fp32), fp32, None, Rounding.SR,
                    rand=np.zeros(a.shape, np.int64), rand_outer=np.zeros((2, 1), np.int64),
                    rbits=28, engine="compiled")
    with pytest.raises(ValueError, match="does not apply"):  # SR GEMMs stay on the exact path
        gemm(a, a.T, e5m2, e6m9, chunk=None, rounding=Rounding.SR,
             rand=np.zeros((2, 2, 3), np.int64), rand_outer=np.zeros((2, 2, 1), np.int64),
             rbits=4, engine="compiled")
    with pytest.raises(ValueError, match="does not apply"):  # the NumPy path is RNE only
        chunked_sum(a, e5m2, None, Rounding.RTZ, engine="numpy")
    with pytest.raises(ValueError, match="saturate"):
        fma(a, a, a, e5m2, saturate=True, engine="compiled")
    with pytest.raises(ValueError, match="engine must be one of"):
        fma(a, a, a, e5m2, engine="numpy")


def test_threads_give_the_same_bits(rng):
    e5m2, fp16 = PRESETS["e5m2"], PRESETS["fp16"]
    a = quantize(rng.standard_normal((16, 200)), e5m2)
    b = quantize(rng.standard_normal((200, 8)), e5m2)
    numba = pytest.importorskip("numba")
    before = compiled.threads()
    try:
        compiled.set_threads(1)
        assert compiled.threads() == 1
        one = gemm(a, b, e5m2, fp16, chunk=16, engine="compiled")
        compiled.set_threads(numba.config.NUMBA_NUM_THREADS)
        assert_bits_equal(gemm(a, b, e5m2, fp16, chunk=16, engine="compiled"), one, fp16)
    finally:
        compiled.set_threads(before)
    for bad in (0, 1.5, True, numba.config.NUMBA_NUM_THREADS + 1):
        with pytest.raises(ValueError, match="threads must be"):
            compiled.set_threads(bad)


def test_empty_k_gives_positive_zero():
    e5m2, e6m9 = PRESETS["e5m2"], PRESETS["e6m9"]
    a = np.zeros((2, 0), np.uint8)
    out = gemm(a, np.zeros((0, 3), np.uint8), e5m2, e6m9, chunk=4, engine="compiled")
    assert out.shape == (2, 3) and not out.any()
    assert accumulate_module.ENGINES[0] == "auto"


#: A fresh process: compile_kernels, then the golden model's compiled paths in the paper's
#: formats and the baseline's (GEMMs on both carriers, RNE/RTZ/SR sums, FMAs), printing how
#: many signatures each kernel had after compile_kernels and at the end.
_SIGNATURES = """
import numpy as np
from fp8forge.golden import PRESETS, Rounding, chunked_sum, compiled, fma, gemm, quantize
compiled.compile_kernels()
k = compiled._kernels()
names = ("kernel32", "kernel64", "sum_sr_kernel", "fma_kernel")
before = [len(getattr(k, n).signatures) for n in names]
rng = np.random.default_rng(0)
P = PRESETS
for i, a in (("e5m2", "e6m9"), ("e5m2", "fp16"), ("fp16", "fp32"), ("e4m3fn", "bf16")):
    A = quantize(rng.normal(size=(3, 40)), P[i])
    B = quantize(rng.normal(size=(40, 2)), P[i])
    for chunk in (None, 8):
        gemm(A, B, P[i], P[a], chunk=chunk, engine="compiled")
x = quantize(rng.normal(size=(40, 5)), P["e6m9"])
for mode in (Rounding.RNE, Rounding.RTZ):
    chunked_sum(x, P["e6m9"], 8, mode, engine="compiled")
chunked_sum(x, P["e6m9"], 8, Rounding.SR, engine="compiled", rand=rng.integers(0, 4096, x.shape),
            rand_outer=rng.integers(0, 4096, (40, 1)), rbits=12)
v = quantize(rng.normal(size=50), P["e6m9"])
for mode in Rounding:
    fma(v, v, v, P["e6m9"], mode, engine="compiled",
        **({"rand": rng.integers(0, 4096, 50), "rbits": 12} if mode is Rounding.SR else {}))
print([before, [len(getattr(k, n).signatures) for n in names]])
"""


def test_compile_kernels_covers_the_signatures_the_model_uses():
    """``make test`` compiles the kernels once before its workers start (``compile_kernels``):
    that pays only if it compiles them for the argument types the model's calls pass, so
    no call compiles a new signature afterwards."""
    out = subprocess.run([sys.executable, "-c", _SIGNATURES], capture_output=True, text=True,
                         check=True).stdout
    before, after = ast.literal_eval(out)
    assert before == [1, 1, 1, 1] and after == before


def test_make_kernels_compiles_every_kernel_and_names_are_checked():
    """``make kernels`` compiles the kernels in two halves (two processes): together they are
    every kernel, each once; a misspelt name is an error, not a silent skip."""
    makefile = (Path(__file__).parents[2] / "Makefile").read_text()
    halves = [ast.literal_eval(m) for m in re.findall(r"compile_kernels as c; c\((\[.*?\])\)",
                                                       makefile)]
    assert len(halves) == 2
    assert sorted(sum(halves, [])) == sorted(compiled.KERNELS)
    with pytest.raises(ValueError, match="unknown kernel gemm32"):
        compiled.compile_kernels(["gemm32"])
