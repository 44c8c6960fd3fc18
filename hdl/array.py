"""MacArray: an output-stationary systolic GEMM engine of ``rows x cols`` MacPEs.

Contract: ``docs/contract.md`` section 3; every output equals ``golden.gemm`` bit for bit.

Dataflow (output-stationary): C[i, j] stays in PE(i, j), which runs one chunk-based dot product
(``MacPE``) over K. A beat of the ``a`` stream carries column k of A (``rows`` values), a beat
of ``b`` carries row k of B (``cols`` values); a beat is taken when both are valid (a join).
Row i of A enters through an ``i``-register skew and moves right one PE per cycle; column j of
B enters through a ``j``-register skew and moves down one PE per cycle, so PE(i, j) sees
``A[i, k]`` and ``B[k, j]`` together ``i + j`` cycles after the beat; the ``valid``/``first``/
``last`` framing travels with A. When PE(i, cols-1) finishes, row i of C (optionally quantized
to ``out_fmt``) is pushed into an output FIFO of ``rows`` entries, drained by the ``c`` stream
(one row of C per beat, ``c_last`` on the tile's last row).

Back-pressure: the whole array (skews, PEs, result registers) advances only while the output
FIFO has room, so a stalled ``c`` stream freezes it without losing anything. Missing input
beats just send bubbles through the array. Tiles may follow each other back to back; a tile's
last beat is taken at least ``max(rows, cols)`` cycles after the previous tile's last beat
(results appear a fixed time after it), so results of consecutive tiles never collide in a
result register or the FIFO.

Timing without stalls: ``cycles(K)`` from the first input beat to the last output beat,
inclusive, is ``K + rows + cols + pe_latency - 1`` (``pe_latency = MacPE.latency``: 2 + stages
with chunking, 1 + stages without); ``n`` tiles of
the same K back to back take ``(n - 1) * max(K, rows, cols) + cycles(K)``.
"""

from __future__ import annotations

from amaranth.hdl import Cat, EnableInserter, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.fifo import SyncFIFO
from amaranth.lib.wiring import In, Out

from fp8forge.golden.formats import FloatFormat, Rounding

from .accumulator import MacPE
from .arith import Quantizer
from .params import check_chunk, check_format, check_int, check_rounding
from .pipeline import register

__all__ = ["MacArray"]


class _Core(wiring.Component):
    """The systolic grid; every register in it advances only when the parent enables it."""

    def __init__(self, array: MacArray):
        self._array = array
        rows, cols = array.rows, array.cols
        w_in, w_acc = array.in_fmt.width, array.acc_fmt.width
        super().__init__({
            "valid": In(1), "first": In(1), "last": In(1),
            "a": In(rows * w_in), "b": In(cols * w_in),
            "row_done": Out(rows), "row_data": Out(rows * cols * w_acc),
        })

    def elaborate(self, platform):
        m = Module()
        arr = self._array
        rows, cols = arr.rows, arr.cols
        w_in, w_acc = arr.in_fmt.width, arr.acc_fmt.width
        # Inputs to the left edge of each row / top edge of each column, skewed.
        a_in = [register(m, self.a[i * w_in:(i + 1) * w_in], f"a_skew{i}", i) for i in range(rows)]
        frame = Cat(self.valid, self.first, self.last)
        f_in = [register(m, frame, f"frame_skew{i}", i) for i in range(rows)]
        b_in = [register(m, self.b[j * w_in:(j + 1) * w_in], f"b_skew{j}", j) for j in range(cols)]
        results = [[None] * cols for _ in range(rows)]
        b_down = list(b_in)
        for i in range(rows):
            a_right, f_right = a_in[i], f_in[i]
            for j in range(cols):
                pe = MacPE(arr.in_fmt, arr.acc_fmt, chunk=arr.chunk, stages=arr.stages)
                m.submodules[f"pe_{i}_{j}"] = pe
                m.d.comb += [
                    pe.a.eq(a_right), pe.b.eq(b_down[j]),
                    pe.i_valid.eq(f_right[0]), pe.i_first.eq(f_right[1]), pe.i_last.eq(f_right[2]),
                ]
                # Results of row i: kept until the row's last PE finishes.
                if j < cols - 1:
                    held = Signal(w_acc, name=f"c_{i}_{j}")
                    with m.If(pe.o_valid):
                        m.d.sync += held.eq(pe.o_data)
                    results[i][j] = held
                else:
                    results[i][j] = pe.o_data
                    m.d.comb += self.row_done[i].eq(pe.o_valid)
                a_right = register(m, a_right, f"a_{i}_{j}")
                f_right = register(m, f_right, f"f_{i}_{j}")
                b_down[j] = register(m, b_down[j], f"b_{i}_{j}")
            m.d.comb += self.row_data[i * cols * w_acc:(i + 1) * cols * w_acc].eq(
                Cat(*results[i]))
        return m


class MacArray(wiring.Component):
    """``C = A @ B`` tiles on a ``rows x cols`` output-stationary systolic array.

    Parameters
    ----------
    in_fmt, acc_fmt : FloatFormat
        Operand and accumulator formats (e5m2 / e6m9 in the paper, fp16 / fp32 baseline).
    rows, cols : int
        Array size: one tile of C is ``rows x cols``.
    chunk : int or None
        Chunk length of every PE's accumulation.
    out_fmt : FloatFormat, optional
        Quantize results to this format (e5m2 for the paper's GEMM outputs) with
        ``out_rounding`` (RNE or RTZ).
    stages : int
        Pipeline register between multiplier and accumulator in each PE (0 or 1).

    Members
    -------
    a_valid, a_last : In(1)
        Column k of A is presented; ``a_last`` marks k = K - 1 (the tile length).
    a_data : In(rows * in_fmt.width)
        ``A[i, k]`` in bits ``[i*w, (i+1)*w)``.
    a_ready : Out(1)
        The ``a`` beat is taken this cycle.
    b_valid : In(1)
        Row k of B is presented.
    b_data : In(cols * in_fmt.width)
        ``B[k, j]`` in bits ``[j*w, (j+1)*w)``.
    b_ready : Out(1)
        The ``b`` beat is taken this cycle (with the matching ``a`` beat).
    c_valid : Out(1)
        A row of C is presented.
    c_data : Out(cols * out width)
        ``C[i, j]`` in bits ``[j*w, (j+1)*w)``, rows in order.
    c_last : Out(1)
        The row is the tile's last.
    c_ready : In(1)
        The consumer takes the row.
    """

    def __init__(self, in_fmt, acc_fmt, *, rows, cols, chunk, out_fmt=None,
                 out_rounding=Rounding.RNE, stages=0):
        self._in_fmt = check_format(in_fmt, "in_fmt")
        self._acc_fmt = check_format(acc_fmt, "acc_fmt")
        self._rows = check_int(rows, "rows", 1, 64)
        self._cols = check_int(cols, "cols", 1, 64)
        self._chunk = check_chunk(chunk)
        self._out_fmt = None if out_fmt is None else check_format(out_fmt, "out_fmt",
                                                                   arithmetic=False)
        self._out_rounding = check_rounding(out_rounding)
        if self._out_rounding is Rounding.SR:
            raise ValueError("out_rounding must be RNE or RTZ (no random source for outputs)")
        self._stages = check_int(stages, "stages", 0, 1)
        w_in = self._in_fmt.width
        super().__init__({
            "a_valid": In(1), "a_last": In(1), "a_data": In(self._rows * w_in), "a_ready": Out(1),
            "b_valid": In(1), "b_data": In(self._cols * w_in), "b_ready": Out(1),
            "c_valid": Out(1), "c_data": Out(self._cols * self.out_width), "c_last": Out(1),
            "c_ready": In(1),
        })

    # -- parameters ------------------------------------------------------------------------------

    @property
    def in_fmt(self) -> FloatFormat:
        return self._in_fmt

    @property
    def acc_fmt(self) -> FloatFormat:
        return self._acc_fmt

    @property
    def out_fmt(self) -> FloatFormat | None:
        return self._out_fmt

    @property
    def out_width(self) -> int:
        return (self._out_fmt or self._acc_fmt).width

    @property
    def rows(self) -> int:
        return self._rows

    @property
    def cols(self) -> int:
        return self._cols

    @property
    def chunk(self) -> int | None:
        return self._chunk

    @property
    def stages(self) -> int:
        return self._stages

    @property
    def pe_latency(self) -> int:
        """Latency of one PE (``MacPE.latency``)."""
        return self._stages + (1 if self._chunk is None else 2)

    @property
    def latency(self) -> int:
        """Cycles from the last input beat of a tile to its first output row."""
        return self.pe_latency + self._cols

    @property
    def throughput(self) -> int:
        """Multiply-accumulates per cycle at full occupancy."""
        return self._rows * self._cols

    @property
    def min_tile_spacing(self) -> int:
        """Least number of cycles between the last beats of consecutive tiles."""
        return max(self._rows, self._cols)

    def cycles(self, k: int, tiles: int = 1) -> int:
        """Exact cycles from the first input beat to the last output beat (inclusive) for
        ``tiles`` back-to-back tiles of length ``k``, with no stalls on any stream."""
        check_int(k, "K", 1)
        check_int(tiles, "tiles", 1)
        one = k + self._rows + self._cols + self.pe_latency - 1
        return (tiles - 1) * max(k, self.min_tile_spacing) + one

    # -- hardware --------------------------------------------------------------------------------

    def elaborate(self, platform):
        m = Module()
        rows, cols = self._rows, self._cols
        w_acc, w_out = self._acc_fmt.width, self.out_width
        m.submodules.fifo = fifo = SyncFIFO(width=cols * w_out + 1, depth=rows)
        run = fifo.w_rdy  # freeze everything while the output FIFO is full
        core = _Core(self)
        m.submodules.core = EnableInserter(run)(core)

        # Results appear a fixed time after a tile's last beat, so the last beats of consecutive
        # tiles are kept at least max(rows, cols) advancing cycles apart.
        spacing = self.min_tile_spacing
        since_last = Signal(range(spacing + 1), init=spacing)
        in_tile = Signal()  # a tile has started and its last beat is not yet taken
        can_take = run & (~self.a_last | (since_last >= spacing))
        take = self.a_valid & self.b_valid & can_take
        m.d.comb += [self.a_ready.eq(self.b_valid & can_take),
                     self.b_ready.eq(self.a_valid & can_take)]
        with m.If(run):
            with m.If(take & self.a_last):
                m.d.sync += since_last.eq(1)
            with m.Elif(since_last < spacing):
                m.d.sync += since_last.eq(since_last + 1)
            with m.If(take):
                m.d.sync += in_tile.eq(~self.a_last)
        m.d.comb += [
            core.valid.eq(take), core.first.eq(~in_tile), core.last.eq(self.a_last),
            core.a.eq(self.a_data), core.b.eq(self.b_data),
        ]

        # One row of C completes per cycle at most (tile spacing >= rows): select it, quantize
        # it with one Quantizer per column, push it.
        row_acc = Signal(cols * w_acc)
        row_last = Signal()
        for i in range(rows):
            with m.If(core.row_done[i]):
                m.d.comb += [row_acc.eq(core.row_data[i * cols * w_acc:(i + 1) * cols * w_acc]),
                             row_last.eq(i == rows - 1)]
        values = []
        for j in range(cols):
            acc = row_acc[j * w_acc:(j + 1) * w_acc]
            if self._out_fmt is None:
                values.append(acc)
            else:
                q = Quantizer(self._acc_fmt, self._out_fmt, rounding=self._out_rounding)
                m.submodules[f"quant_{j}"] = q
                m.d.comb += q.i.eq(acc)
                values.append(q.o)
        row_out = Cat(*values, row_last)
        m.d.comb += [
            fifo.w_en.eq(run & (core.row_done != 0)),
            fifo.w_data.eq(row_out),
            self.c_valid.eq(fifo.r_rdy),
            self.c_data.eq(fifo.r_data[:cols * w_out]),
            self.c_last.eq(fifo.r_data[cols * w_out]),
            fifo.r_en.eq(self.c_ready),
        ]
        return m
