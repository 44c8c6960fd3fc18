"""``Lanes``: many copies of a combinational unit side by side, for fast simulation.

Simulators pay per transaction, not per gate: driving 16 operand pairs per step instead of one
cuts the cost of an exhaustive run by about that factor. Every port of the wrapped unit becomes
``lanes`` times wider, lane ``i`` in bits ``[i*w, (i+1)*w)``.
"""

from __future__ import annotations

from amaranth.hdl import Module, Shape
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .params import check_int

__all__ = ["Lanes"]


class Lanes(wiring.Component):
    """``lanes`` copies of the combinational unit ``make()`` with concatenated ports.

    Members
    -------
    (every port of the unit) : lanes times its width
        Lane i of the port in bits ``[i*w, (i+1)*w)``.
    """

    def __init__(self, make, lanes):
        self._lanes = check_int(lanes, "lanes", 1, 4096)
        self._units = [make() for _ in range(self._lanes)]
        unit = self._units[0]
        if unit.latency != 0:
            raise ValueError(f"Lanes wraps combinational units only, not latency {unit.latency}")
        self._unit = unit
        ports = {}
        for name, member in unit.signature.members.items():
            width = Shape.cast(member.shape).width * self._lanes
            ports[name] = In(width) if member.flow is wiring.In else Out(width)
        super().__init__(ports)

    @property
    def lanes(self) -> int:
        return self._lanes

    @property
    def unit(self):
        return self._unit

    @property
    def latency(self) -> int:
        return 0

    @property
    def throughput(self) -> int:
        return self._lanes

    def elaborate(self, platform):
        m = Module()
        for i, unit in enumerate(self._units):
            m.submodules[f"lane{i}"] = unit
            for name, member in unit.signature.members.items():
                w = Shape.cast(member.shape).width
                port, inner = getattr(self, name), getattr(unit, name)
                if member.flow is wiring.In:
                    m.d.comb += inner.eq(port[i * w:(i + 1) * w])
                else:
                    m.d.comb += port[i * w:(i + 1) * w].eq(inner)
        return m
