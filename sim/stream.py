"""Reusable cocotb verification components: drivers, monitors and an in-order scoreboard.

Modelled on cocotbext-axi and the cocotb ``matrix_multiplier`` example: a driver pushes
transactions onto a valid/ready (or valid-only) interface with optional random stalls, a
monitor turns handshakes back into transactions, and the scoreboard compares what the monitor
saw with what the golden model predicts, in order, reporting the first mismatch in hex with
the seed that reproduces it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable

import numpy as np


def bench_params() -> dict:
    return json.loads(os.environ.get("FP8FORGE_BENCH", "{}"))


def bench_seed() -> int:
    return int(os.environ.get("FP8FORGE_SEED", "2018"))


def pack(values: Iterable[int], bits: int) -> int:
    out = 0
    for i, v in enumerate(values):
        out |= int(v) << (bits * i)
    return out


def unpack(value: int, bits: int, count: int) -> list[int]:
    mask = (1 << bits) - 1
    return [(value >> (bits * i)) & mask for i in range(count)]


class Scoreboard:
    """In-order comparison of observed bit patterns with golden predictions."""

    def __init__(self, name: str, width: int, seed: int):
        self.name, self.width, self.seed = name, width, seed
        self.checked = 0
        self.errors: list[str] = []

    def compare(self, got: np.ndarray, expected: np.ndarray, inputs: dict[str, np.ndarray]):
        got = np.asarray(got, dtype=np.uint64).ravel()
        expected = np.asarray(expected, dtype=np.uint64).ravel()
        if got.shape != expected.shape:
            self.errors.append(f"{self.name}: {got.size} results, expected {expected.size}")
            return
        self.checked += got.size
        bad = np.flatnonzero(got != expected)
        if bad.size:
            i = int(bad[0])
            digits = (self.width + 3) // 4
            shown = ", ".join(f"{k}={int(np.ravel(v)[i]):#x}" for k, v in inputs.items())
            self.errors.append(
                f"{self.name}: {bad.size} of {got.size} differ; first at {i}: {shown}: "
                f"expected {int(expected[i]):#0{digits + 2}x}, got {int(got[i]):#0{digits + 2}x}"
                f" (replay: FP8FORGE_SEED={self.seed})")

    def result(self) -> None:
        assert not self.errors, "\n".join(self.errors)
        assert self.checked > 0, f"{self.name}: nothing was checked"


class ValidReadyDriver:
    """Drives beats onto one or more joined ``valid`` signals plus payload signals, holding each
    beat until ``ready`` is seen at a rising edge; ``stall()`` inserts idle cycles."""

    def __init__(self, clk, valids: list, ready, signals: dict, stall: Callable[[], bool],
                 on_accept: Callable[[], None] | None = None):
        self.clk, self.valids, self.ready, self.signals = clk, valids, ready, signals
        self.stall, self.on_accept = stall, on_accept

    def _set_valid(self, value: int) -> None:
        for valid in self.valids:
            valid.value = value

    async def send(self, beats: Iterable[dict]):
        from cocotb.triggers import ReadOnly, RisingEdge

        self._set_valid(0)
        for beat in beats:
            while self.stall():
                self._set_valid(0)
                await RisingEdge(self.clk)
            self._set_valid(1)
            for name, value in beat.items():
                self.signals[name].value = value
            while True:
                await ReadOnly()
                taken = int(self.ready.value) == 1
                if taken and self.on_accept is not None:
                    self.on_accept()
                await RisingEdge(self.clk)
                if taken:
                    break
        self._set_valid(0)


class ValidMonitor:
    """Collects ``data`` in every cycle where ``valid`` is high (outputs without ready)."""

    def __init__(self, clk, valid, data):
        self.clk, self.valid, self.data = clk, valid, data
        self.beats: list[int] = []

    async def run(self):
        from cocotb.triggers import ReadOnly, RisingEdge

        while True:
            await ReadOnly()
            if int(self.valid.value):
                self.beats.append(int(self.data.value))
            await RisingEdge(self.clk)


class ValidReadyMonitor:
    """Collects ``data`` of every handshake, driving ``ready`` with random stalls."""

    def __init__(self, clk, valid, ready, data, stall: Callable[[], bool],
                 on_beat: Callable[[], None] | None = None):
        self.clk, self.valid, self.ready, self.data, self.stall = clk, valid, ready, data, stall
        self.on_beat = on_beat
        self.beats: list[int] = []

    async def run(self, count: int):
        from cocotb.triggers import ReadOnly, RisingEdge

        while len(self.beats) < count:
            self.ready.value = 0 if self.stall() else 1
            await ReadOnly()
            if int(self.valid.value) and int(self.ready.value):
                self.beats.append(int(self.data.value))
                if self.on_beat is not None:
                    self.on_beat()
            await RisingEdge(self.clk)
        self.ready.value = 0
