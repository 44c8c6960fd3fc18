"""The Unit protocol: every generator states latency and throughput; the dot-product units
state cycles(k); Verilog generation refuses anything else."""

from __future__ import annotations

import pytest
from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from fp8forge.golden import PRESETS
from fp8forge.hdl.accumulator import ChunkAccumulator, MacPE
from fp8forge.hdl.array import MacArray
from fp8forge.hdl.array_timing import ArrayTiming
from fp8forge.hdl.generate import UNITS, UnitOptions, build_unit, generate_verilog
from fp8forge.hdl.unit import DotProductUnit, Unit

E5M2, E6M9 = PRESETS["e5m2"], PRESETS["e6m9"]


@pytest.mark.parametrize("name", list(UNITS))
def test_every_generator_is_a_unit(name):
    unit = build_unit(name, UnitOptions())
    assert isinstance(unit, Unit)
    assert unit.latency >= 0 and unit.throughput >= 1


@pytest.mark.parametrize("unit", [ChunkAccumulator(E6M9, chunk=4), MacPE(E5M2, E6M9, chunk=8),
                                  MacArray(E5M2, E6M9, rows=2, cols=2, chunk=4)],
                         ids=lambda u: type(u).__name__)
def test_dot_product_units_state_their_cycles(unit):
    assert isinstance(unit, DotProductUnit)
    assert unit.cycles(16) > unit.cycles(1) >= unit.latency


def test_array_timing_is_the_model_side_of_the_same_formula():
    """The throughput model reads ArrayTiming, which builds no circuit: same cycles."""
    array = MacArray(E5M2, E6M9, rows=4, cols=4, chunk=16)
    timing = ArrayTiming(rows=4, cols=4, chunk=16)
    assert isinstance(timing, DotProductUnit)
    assert [timing.cycles(k, tiles=t) for k in (1, 17, 300) for t in (1, 3)] == \
        [array.cycles(k, tiles=t) for k in (1, 17, 300) for t in (1, 3)]


class _NoTiming(wiring.Component):
    def __init__(self):
        super().__init__({"a": In(4), "o": Out(4)})

    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.o.eq(self.a)
        return m


def test_generation_refuses_a_component_that_is_not_a_unit():
    with pytest.raises(TypeError, match="_NoTiming is not an fp8forge Unit"):
        generate_verilog(_NoTiming(), "dut")
