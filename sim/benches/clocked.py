"""Shared cocotb setup for clocked units: clock, reset, a cycle counter."""

from __future__ import annotations

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import RisingEdge


class Testbench:
    """Clock and reset for an Amaranth ``sync`` design (ports ``clk``, ``rst``)."""

    def __init__(self, dut):
        self.dut = dut
        self.cycle = 0

    async def start(self):
        cocotb.start_soon(Clock(self.dut.clk, 10, unit="ns").start())
        cocotb.start_soon(self._count())
        await self.reset()

    async def _count(self):
        while True:
            await RisingEdge(self.dut.clk)
            self.cycle += 1

    async def reset(self):
        self.dut.rst.value = 1
        for _ in range(2):
            await RisingEdge(self.dut.clk)
        self.dut.rst.value = 0
