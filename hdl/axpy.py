"""The weight-update unit: ``lanes`` fused AXPYs ``y = round(a * x + y)`` per cycle.

Contract: ``docs/contract.md`` sections 2 (weight update) and 3 (``AxpyUnit``). Each lane is an
``FpFma``; the paper's updates use ``fmt = e6m9`` with SR, the FP32 baseline the same generator
with ``fmt = fp32`` and RNE. SR random integers come from an internal ``Lfsr`` (``rng="lfsr"``,
advanced once per accepted vector, lane i taking word bits ``[i*rbits, (i+1)*rbits)`` as
``golden.lfsr.lane_rand`` does) or from the ``rand`` port (``rng="port"``).
"""

from __future__ import annotations

from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from fp8forge.golden.design import DEFAULT_RBITS
from fp8forge.golden.formats import Rounding
from fp8forge.golden.lfsr import check_lfsr

from .arith import FpFma
from .lfsr import Lfsr
from .params import check_format, check_int, check_rbits, check_rounding
from .pipeline import register

__all__ = ["AxpyUnit"]


class AxpyUnit(wiring.Component):
    """``o_y[i] = round(a * x[i] + y[i])`` for ``lanes`` lanes, one fused rounding each.

    Parameters
    ----------
    fmt : FloatFormat
        Format of ``a``, ``x``, ``y`` and results (e6m9 in the paper, fp32 for the baseline).
    lanes : int
        Lanes per cycle; vector ports are ``lanes`` values concatenated, lane 0 in the LSBs.
    rounding : Rounding
        SR (default) or RNE/RTZ (no random numbers then).
    rbits : int
        SR random bits per lane.
    rng : "lfsr" or "port"
        Source of the SR random integers.
    seed, lfsr_width : int
        Internal LFSR seed and width (default: 32, or the smallest XAPP052 width holding
        ``lanes * rbits`` bits so the lanes of one cycle are linearly independent, up to 64).
    stages : int
        Pipeline registers (0..2); ``latency == stages``.

    Members
    -------
    i_valid : In(1)
        A vector is presented; it advances the internal LFSR.
    a : In(fmt.width)
        Scalar shared by all lanes (lambda, mu or -eta).
    x, y : In(lanes * fmt.width)
        Vectors, lane 0 in the LSBs.
    rand : In(lanes * rbits)
        SR random integers, lane 0 in the LSBs (``rng="port"`` with SR only).
    o_valid : Out(1)
        ``o_y`` holds a result vector, ``latency`` cycles after its inputs.
    o_y : Out(lanes * fmt.width)
        The updated vector.
    """

    def __init__(self, fmt, *, lanes=1, rounding=Rounding.SR, rbits=DEFAULT_RBITS, rng="lfsr",
                 seed=1, lfsr_width=None, stages=0):
        self._fmt = check_format(fmt, "fmt")
        self._lanes = check_int(lanes, "lanes", 1, 1024)
        self._rounding = check_rounding(rounding)
        self._sr = self._rounding is Rounding.SR
        self._rbits = check_rbits(rbits) if self._sr else 0
        if rng not in ("lfsr", "port"):
            raise ValueError(f"rng must be 'lfsr' or 'port', not {rng!r}")
        self._rng = rng
        self._stages = check_int(stages, "stages", 0, 2)
        bits = self._lanes * self._rbits
        self._lfsr_width = lfsr_width if lfsr_width is not None else min(64, max(32, bits))
        self._seed = seed
        if self._sr and rng == "lfsr":
            check_lfsr(self._lfsr_width, seed)  # fail at construction, not at elaboration
        w = self._fmt.width * self._lanes
        ports = {"i_valid": In(1), "a": In(self._fmt.width), "x": In(w), "y": In(w),
                 "o_valid": Out(1), "o_y": Out(w)}
        if self._sr and rng == "port":
            ports["rand"] = In(bits)
        super().__init__(ports)

    @property
    def fmt(self):
        return self._fmt

    @property
    def lanes(self) -> int:
        return self._lanes

    @property
    def rounding(self) -> Rounding:
        return self._rounding

    @property
    def stages(self) -> int:
        return self._stages

    @property
    def rbits(self) -> int:
        return self._rbits

    @property
    def lfsr_width(self) -> int:
        return self._lfsr_width

    @property
    def seed(self) -> int:
        return self._seed

    @property
    def latency(self) -> int:
        return self._stages

    @property
    def throughput(self) -> int:
        """AXPY elements per cycle."""
        return self._lanes

    def elaborate(self, platform):
        m = Module()
        w, rb = self._fmt.width, self._rbits
        rand = None
        if self._sr and self._rng == "lfsr":
            m.submodules.lfsr = lfsr = Lfsr(self._lfsr_width, seed=self._seed,
                                            outputs=self._lanes * rb)
            m.d.comb += lfsr.en.eq(self.i_valid)
            rand = lfsr.o
        elif self._sr:
            rand = self.rand
        for i in range(self._lanes):
            lane = FpFma(self._fmt, rounding=self._rounding, rbits=rb or DEFAULT_RBITS,
                         stages=self._stages)
            m.submodules[f"lane{i}"] = lane
            m.d.comb += [
                lane.a.eq(self.a),
                lane.x.eq(self.x[i * w:(i + 1) * w]),
                lane.y.eq(self.y[i * w:(i + 1) * w]),
                self.o_y[i * w:(i + 1) * w].eq(lane.o),
            ]
            if rand is not None:
                m.d.comb += lane.rand.eq(rand[i * rb:(i + 1) * rb])
        m.d.comb += self.o_valid.eq(register(m, self.i_valid, "valid", self._stages))
        return m
