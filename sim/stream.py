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
import random
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


def stall_pattern(probability: float, rng: random.Random) -> Callable[[], bool]:
    """A source of 'hold this cycle' decisions: never with 0, random with a probability."""
    if probability <= 0:
        return lambda: False
    return lambda: rng.random() < probability


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
    """Drives beats onto ``valid``/``data`` (+ extra signals) and waits for ``ready``."""

    def __init__(self, clk, valid, ready, signals: dict, stall: Callable[[], bool]):
        self.clk, self.valid, self.ready, self.signals, self.stall = (clk, valid, ready, signals,
                                                                      stall)

    async def send(self, beats: list[dict]):
        from cocotb.triggers import ReadOnly, RisingEdge

        self.valid.value = 0
        for beat in beats:
            while self.stall():
                self.valid.value = 0
                await RisingEdge(self.clk)
            self.valid.value = 1
            for name, value in beat.items():
                self.signals[name].value = value
            while True:
                await ReadOnly()
                taken = int(self.ready.value) == 1
                await RisingEdge(self.clk)
                if taken:
                    break
        self.valid.value = 0


class ValidReadyMonitor:
    """Collects ``data`` of every handshake, driving ``ready`` with random stalls."""

    def __init__(self, clk, valid, ready, data, stall: Callable[[], bool]):
        self.clk, self.valid, self.ready, self.data, self.stall = clk, valid, ready, data, stall
        self.beats: list[tuple[int, int]] = []  # (cycle, data)

    async def run(self, count: int, cycle_counter: Callable[[], int]):
        from cocotb.triggers import ReadOnly, RisingEdge

        while len(self.beats) < count:
            self.ready.value = 0 if self.stall() else 1
            await ReadOnly()
            if int(self.valid.value) and int(self.ready.value):
                self.beats.append((cycle_counter(), int(self.data.value)))
            await RisingEdge(self.clk)
