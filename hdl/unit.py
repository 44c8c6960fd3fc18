"""What every fp8forge generator promises besides its ports.

Every unit is an ``amaranth.lib.wiring.Component`` and a ``Unit``: ``latency`` (cycles from an
input to its result; 0 for combinational units) and ``throughput`` (inputs accepted per cycle
at full occupancy). Units that consume whole dot products (``ChunkAccumulator``, ``MacPE``,
``MacArray``) are also ``DotProductUnit``: ``cycles(k)`` is the exact cycle count the RTL takes
for one of length ``k``, the number the cocotb benches measure and the throughput model uses
(``MacArray``'s formula lives in ``array_timing.py`` without Amaranth, so the model can use
it without building a circuit). The Verilog header (``generate.py``) prints the first two.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

__all__ = ["DotProductUnit", "Unit"]


@runtime_checkable
class Unit(Protocol):
    @property
    def latency(self) -> int:
        """Cycles from an accepted input to its result (0: combinational)."""
        ...

    @property
    def throughput(self) -> int:
        """Inputs (operations, addends, MACs, bits) accepted per cycle at full occupancy."""
        ...


@runtime_checkable
class DotProductUnit(Unit, Protocol):
    def cycles(self, k: int) -> int:
        """Cycles from the first input of a length-``k`` dot product to its result."""
        ...
