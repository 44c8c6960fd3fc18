"""The numba kernels behind ``golden.compiled`` (imported on first use: importing numba takes
about half a second, which every other user of the golden model should not pay).

Why each kernel is exact is the module text of ``golden.compiled``.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange, types
from numba.extending import intrinsic

#: numba's on-disk cache (compiling the kernels takes seconds) is keyed by source file and
#: pickles this module's name; it is used only under the installed name, so a copy imported
#: another way (``golden._kernels`` from the source tree) cannot load the other's entries.
_CACHE = __name__ == "fp8forge.golden._kernels"

__all__ = ["kernel32", "kernel64", "fma_kernel", "numba", "sum_sr_kernel"]


def _bitcast(widths: dict) -> object:
    """An intrinsic reinterpreting a number's bits as the type ``widths`` maps its type to
    (an LLVM bitcast: free, and it vectorizes)."""
    @intrinsic
    def cast(typingctx, x):
        width = widths[x]

        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], context.get_value_type(width))
        return width(x), codegen
    return cast


#: float64 -> its int64 encoding, float32 -> int32, and back.
_to_bits = _bitcast({types.float64: types.int64, types.float32: types.int32})
_from_bits = _bitcast({types.int64: types.float64, types.int32: types.float32})


_MAG = np.int64((1 << 63) - 1)


@njit(inline="always")
def _round_to_odd(s, e):
    """``s`` as the round-to-odd image of ``s + e`` (``e`` the exact error of ``s``)."""
    bits = _to_bits(s)
    # Magnitude one ulp up when e has the sign of s, else down (sign-magnitude); NaN
    # errors (inf operands) compare false both ways and leave s alone. Selects, no branch.
    toward = np.int64(1) if (e > 0.0) == (s > 0.0) else np.int64(-1)
    inexact = (e > 0.0) | (e < 0.0)
    return _from_bits(bits + (toward if inexact & ((bits & 1) == 0) else np.int64(0)))


@njit(inline="always")
def _two_sum(x, y):
    """``s = fl(x + y)`` and the exact error ``e`` (Knuth; no branch)."""
    s = x + y
    bb = s - x
    return s, (x - (s - bb)) + (y - bb)


@njit(inline="always")
def _round(s, mode, r, rbits, man, eb_min, subnormals, min_normal, max_finite, overflow):
    """Round float64 ``s`` into the format with ``mode`` (0 RNE, 1 RTZ, 2 SR); float64."""
    bits = _to_bits(s)
    mag_bits = bits & _MAG
    absx = _from_bits(mag_bits)
    eb = max(mag_bits >> 52, eb_min)
    q = _from_bits((eb - man) << 52)              # the grid step at s: a power of two
    x = absx * _from_bits((2046 - eb + man) << 52)  # |s| / q, exact
    # All three computed and one selected: no branch, so the loops vectorize.
    low = np.floor(x)
    up = 1.0 if r < np.floor((x - low) * 2.0 ** rbits) else 0.0  # SR: rand < frac bits
    y = (np.rint(x) if mode == 0 else low if mode == 1 else low + up) * q
    y = 0.0 if (not subnormals) & (y < min_normal) else y
    # Overflow: RTZ saturates finite values; else inf (NaN in fn formats).
    big = max_finite if (mode == 1) & (absx != np.inf) else overflow
    y = big if y > max_finite else y
    return -y if bits < 0 else y


@njit(inline="always")
def _add64(acc, p, mode, round_products, man, eb_min, subnormals, min_normal, max_finite,
           overflow):
    """``round(acc + round?(p))``: RNE adds skip round-to-odd (Figueroa); products are
    exact in float64 and, with ``round_products``, rounded once (RNE) into the format."""
    if round_products:  # loop-invariant: the loop is compiled once with, once without
        p = _round(p, 0, 0, 0, man, eb_min, subnormals, min_normal, max_finite, overflow)
    s, e = _two_sum(acc, p)
    s = s if mode == 0 else _round_to_odd(s, e)
    return _round(s, mode, 0, 0, man, eb_min, subnormals, min_normal, max_finite, overflow)

# One row function per mode, the mode a literal: each compiles to one branch-free,
# vectorized loop (a mode read at run time keeps the loop scalar).


@njit
def _row64_rne(acc, x, scale, round_products, man, eb_min, subnormals, min_normal,
               max_finite, overflow):
    """``acc[j] = round(acc[j] + round?(scale * x[j]))`` over a row, RNE."""
    for j in range(acc.shape[0]):
        acc[j] = _add64(acc[j], scale * x[j], 0, round_products, man, eb_min, subnormals,
                        min_normal, max_finite, overflow)


@njit
def _row64_rtz(acc, x, scale, round_products, man, eb_min, subnormals, min_normal,
               max_finite, overflow):
    """``acc[j] = round(acc[j] + round?(scale * x[j]))`` over a row, RTZ."""
    for j in range(acc.shape[0]):
        acc[j] = _add64(acc[j], scale * x[j], 1, round_products, man, eb_min, subnormals,
                        min_normal, max_finite, overflow)


@njit(inline="always")
def _row64(acc, x, scale, mode, round_products, man, eb_min, subnormals, min_normal,
           max_finite, overflow):
    if mode == 0:
        _row64_rne(acc, x, scale, round_products, man, eb_min, subnormals, min_normal,
                   max_finite, overflow)
    else:
        _row64_rtz(acc, x, scale, round_products, man, eb_min, subnormals, min_normal,
                   max_finite, overflow)


@njit(inline="always")
def _row32_rne(acc, x, scale, shift, half_minus_one, keep):
    """The float32 RNE row (see ``float32_scale``): float32 add, then RNE of the float32
    encoding to the format's significand (add half-ulp-minus-one plus the kept LSB,
    clear the dropped bits; a carry moves into the exponent, and past the top into
    float32's infinity, exactly the format's overflow)."""
    for j in range(acc.shape[0]):
        bits = _to_bits(acc[j] + scale * x[j])
        # numba widens int32 arithmetic to int64; the encoding is the low 32 bits
        acc[j] = _from_bits(np.int32((bits + half_minus_one + ((bits >> shift) & 1)) & keep))

# The two kernels share their loop: out[i, :] = chunked sum over k of a[i, k] * b[k, :],
# rows in parallel; the inner sum restarts from +0 per chunk and is added to the outer sum
# when the chunk closes (contract section 2); one row call per k, SIMD across the columns.
# (numba caches kernels only when they call global functions, hence two of them.)


@njit(parallel=True, cache=_CACHE)
def _kernel64(a, b, chunk, mode, round_products, man, eb_min, subnormals, min_normal,
              max_finite, overflow, out):
    m, k_len = a.shape
    n = b.shape[1]
    for i in prange(m):
        inner = np.zeros(n)
        outer = np.zeros(n)
        left = chunk  # a count-down, not k % chunk: a division per k costs more than
        for k in range(k_len):  # the row itself when the rows are short
            _row64(inner, b[k], a[i, k], mode, round_products, man, eb_min, subnormals,
                   min_normal, max_finite, overflow)
            left -= 1
            if left == 0 or k == k_len - 1:
                _row64(outer, inner, 1.0, mode, False, man, eb_min, subnormals,
                       min_normal, max_finite, overflow)
                for j in range(n):
                    inner[j] = 0.0
                left = chunk
        out[i] = outer


@njit(parallel=True, cache=_CACHE)
def _kernel32(a, b, chunk, shift, half_minus_one, keep, out):
    m, k_len = a.shape
    n = b.shape[1]
    one = np.float32(1.0)
    for i in prange(m):
        inner = np.zeros(n, np.float32)
        outer = np.zeros(n, np.float32)
        left = chunk
        for k in range(k_len):
            _row32_rne(inner, b[k], a[i, k], shift, half_minus_one, keep)
            left -= 1
            if left == 0 or k == k_len - 1:
                _row32_rne(outer, inner, one, shift, half_minus_one, keep)
                for j in range(n):
                    inner[j] = 0.0
                left = chunk
        out[i] = outer


@njit(parallel=True, cache=_CACHE)
def _fma_kernel(a, x, y, rand, mode, rbits, man, eb_min, subnormals, min_normal,
                max_finite, overflow, out):
    for i in prange(out.shape[0]):
        p = a[i] * x[i]  # exact: at most 2 x 24 significand bits, inside float64's range
        s, e = _two_sum(p, y[i])
        s = _round_to_odd(s, e)
        out[i] = _round(s, mode, rand[i], rbits, man, eb_min, subnormals, min_normal,
                        max_finite, overflow)


@njit(inline="always")
def _add_sr(acc, x, r, rbits, man, eb_min, subnormals, min_normal, max_finite, overflow):
    """``round(acc + x)`` with stochastic rounding by the random integer ``r``."""
    s, e = _two_sum(acc, x)
    return _round(_round_to_odd(s, e), 2, r, rbits, man, eb_min, subnormals, min_normal,
                  max_finite, overflow)


@njit(cache=_CACHE)
def _sum_sr_kernel(x, rand, rand_outer, chunk, rbits, man, eb_min, subnormals, min_normal,
                   max_finite, overflow, out):
    """``out[j]``: the chunked SR sum of column ``x[:, j]`` (K x N), the inner addition of
    addend k rounded by ``rand[k, j]``, the outer one closing chunk c by ``rand_outer[c, j]``;
    columns side by side (one thread: a sum of explicit random bits is a short job)."""
    k_len, n = x.shape
    inner = np.zeros(n)
    outer = np.zeros(n)
    left = chunk
    c = 0
    for k in range(k_len):
        for j in range(n):
            inner[j] = _add_sr(inner[j], x[k, j], rand[k, j], rbits, man, eb_min, subnormals,
                               min_normal, max_finite, overflow)
        left -= 1
        if left == 0 or k == k_len - 1:
            for j in range(n):
                outer[j] = _add_sr(outer[j], inner[j], rand_outer[c, j], rbits, man, eb_min,
                                   subnormals, min_normal, max_finite, overflow)
                inner[j] = 0.0
            left = chunk
            c += 1
    out[:] = outer


kernel32, kernel64, fma_kernel = _kernel32, _kernel64, _fma_kernel
sum_sr_kernel = _sum_sr_kernel
