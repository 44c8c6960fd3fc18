"""Floating-point arithmetic units: FpMul, FpAdd, FpFma and Quantizer.

Contract: ``docs/contract.md`` sections 2 and 3; every output equals the golden model
(``fp8forge.golden.mul``/``add``/``fma``/``quantize``) bit for bit, with the same rounding,
overflow and special-value rules: overflow gives ±inf (``ieee``) or NaN (``fn``), or
±max_finite with ``saturate=True`` and always in RTZ; NaN results are the canonical NaN;
formats without subnormals flush subnormal inputs and results to signed zero.

Pipelining: ``stages=0`` is combinational (latency 0); ``stages=1`` registers the output;
``stages=2`` also registers the exact intermediate result (before rounding). All units accept
one operation per cycle.
"""

from __future__ import annotations

from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from fp8forge.golden.arith import is_exact_product
from fp8forge.golden.design import DEFAULT_RBITS
from fp8forge.golden.formats import FloatFormat, Rounding

from .fp import exact_sum, product, round_pack, unpack
from .params import check_format, check_int, check_rbits, check_rounding
from .pipeline import register, register_fields

__all__ = ["FpMul", "FpAdd", "FpFma", "Quantizer"]


class _Arith(wiring.Component):
    """Shared parameters: rounding, SR random bits, saturation, pipeline stages."""

    def __init__(self, ports: dict, *, rounding, rbits, saturate, stages, uses_rand=True):
        self._rounding = check_rounding(rounding)
        self._rbits = check_rbits(rbits) if self._rounding is Rounding.SR else 0
        self._saturate = bool(saturate)
        self._stages = check_int(stages, "stages", 0, 2)
        if self._rounding is Rounding.SR and uses_rand:
            ports = dict(ports, rand=In(self._rbits))
        super().__init__(ports)

    @property
    def rounding(self) -> Rounding:
        return self._rounding

    @property
    def rbits(self) -> int:
        """Width of the SR random input (0 when there is none)."""
        return self._rbits

    @property
    def stages(self) -> int:
        return self._stages

    @property
    def latency(self) -> int:
        """Cycles from inputs to the matching output."""
        return self._stages

    @property
    def throughput(self) -> int:
        """Operations accepted per cycle."""
        return 1

    def _cut(self, m: Module, fields, rand):
        """Pipeline cut before rounding (stages == 2)."""
        if self._stages < 2:
            return fields, rand
        return register_fields(m, fields, "x"), (None if rand is None else register(m, rand,
                                                                                    "rand"))

    def _round(self, m: Module, fields, fmt: FloatFormat, rand, *, exact=False):
        out = round_pack(m, fields, fmt, self._rounding, rand=rand, rbits=self._rbits,
                         saturate=self._saturate, exact=exact)
        return register(m, out, "o", cycles=min(self._stages, 1))


class FpMul(_Arith):
    """``o = round(a * b)``: ``a``, ``b`` in ``in_fmt``, ``o`` in ``out_fmt`` (contract section 2).

    When every product of ``in_fmt`` values is exact in ``out_fmt`` (e5m2 -> e6m9,
    fp16 -> fp32; decided at elaboration by ``golden.is_exact_product``) no rounding, overflow or
    flush logic is emitted and there is no ``rand`` port.

    Parameters
    ----------
    in_fmt, out_fmt : FloatFormat
    rounding : Rounding
        RNE, RTZ or SR (``rand`` port of ``rbits`` bits).
    saturate : bool
        Overflow gives ±max_finite instead of inf (NaN in ``fn`` formats).
    stages : int
        0 (combinational), 1 or 2 pipeline registers; ``latency == stages``.

    Members
    -------
    a, b : In(in_fmt.width)
        Operands.
    rand : In(rbits)
        SR random integer, one per operation (SR without exact products only).
    o : Out(out_fmt.width)
        Rounded product, ``latency`` cycles after its operands.
    """

    def __init__(self, in_fmt, out_fmt=None, *, rounding=Rounding.RNE, rbits=DEFAULT_RBITS,
                 saturate=False, stages=0):
        self._in_fmt = check_format(in_fmt, "in_fmt")
        self._out_fmt = check_format(in_fmt if out_fmt is None else out_fmt, "out_fmt",
                                     arithmetic=False)
        self._exact = is_exact_product(self._in_fmt, self._out_fmt)
        w = self._in_fmt.width
        super().__init__({"a": In(w), "b": In(w), "o": Out(self._out_fmt.width)},
                         rounding=rounding, rbits=rbits, saturate=saturate, stages=stages,
                         uses_rand=not self._exact)

    @property
    def in_fmt(self) -> FloatFormat:
        return self._in_fmt

    @property
    def out_fmt(self) -> FloatFormat:
        return self._out_fmt

    @property
    def exact(self) -> bool:
        """True when no rounding hardware is emitted (every product is exact)."""
        return self._exact

    def elaborate(self, platform):
        m = Module()
        p = product(m, unpack(m, self.a, self._in_fmt, "a"), unpack(m, self.b, self._in_fmt, "b"),
                    "p")
        p, rand = self._cut(m, p, None if self._exact else getattr(self, "rand", None))
        m.d.comb += self.o.eq(self._round(m, p, self._out_fmt, rand, exact=self._exact))
        return m


def _guard_bits(rounding: Rounding, rbits: int) -> int:
    """Alignment guard bits: a sticky sum must keep rbits (SR) or 2 (RNE) bits below the LSB."""
    return max(3, rbits + 2) if rounding is Rounding.SR else 3


class FpAdd(_Arith):
    """``o = round(a + b)`` in ``fmt`` (contract section 2; ``x + (-x)`` is +0 in every mode).

    Members
    -------
    a, b : In(fmt.width)
        Addends.
    rand : In(rbits)
        SR random integer, one per operation (SR only).
    o : Out(fmt.width)
        Rounded sum, ``latency`` cycles after its operands.
    """

    def __init__(self, fmt, *, rounding=Rounding.RNE, rbits=DEFAULT_RBITS, saturate=False,
                 stages=0):
        self._fmt = check_format(fmt, "fmt")
        w = self._fmt.width
        super().__init__({"a": In(w), "b": In(w), "o": Out(w)}, rounding=rounding, rbits=rbits,
                         saturate=saturate, stages=stages)

    @property
    def fmt(self) -> FloatFormat:
        return self._fmt

    def elaborate(self, platform):
        m = Module()
        fmt = self._fmt
        s = exact_sum(m, unpack(m, self.a, fmt, "a"), unpack(m, self.b, fmt, "b"),
                      _guard_bits(self._rounding, self._rbits), "s")
        s, rand = self._cut(m, s, getattr(self, "rand", None))
        m.d.comb += self.o.eq(self._round(m, s, fmt, rand))
        return m


class FpFma(_Arith):
    """Fused ``o = round(a * x + y)`` in ``fmt`` with one rounding (the AXPY lane).

    Members
    -------
    a, x, y : In(fmt.width)
        Operands of ``a * x + y``.
    rand : In(rbits)
        SR random integer, one per operation (SR only).
    o : Out(fmt.width)
        Rounded result, ``latency`` cycles after its operands.
    """

    def __init__(self, fmt, *, rounding=Rounding.SR, rbits=DEFAULT_RBITS, saturate=False, stages=0):
        self._fmt = check_format(fmt, "fmt")
        w = self._fmt.width
        super().__init__({"a": In(w), "x": In(w), "y": In(w), "o": Out(w)}, rounding=rounding,
                         rbits=rbits, saturate=saturate, stages=stages)

    @property
    def fmt(self) -> FloatFormat:
        return self._fmt

    def elaborate(self, platform):
        m = Module()
        fmt = self._fmt
        p = product(m, unpack(m, self.a, fmt, "a"), unpack(m, self.x, fmt, "x"), "p")
        s = exact_sum(m, p, unpack(m, self.y, fmt, "y"), _guard_bits(self._rounding, self._rbits),
                      "s")
        s, rand = self._cut(m, s, getattr(self, "rand", None))
        m.d.comb += self.o.eq(self._round(m, s, fmt, rand))
        return m


class Quantizer(_Arith):
    """``o = round(i)``: conversion from ``in_fmt`` to ``out_fmt`` (e.g. e6m9 -> e5m2).

    Members
    -------
    i : In(in_fmt.width)
        Value to convert.
    rand : In(rbits)
        SR random integer, one per conversion (SR only).
    o : Out(out_fmt.width)
        Converted value, ``latency`` cycles after its input.
    """

    def __init__(self, in_fmt, out_fmt, *, rounding=Rounding.RNE, rbits=DEFAULT_RBITS,
                 saturate=False, stages=0):
        self._in_fmt = check_format(in_fmt, "in_fmt", arithmetic=False)
        self._out_fmt = check_format(out_fmt, "out_fmt", arithmetic=False)
        super().__init__({"i": In(self._in_fmt.width), "o": Out(self._out_fmt.width)},
                         rounding=rounding, rbits=rbits, saturate=saturate, stages=stages)

    @property
    def in_fmt(self) -> FloatFormat:
        return self._in_fmt

    @property
    def out_fmt(self) -> FloatFormat:
        return self._out_fmt

    def elaborate(self, platform):
        m = Module()
        f = unpack(m, self.i, self._in_fmt, "i")
        f, rand = self._cut(m, f, getattr(self, "rand", None))
        m.d.comb += self.o.eq(self._round(m, f, self._out_fmt, rand))
        return m
