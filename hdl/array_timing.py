"""Cycle timing of a MacArray, without building it: the formulas the RTL is tested against.

``MacArray`` (``hdl/array.py``) delegates its timing properties to an ``ArrayTiming`` of its
parameters, and the throughput model (``model/throughput.py``) uses one directly, so a projection
needs no HDL toolkit. See ``hdl/array.py`` for the dataflow and the controller's rules these
formulas follow; the tests compare them with the RTL cycle by cycle.
"""

from __future__ import annotations

from dataclasses import dataclass

from .params import check_chunk, check_int, check_interleave

__all__ = ["ArrayTiming"]


@dataclass(frozen=True)
class ArrayTiming:
    """Timing of a ``rows x cols`` MacArray with chunk length ``chunk`` (None: no chunking),
    ``stages`` product registers and ``interleave`` dot products per accumulation loop."""

    rows: int
    cols: int
    chunk: int | None
    stages: int = 0
    interleave: int = 1

    def __post_init__(self) -> None:
        check_int(self.rows, "rows", 1, 64)
        check_int(self.cols, "cols", 1, 64)
        check_chunk(self.chunk)
        check_int(self.stages, "stages", 0, 1)
        check_interleave(self.interleave)

    @property
    def tile_cols(self) -> int:
        """Columns of a C tile: ``cols x interleave``."""
        return self.cols * self.interleave

    @property
    def edge_latency(self) -> int:
        """Cycles of a row-edge outer addition: 1, or 2 when its loop is cut (interleave 2)."""
        return self.interleave

    @property
    def segment(self) -> int | None:
        """PEs of a row that share one outer (chunk) adder: ``min(cols, chunk)``; None without
        chunking."""
        return None if self.chunk is None else min(self.cols, self.chunk)

    @property
    def pe_latency(self) -> int:
        """Cycles from a PE's last addend to its result in the row: the PE's accumulator
        (``interleave`` + stages) plus, with chunking, the row-edge outer addition
        (``edge_latency``)."""
        return self.stages + self.interleave * (1 if self.chunk is None else 2)

    @property
    def latency(self) -> int:
        """Cycles from the last input beat of a tile to its first output row."""
        return self.pe_latency + self.cols + self.interleave - 1

    @property
    def throughput(self) -> int:
        """Multiply-accumulates per cycle at full occupancy."""
        return self.rows * self.cols

    @property
    def min_tile_spacing(self) -> int:
        """Least number of cycles between the last beats of consecutive tiles."""
        return max(self.rows, self.cols) * self.interleave

    def cycles(self, k: int, tiles: int = 1) -> int:
        """Exact cycles from the first input beat to the last output beat (inclusive) for
        ``tiles`` back-to-back tiles of length ``k``, with no stalls on any stream."""
        check_int(k, "K", 1)
        check_int(tiles, "tiles", 1)
        # The controller counts in beat slots of `interleave` cycles (see elaborate); a beat's
        # last slot enters the array interleave - 1 cycles after the beat.
        n = self.interleave
        first = self._last_beat(k, None)
        period = self._last_beat(k, 0)  # every later tile starts from the same state
        return (n * (first + (tiles - 1) * period) + n - 1 + self.rows + self.cols
                + self.pe_latency)

    def _last_beat(self, k: int, previous: int | None) -> int:
        """Beat slot of a tile's last beat when its first beat is offered the slot after
        ``previous`` (the previous tile's last beat; None: the array was idle), applying the
        controller's rules (see the module docstring)."""
        start = 0 if previous is None else previous + 1
        spacing = max(self.rows, self.cols)
        if self.chunk is None:
            return start + k - 1 if previous is None else max(start + k - 1, previous + spacing)
        cl = self.chunk
        seg = min(self.cols, cl)  # the segment
        n_chunks = -(-k // cl)
        # first close: at position min(CL, K) - 1, at least `cols` after the previous tile
        close = start + min(cl, k) - 1
        if previous is not None:
            close = max(close, previous + self.cols, previous + seg)
        if n_chunks > 1:
            close += (n_chunks - 2) * max(cl, seg)  # full chunks: CL >= segment apart
            close += max(k - (n_chunks - 1) * cl, seg)  # the last chunk (possibly short)
        if previous is not None:
            close = max(close, previous + spacing)
        return close
