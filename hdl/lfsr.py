"""Maximal-length LFSR producing many stream bits per cycle (leap-forward).

Contract: ``docs/contract.md`` section 3; the stream is defined by ``golden/lfsr.py``, which
the tests compare bit for bit. Each enabled cycle advances the serial LFSR by ``outputs`` steps
at once: every next-state bit and every output bit is the XOR of a fixed subset of current
state bits, found at elaboration by running the serial recurrence symbolically over GF(2).
"""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from fp8forge.golden.lfsr import check_lfsr, tap_mask

from .params import check_int

__all__ = ["Lfsr"]


def leap_forward(width: int, steps: int) -> tuple[list[int], list[int]]:
    """(output masks, next-state masks): bit masks over the current state, per output / stage."""
    state = [1 << i for i in range(width)]  # stage i+1 as a combination of current bits
    taps = [t - 1 for t in range(1, width + 1) if (tap_mask(width) >> (t - 1)) & 1]
    outputs = []
    for _ in range(steps):
        outputs.append(state[width - 1])
        feedback = 0
        for t in taps:
            feedback ^= state[t]
        state = [feedback] + state[:-1]
    return outputs, state


class Lfsr(wiring.Component):
    """Fibonacci LFSR (XAPP052 taps) advancing ``outputs`` serial steps per enabled cycle.

    ``o`` shows the next ``outputs`` bits of the serial stream (bit j = j-th bit, LSB first)
    combinationally from the current state; a cycle with ``en`` high consumes them. Reset state
    is ``seed``. Latency 0; ``outputs`` bits per cycle.

    Members
    -------
    en : In(1)
        Consume ``o`` and advance the state by ``outputs`` steps.
    o : Out(outputs)
        The next ``outputs`` stream bits, LSB first.
    """

    def __init__(self, width=32, *, seed=1, outputs=1):
        self._width, self._seed = check_lfsr(width, seed)
        self._outputs = check_int(outputs, "outputs", 1, 4096)
        super().__init__({"en": In(1), "o": Out(self._outputs)})

    @property
    def width(self) -> int:
        return self._width

    @property
    def seed(self) -> int:
        return self._seed

    @property
    def outputs(self) -> int:
        return self._outputs

    @property
    def latency(self) -> int:
        return 0

    @property
    def throughput(self) -> int:
        """Stream bits delivered per cycle."""
        return self._outputs

    def elaborate(self, platform):
        m = Module()
        state = Signal(self._width, init=self._seed)
        out_masks, next_masks = leap_forward(self._width, self._outputs)
        m.d.comb += self.o.eq(Cat(*((state & mask).xor() for mask in out_masks)))
        with m.If(self.en):
            m.d.sync += state.eq(Cat(*((state & mask).xor() for mask in next_masks)))
        return m
