"""Combinational floating-point building blocks shared by every fp8forge unit.

Contract: ``docs/contract.md`` section 2; the reference is ``golden/rounding.py`` and
``golden/arith.py``, which these circuits mirror step by step:

* ``unpack`` splits a bit pattern into sign, significand (hidden bit included), exponent of the
  LSB, and the NaN/inf/zero classes (subnormal inputs read as zero without subnormals);
* ``exact_sum`` adds two exact values into a window wide enough that bits lost in alignment only
  set a sticky bit, with the borrow folded in so the exact sum lies in ``(sig, sig + 1)``;
* ``round_pack`` rounds an exact ``(sign, sig, exp, sticky)`` once into a format (RNE, RTZ or
  SR with an explicit random integer) and packs it, with overflow, flush and specials.

Exponents are carried with their elaboration-time bounds (``Exp``) so every adder and
comparator is exactly as wide as the formats require: the FP8 datapath is not charged for
FP32-sized exponent logic.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from amaranth.hdl import Cat, Const, Module, Mux, Signal, Value, signed

from fp8forge.golden.formats import FloatFormat, Rounding, Specials

__all__ = ["Exp", "Fields", "clz", "exact_sum", "normalize", "product", "round_pack", "select",
           "unpack"]


def _signed_bits(lo: int, hi: int) -> int:
    """Width of a signed value holding every integer in ``[lo, hi]``."""
    width = 1
    while not (-(1 << (width - 1)) <= lo and hi < (1 << (width - 1))):
        width += 1
    return width


@dataclass(frozen=True)
class Exp:
    """A signed exponent value together with its elaboration-time range ``[lo, hi]``."""

    value: Value
    lo: int
    hi: int

    @staticmethod
    def of(m: Module, value: Value, lo: int, hi: int, name: str) -> Exp:
        sig = Signal(signed(_signed_bits(lo, hi)), name=name)
        m.d.comb += sig.eq(value)
        return Exp(sig, lo, hi)

    def plus(self, m: Module, other: Exp | int, name: str) -> Exp:
        if isinstance(other, int):
            return Exp.of(m, self.value + other, self.lo + other, self.hi + other, name)
        return Exp.of(m, self.value + other.value, self.lo + other.lo, self.hi + other.hi, name)


@dataclass(frozen=True)
class Fields:
    """Exact value ``(-1)**sign * (sig + sticky*eps) * 2**exp`` plus special classes."""

    sign: Value
    sig: Value
    exp: Exp
    nan: Value
    inf: Value
    sticky: Value = field(default_factory=lambda: Const(0, 1))
    #: Elaboration-time bounds on leading zeros of a nonzero ``sig``: at most ``lead_zeros``,
    #: except on the subnormal grid of the format it was unpacked from, where up to
    #: ``subnormal_zeros`` (``unpack``: 0 and ``man_bits`` with subnormals; ``product``: 1 for
    #: normal inputs, more with subnormal ones, and no grid). ``exact_sum`` sizes guard bits
    #: from them.
    lead_zeros: int = 0
    subnormal_zeros: int = 0

    @property
    def zero(self) -> Value:
        return (self.sig == 0) & ~self.nan & ~self.inf


def unpack(m: Module, bits: Value, fmt: FloatFormat, name: str) -> Fields:
    """Decode ``fmt`` bits (mirrors ``golden.bits.unpack``)."""
    man, ebits = fmt.man_bits, fmt.exp_bits
    frac = bits[:man]
    field = bits[man : man + ebits]
    sign = bits[man + ebits]
    normal = field != 0
    all_ones = field == (1 << ebits) - 1
    if fmt.specials is Specials.IEEE:
        nan = all_ones & (frac != 0)
        inf = all_ones & (frac == 0)
    else:
        nan = all_ones & (frac == fmt.man_mask)
        inf = Const(0, 1)
    sig = Signal(man + 1, name=f"{name}_sig")
    hidden_or_sub = Cat(frac, normal) if fmt.subnormals else Mux(normal, Cat(frac, 1), 0)
    m.d.comb += sig.eq(Mux(nan | inf, 0, hidden_or_sub))
    lo = 1 - fmt.bias - man
    hi = (1 << ebits) - 1 - fmt.bias - man
    exp = Exp.of(m, Mux(normal, field, 1) - (fmt.bias + man), lo, hi, f"{name}_exp")
    return Fields(sign=sign, sig=sig, exp=exp, nan=nan, inf=inf,
                  subnormal_zeros=man if fmt.subnormals else 0)


def product(m: Module, a: Fields, b: Fields, name: str) -> Fields:
    """Exact product (mirrors ``golden.arith._product``)."""
    sig = Signal(len(a.sig) + len(b.sig), name=f"{name}_sig")
    m.d.comb += sig.eq(a.sig * b.sig)
    nan = a.nan | b.nan | (a.inf & b.zero) | (b.inf & a.zero)
    return Fields(
        sign=a.sign ^ b.sign,
        sig=sig,
        exp=a.exp.plus(m, b.exp, f"{name}_exp"),
        nan=nan,
        inf=(a.inf | b.inf) & ~nan,
        # normal x normal: the leading one is one of the top two bits
        lead_zeros=min(len(sig) - 1, 1 + a.lead_zeros + b.lead_zeros + a.subnormal_zeros
                       + b.subnormal_zeros),
    )


def select(m: Module, cond: Value, x: Fields, y: Fields, name: str) -> Fields:
    """``x`` when ``cond`` else ``y``: significands left-justified to one width (exact), the
    elaboration-time bounds of both kept."""
    width = max(len(x.sig), len(y.sig))

    def justified(f: Fields) -> tuple[Value, Value, int]:
        up = width - len(f.sig)
        return (Cat(Const(0, up), f.sig) if up else f.sig), f.exp.value - up, up

    x_sig, x_exp, x_up = justified(x)
    y_sig, y_exp, y_up = justified(y)
    sig = Signal(width, name=f"{name}_sig")
    m.d.comb += sig.eq(Mux(cond, x_sig, y_sig))
    exp = Exp.of(m, Mux(cond, x_exp, y_exp), min(x.exp.lo - x_up, y.exp.lo - y_up),
                 max(x.exp.hi - x_up, y.exp.hi - y_up), f"{name}_exp")
    return Fields(sign=Mux(cond, x.sign, y.sign), sig=sig, exp=exp, nan=Mux(cond, x.nan, y.nan),
                  inf=Mux(cond, x.inf, y.inf), sticky=Mux(cond, x.sticky, y.sticky),
                  lead_zeros=max(x.lead_zeros, y.lead_zeros),
                  subnormal_zeros=max(x.subnormal_zeros, y.subnormal_zeros))


def clz(m: Module, x: Value, name: str) -> Value:
    """Leading-zero count of ``x`` (``len(x)`` for zero), as a balanced priority tree."""
    width = len(x)
    out = Signal(range(width + 1), name=name)

    def count(lo: int, hi: int) -> tuple[Value, Value]:
        """(all zero, leading zeros) of x[lo:hi]."""
        if hi - lo == 1:
            return ~x[lo], ~x[lo]
        mid = (lo + hi + 1) // 2  # upper half x[mid:hi] holds the leading bits
        z_hi, n_hi = count(mid, hi)
        z_lo, n_lo = count(lo, mid)
        return z_hi & z_lo, Mux(z_hi, (hi - mid) + n_lo, n_hi)

    m.d.comb += out.eq(count(0, width)[1])
    return out


def _shift_right_sticky(m: Module, x: Value, amount: Value, limit: int, name: str):
    """``x >> min(amount, limit)`` and whether any set bit was shifted out."""
    amt = Signal(range(limit + 1), name=f"{name}_amt")
    m.d.comb += amt.eq(Mux(amount > limit, limit, amount))
    shifted = Signal(len(x), name=f"{name}_shr")
    m.d.comb += shifted.eq(x >> amt)
    lost = Signal(name=f"{name}_lost")
    m.d.comb += lost.eq((x & ~(Const(-1, len(x) + limit + 1) << amt)[: len(x)]) != 0)
    return shifted, lost


def normalize(m: Module, f: Fields, name: str) -> Fields:
    """``f`` with its significand shifted left until the leading one is the top bit (exact)."""
    n = clz(m, f.sig, f"{name}_clz")
    sig = Signal(len(f.sig), name=f"{name}_norm")
    m.d.comb += sig.eq(f.sig << n)
    # n == len(sig) only for zero, whose exponent is never used for anything but alignment.
    exp = Exp.of(m, f.exp.value - n, f.exp.lo - len(f.sig), f.exp.hi, f"{name}_nexp")
    return replace(f, sig=sig, exp=exp, lead_zeros=0)


def exact_sum(m: Module, x: Fields, y: Fields, guard: int, name: str) -> Fields:
    """Exact ``x + y`` (mirrors ``golden.arith._exact_sum``) with one adder and no normalizer.

    Single-path structure: the operand whose significand window reaches higher is ``big``
    (zero is never ``big``); the other is shifted right by the exponent difference into a
    ``W = S + 1 + G`` window (``S`` the wider significand, left-justified; ``G`` guard bits;
    one bit of carry headroom), and bits below bit 0 become ``sticky``. One adder forms
    ``big ± small`` with the borrow of a sticky subtraction folded in as a missing carry-in; a
    negative difference (only when ``big`` is not normalized, or their windows are level) is
    negated in ones' complement when sticky (the exact value lies strictly inside ``(mag,
    mag + 1)``) and in two's complement otherwise. The result is not normalized: ``round_pack``
    counts its leading zeros once.

    Precondition (elaboration-time, from ``Fields.lead_zeros``): a nonzero operand has at most
    ``lead_zeros`` leading zeros, or lies on the subnormal grid of the format the sum is rounded
    to (as any unpacked operand of that format does). Operands with more than one possible
    leading zero (products of subnormal inputs) are normalized first; the window keeps
    ``guard + max(lead_zeros)`` bits below ``big``, so a sticky sum keeps at least ``guard - 1``
    bits below the rounded result's LSB. ``guard`` must be at least ``rbits + 2`` for SR.
    """
    x = normalize(m, x, f"{name}_x") if x.lead_zeros > 1 else x
    y = normalize(m, y, f"{name}_y") if y.lead_zeros > 1 else y
    S = max(len(x.sig), len(y.sig))
    G = guard + max(x.lead_zeros, y.lead_zeros)
    W = S + 1 + G

    def justify(f: Fields, tag: str) -> tuple[Value, Exp]:
        """Significand at window bits [G, G + S) and the exponent of window bit 0."""
        up = S - len(f.sig) + G
        return (Cat(Const(0, up), f.sig) if up else f.sig), f.exp.plus(m, -up, f"{name}_{tag}_e")

    x_win, x_e = justify(x, "x")
    y_win, y_e = justify(y, "y")
    x_zero, y_zero = x.sig == 0, y.sig == 0
    swap = Signal(name=f"{name}_swap")
    m.d.comb += swap.eq(~y_zero & (x_zero | (y_e.value > x_e.value)))
    big = Mux(swap, y_win, x_win)
    small = Mux(swap, x_win, y_win)
    big_sign, small_sign = Mux(swap, y.sign, x.sign), Mux(swap, x.sign, y.sign)
    lo, hi = min(x_e.lo, y_e.lo), max(x_e.hi, y_e.hi)
    base = Exp.of(m, Mux(swap, y_e.value, x_e.value), lo, hi, f"{name}_base")
    gap = Signal(range(hi - lo + 1), name=f"{name}_gap")
    m.d.comb += gap.eq(Mux(swap, y_e.value - x_e.value, x_e.value - y_e.value))
    aligned, sticky = _shift_right_sticky(m, small, gap, W, f"{name}_align")
    sub = Signal(name=f"{name}_sub")
    m.d.comb += sub.eq(big_sign != small_sign)
    # big - aligned - sticky == big + ~aligned + (1 - sticky) in W + 1 bits: one adder.
    raw = Signal(W + 1, name=f"{name}_raw")
    m.d.comb += raw.eq(big + (aligned ^ sub.replicate(W + 1)) + (sub & ~sticky))
    neg = raw[W]  # an addition never reaches bit W (both addends are below 2**(W - 1))
    magnitude = Signal(W, name=f"{name}_mag")
    m.d.comb += magnitude.eq((raw[:W] ^ neg.replicate(W)) + (neg & ~sticky))
    sign = Signal(name=f"{name}_sign")
    both_neg_zero = x_zero & y_zero & x.sign & y.sign
    m.d.comb += sign.eq(Mux(magnitude != 0, big_sign ^ neg, both_neg_zero))
    nan = x.nan | y.nan | (x.inf & y.inf & (x.sign != y.sign))
    inf_sign = Mux(x.inf, x.sign, y.sign)
    return Fields(sign=Mux(x.inf | y.inf, inf_sign, sign), sig=magnitude, exp=base, nan=nan,
                  inf=(x.inf | y.inf) & ~nan, sticky=sticky)


def round_pack(
    m: Module,
    f: Fields,
    fmt: FloatFormat,
    rounding: Rounding,
    *,
    rand: Value | None = None,
    rbits: int = 0,
    saturate: bool = False,
    exact: bool = False,
    name: str = "rnd",
) -> Value:
    """Round ``f`` once into ``fmt`` and pack it (mirrors ``golden.rounding.round_exact``).

    ``exact=True`` asserts (at elaboration, by the caller) that every value fits ``fmt``: then
    no increment, sticky, overflow or flush logic is emitted.
    """
    man = fmt.man_bits
    # At least max(2, rbits) fraction bits below the result's LSB keep guard/round/SR exact.
    pad = max(0, max(2, rbits) + man + 1 - len(f.sig))
    sig = Cat(Const(0, pad), f.sig) if pad else f.sig
    W = len(sig)
    exp = f.exp.plus(m, -pad, f"{name}_exp") if pad else f.exp
    n = clz(m, sig, f"{name}_clz")
    lead = Exp.of(m, exp.value + (W - 1) - n, exp.lo - 1, exp.hi + W - 1, f"{name}_lead")
    emin = fmt.emin
    norm = Signal(W, name=f"{name}_norm")
    top_lo = exp.lo + W - 1  # lowest exponent window bit W - 1 can have
    if fmt.subnormals and lead.lo < emin and top_lo >= emin:
        # One left shift serves both cases: by the leading-zero count, or only as far as the
        # subnormal grid (bit W - 1 at emin) when the result is subnormal.
        room = Signal(range(exp.hi + W - emin), name=f"{name}_room")
        m.d.comb += room.eq(exp.value + (W - 1) - emin)
        m.d.comb += norm.eq(sig << Mux(n > room, room, n))
        y, sticky = norm, f.sticky
    elif fmt.subnormals and lead.lo < emin:
        m.d.comb += norm.eq(sig << n)
        # Subnormal results: shift right so the LSB lands on the subnormal grid.
        below = Signal(range(emin - lead.lo + 1), name=f"{name}_below")
        m.d.comb += below.eq(Mux(lead.value < emin, emin - lead.value, 0))
        y, lost = _shift_right_sticky(m, norm, below, W, f"{name}_den")
        sticky = f.sticky | lost
    else:
        m.d.comb += norm.eq(sig << n)
        y, sticky = norm, f.sticky
    frac_len = W - 1 - man
    top = y[frac_len:]
    frac = y[:frac_len]
    if exact or rounding is Rounding.RTZ:
        up = Const(0, 1)
    elif rounding is Rounding.RNE:
        up = frac[-1] & ((frac[:-1] != 0) | sticky | top[0])
    else:
        assert rand is not None and 1 <= rbits <= frac_len
        up = rand < frac[frac_len - rbits :]
    rounded = Signal(man + 2, name=f"{name}_t")
    m.d.comb += rounded.eq(top + up)
    # Exponent steps above the subnormal grid; clamp above so overflow stays detectable.
    steps_hi = min(lead.hi - emin, (1 << fmt.exp_bits) + 1)
    steps_lo = max(lead.lo - emin, -1)
    steps = Signal(signed(_signed_bits(min(steps_lo, 0), steps_hi)), name=f"{name}_steps")
    if fmt.subnormals:
        m.d.comb += steps.eq(Mux(lead.value < emin, 0,
                                 Mux(lead.value - emin > steps_hi, steps_hi, lead.value - emin)))
    else:
        m.d.comb += steps.eq(Mux(lead.value < emin - 1, -1,
                                 Mux(lead.value - emin > steps_hi, steps_hi, lead.value - emin)))
    enc = Signal(signed(_signed_bits(-(1 << man), (steps_hi << man) + (1 << (man + 2)))),
                 name=f"{name}_enc")
    m.d.comb += enc.eq((steps << man) + rounded)
    mag = Signal(fmt.width - 1, name=f"{name}_mag")
    zero = f.sig == 0
    if exact:
        m.d.comb += mag.eq(Mux(zero, 0, enc))
    else:
        over = enc > fmt.max_finite_bits
        if saturate or rounding is Rounding.RTZ:
            over_mag = fmt.max_finite_bits
        else:
            over_mag = fmt.inf_bits if fmt.inf_bits is not None else fmt.nan_bits
        flush = Const(0, 1)
        if not fmt.subnormals:
            flush = (lead.value < emin) & ~((lead.value == emin - 1) & rounded[man + 1])
        m.d.comb += mag.eq(Mux(zero | flush, 0, Mux(over, over_mag, enc)))
        if fmt.inf_bits is None and not (saturate or rounding is Rounding.RTZ):
            over_nan = over & ~zero & ~flush
        else:
            over_nan = Const(0, 1)
    out = Signal(fmt.width, name=f"{name}_out")
    sign = f.sign
    if fmt.inf_bits is not None:
        inf_bits = Cat(Const(fmt.inf_bits, fmt.width - 1), sign)
    elif saturate:
        inf_bits = Cat(Const(fmt.max_finite_bits, fmt.width - 1), sign)
    else:
        inf_bits = Const(fmt.nan_bits, fmt.width)
    nan_result = f.nan if exact else (f.nan | over_nan)
    m.d.comb += out.eq(Mux(nan_result, fmt.nan_bits, Mux(f.inf, inf_bits, Cat(mag, sign))))
    return out

