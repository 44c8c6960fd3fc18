"""MacArray: an output-stationary systolic GEMM engine of ``rows x cols`` MacPEs.

Contract: ``docs/contract.md`` section 3; every output equals ``golden.gemm`` bit for bit.

Dataflow (output-stationary): C[i, j] is computed by PE(i, j). A beat of the ``a`` stream
carries column k of A (``rows`` values), a beat of ``b`` carries row k of B (``cols`` values); a
beat is taken when both are valid (a join). Row i of A enters through an ``i``-register skew and
moves right one PE per cycle; column j of B enters through a ``j``-register skew and moves down
one PE per cycle, so PE(i, j) sees ``A[i, k]`` and ``B[k, j]`` together ``i + j`` cycles after
the beat; the framing (valid, chunk start and close, first chunk, last) travels with A. When
row i of C is complete it is (optionally quantized to ``out_fmt`` and) pushed into an output FIFO
of ``rows`` entries, drained by the ``c`` stream (one row of C per beat, ``c_last`` on the
tile's last row).

Chunk accumulation (``chunk`` = CL) is split as SPEC's order splits it. Each PE is a
single-adder ``MacPE`` that sums one chunk (it restarts from +0 when a chunk starts) and no
more. The outer sums live at the edge of each row, in *segments* of ``segment = min(cols, CL)``
PEs sharing one outer adder: when PE j of a segment closes a chunk, its chunk sum (still in its
accumulator register for that one cycle) is added to its outer sum by the segment's adder.
The segment's outer sums form a ring that rotates by one per addition: the PEs of a segment
close their chunks in order, one per cycle, so the ring's head is always the outer sum of the
PE whose chunk closes. After the row's last chunk the rings hold row i of C in order. The
controller counts chunk positions once for the whole array (no counter per PE) and keeps two
chunk closes at least ``segment`` cycles apart, so a segment never has two closes in one cycle,
and the first close of a tile at least ``cols`` cycles after the previous tile's last beat, so a
ring is read before it starts the next tile. Full chunks close CL >= ``segment`` beats apart;
only a short last chunk (K mod CL < ``segment``) or short tiles wait, and ``cycles()`` counts
those waits. Without chunking each PE's accumulator is its result, held until the row is done.

Back-pressure: the whole array (skews, PEs, result registers) advances only while the output
FIFO has room, so a stalled ``c`` stream freezes it without losing anything. Missing input
beats just send bubbles through the array. Tiles may follow each other back to back; a tile's
last beat is taken at least ``max(rows, cols)`` cycles after the previous tile's last beat
(results appear a fixed time after it), so results of consecutive tiles never collide in a
result register or the FIFO.

Timing without stalls: ``cycles(K)`` from the first input beat to the last output beat,
inclusive, is ``K + waits + rows + cols + pe_latency - 1`` (``pe_latency``: 2 + stages with
chunking, the edge addition included, 1 + stages without; ``waits`` as above, 0 unless a last
chunk or a tile is shorter than a segment). Back-to-back tiles of the same K follow one another
every ``max(K + waits, rows, cols)`` cycles or so; ``cycles(K, tiles)`` is exact.
"""

from __future__ import annotations

from amaranth.hdl import Cat, EnableInserter, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.fifo import SyncFIFO
from amaranth.lib.wiring import In, Out

from fp8forge.golden.formats import FloatFormat, Rounding

from .accumulator import MacPE
from .arith import Quantizer, _guard_bits
from .array_timing import ArrayTiming
from .fp import exact_sum, round_pack, unpack
from .params import check_chunk, check_format, check_int, check_interleave, check_rounding
from .pipeline import register, register_fields

#: Framing bits that travel with A: beat valid; first / last addend of a chunk; the chunk is
#: the dot product's first; the beat is the dot product's last; with ``interleave`` 2, the
#: interleaved dot product (slot) the cycle carries.
_VALID, _START, _CLOSE, _FIRST_CHUNK, _LAST, _SLOT = range(6)

__all__ = ["MacArray"]


class _Core(wiring.Component):
    """The systolic grid and the row-edge outer accumulators; every register in it advances
    only when the parent enables it."""

    def __init__(self, array: MacArray):
        self._array = array
        rows, cols = array.rows, array.cols
        w_in, w_acc = array.in_fmt.width, array.acc_fmt.width
        super().__init__({
            "frame": In(6), "a": In(rows * w_in), "b": In(cols * w_in),
            "row_done": Out(rows), "row_data": Out(rows * array.tile_cols * w_acc),
        })

    def elaborate(self, platform):
        m = Module()
        arr = self._array
        rows, cols = arr.rows, arr.cols
        w_in, w_acc = arr.in_fmt.width, arr.acc_fmt.width
        # Inputs to the left edge of each row / top edge of each column, skewed.
        a_in = [register(m, self.a[i * w_in:(i + 1) * w_in], f"a_skew{i}", i) for i in range(rows)]
        f_in = [register(m, self.frame, f"frame_skew{i}", i) for i in range(rows)]
        b_in = [register(m, self.b[j * w_in:(j + 1) * w_in], f"b_skew{j}", j) for j in range(cols)]
        b_down = list(b_in)
        for i in range(rows):
            a_right, f_right = a_in[i], f_in[i]
            pes, frames = [], []
            for j in range(cols):
                # One chunk per accumulation: the PE restarts at a chunk's first addend and its
                # result is ready one cycle after the chunk's last (o_valid).
                pe = MacPE(arr.in_fmt, arr.acc_fmt, chunk=None, stages=arr.stages,
                           interleave=arr.interleave)
                m.submodules[f"pe_{i}_{j}"] = pe
                m.d.comb += [
                    pe.a.eq(a_right), pe.b.eq(b_down[j]), pe.i_valid.eq(f_right[_VALID]),
                    pe.i_first.eq(f_right[_START]), pe.i_last.eq(f_right[_CLOSE]),
                ]
                a_right = register(m, a_right, f"a_{i}_{j}")
                f_right = register(m, f_right, f"f_{i}_{j}")
                b_down[j] = register(m, b_down[j], f"b_{i}_{j}")
                pes.append(pe)
                if arr.chunk is not None or arr.interleave > 1:
                    # the row edge reads the frame of the addend whose result it takes
                    frames.append(register(m, f_right, f"fv_{i}_{j}",
                                           arr.stages + arr.interleave - 1))
            done, data = (self._hold(m, i, pes, frames) if arr.chunk is None else
                          self._edge(m, i, pes, frames))
            width = arr.tile_cols * w_acc
            m.d.comb += [self.row_done[i].eq(done),
                         self.row_data[i * width:(i + 1) * width].eq(data)]
        return m

    def _hold(self, m: Module, i: int, pes: list[MacPE], frames: list):
        """Without chunking: each PE's accumulator is its result (one per interleaved slot);
        hold them until the row's last PE finishes its last slot."""
        n = self._array.interleave
        held = []
        for s in range(n):
            for j, pe in enumerate(pes):
                if s == n - 1 and j == len(pes) - 1:
                    held.append(pe.o_data)  # the last result: read as it appears
                    continue
                reg = Signal(len(pe.o_data), name=f"c_{i}_{j}" + (f"_{s}" if n > 1 else ""))
                with m.If(pe.o_valid & _in_slot(frames, j, s, n)):
                    m.d.sync += reg.eq(pe.o_data)
                held.append(reg)
        return pes[-1].o_valid & _in_slot(frames, len(pes) - 1, n - 1, n), Cat(*held)

    def _edge(self, m: Module, i: int, pes: list[MacPE], frames: list):
        """Row i's outer accumulators: one adder and a ring of outer sums per segment and
        interleaved slot."""
        arr = self._array
        seg, n = arr.segment, arr.interleave
        assert seg is not None  # edges exist only with a chunk length
        outs = []
        for s in range(n):
            for s0 in range(0, len(pes), seg):
                group = list(range(s0, min(s0 + seg, len(pes))))
                name = f"edge_{i}_{s0 // seg}" + (f"_{s}" if n > 1 else "")
                outs += self._segment(m, name, [(pes[j], frames[j], _in_slot(frames, j, s, n))
                                                for j in group])
        last = pes[-1]
        done = Signal(name=f"row_done_{i}")
        m.d.comb += done.eq(register(m, last.o_valid & frames[-1][_LAST]
                                     & _in_slot(frames, len(pes) - 1, n - 1, n),
                                     f"row_done_{i}", self._array.edge_latency))
        return done, Cat(*outs)

    def _segment(self, m: Module, name: str, members: list) -> list[Signal]:
        """One segment's outer adder and ring; ``members``: (PE, its frame, the PE's result is
        this slot's). Returns the ring (outer sums in PE order once the ring is at rest)."""
        fmt = self._array.acc_fmt
        ring = [Signal(fmt.width, name=f"{name}_outer{k}") for k in range(len(members))]
        event = Signal(name=f"{name}_event")
        chunk_sum = Signal(fmt.width, name=f"{name}_chunk")
        first_chunk = Signal(name=f"{name}_first")
        # At most one PE of the segment closes per cycle (the controller's spacing).
        takes = [pe.o_valid & mine for pe, _, mine in members]
        m.d.comb += [
            event.eq(Cat(*takes).any()),
            chunk_sum.eq(_or_all([Mux(t, pe.o_data, 0) for t, (pe, _, _) in zip(
                takes, members, strict=True)])),
            first_chunk.eq(_or_all([t & f[_FIRST_CHUNK] for t, (_, f, _) in zip(
                takes, members, strict=True)])),
        ]
        total = exact_sum(m, unpack(m, Mux(first_chunk, 0, ring[0]), fmt, f"{name}_a"),
                          unpack(m, chunk_sum, fmt, f"{name}_b"),
                          _guard_bits(Rounding.RNE, 0), name)
        if self._array.edge_latency == 1:
            new = round_pack(m, total, fmt, Rounding.RNE, name=name)
            with m.If(event):
                m.d.sync += [ring[k].eq(ring[k + 1]) for k in range(len(ring) - 1)]
                m.d.sync += ring[-1].eq(new)
            return ring
        # Pipelined (interleave 2): the sum is rounded one cycle later. The ring rotates when
        # the head is read; the rounded sum lands at the tail then, or one place before it if
        # the ring rotated again meanwhile (the next PE's close, the cycle after).
        cut = register_fields(m, total, f"{name}_cut")
        cut_event = register(m, event, f"{name}_cut_event")
        new = round_pack(m, cut, fmt, Rounding.RNE, name=name)
        with m.If(event):
            m.d.sync += [ring[k].eq(ring[k + 1]) for k in range(len(ring) - 1)]
        with m.If(cut_event):
            if len(ring) > 1:
                with m.If(event):
                    m.d.sync += ring[-2].eq(new)
                with m.Else():
                    m.d.sync += ring[-1].eq(new)
            else:
                m.d.sync += ring[0].eq(new)
        return ring


def _in_slot(frames: list, j: int, s: int, n: int):
    """PE j's result this cycle belongs to interleaved slot s (always, without interleave)."""
    return 1 if n == 1 else frames[j][_SLOT] == s


def _or_all(values: list):
    """Bitwise OR of a list of values (a one-hot select when at most one is nonzero)."""
    out = values[0]
    for v in values[1:]:
        out = out | v
    return out


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
    interleave : int
        1, or 2: every accumulation loop (PEs and row-edge adders) is cut once for a shorter
        clock, and each PE computes two outputs, C[i, j] and C[i, j + cols], in alternate
        cycles. A tile is then ``rows x (2 cols)``, a beat carries row k of that B
        (``tile_cols`` values) and is taken every other cycle (``rows x cols`` MACs per cycle,
        as without interleaving).

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
    b_data : In(tile_cols * in_fmt.width)
        ``B[k, j]`` in bits ``[j*w, (j+1)*w)``.
    b_ready : Out(1)
        The ``b`` beat is taken this cycle (with the matching ``a`` beat).
    c_valid : Out(1)
        A row of C is presented.
    c_data : Out(tile_cols * out width)
        ``C[i, j]`` in bits ``[j*w, (j+1)*w)``, rows in order.
    c_last : Out(1)
        The row is the tile's last.
    c_ready : In(1)
        The consumer takes the row.
    """

    def __init__(self, in_fmt, acc_fmt, *, rows, cols, chunk, out_fmt=None,
                 out_rounding=Rounding.RNE, stages=0, interleave=1):
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
        self._interleave = check_interleave(interleave)
        self._timing = ArrayTiming(self._rows, self._cols, self._chunk, self._stages,
                                   self._interleave)
        w_in = self._in_fmt.width
        super().__init__({
            "a_valid": In(1), "a_last": In(1), "a_data": In(self._rows * w_in), "a_ready": Out(1),
            "b_valid": In(1), "b_data": In(self.tile_cols * w_in), "b_ready": Out(1),
            "c_valid": Out(1), "c_data": Out(self.tile_cols * self.out_width), "c_last": Out(1),
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
    def interleave(self) -> int:
        return self._interleave

    @property
    def timing(self) -> ArrayTiming:
        """The array's cycle timing (``hdl/array_timing.py``)."""
        return self._timing

    @property
    def tile_cols(self) -> int:
        """Columns of a C tile: ``cols x interleave``."""
        return self._timing.tile_cols

    @property
    def segment(self) -> int | None:
        """PEs of a row that share one outer (chunk) adder: ``min(cols, chunk)``; None without
        chunking."""
        return self._timing.segment

    @property
    def edge_latency(self) -> int:
        return self._timing.edge_latency

    @property
    def pe_latency(self) -> int:
        return self._timing.pe_latency

    @property
    def latency(self) -> int:
        """Cycles from the last input beat of a tile to its first output row."""
        return self._timing.latency

    @property
    def throughput(self) -> int:
        """Multiply-accumulates per cycle at full occupancy."""
        return self._timing.throughput

    @property
    def min_tile_spacing(self) -> int:
        return self._timing.min_tile_spacing

    def cycles(self, k: int, tiles: int = 1) -> int:
        """Exact cycles from the first input beat to the last output beat (inclusive) for
        ``tiles`` back-to-back tiles of length ``k``, with no stalls on any stream."""
        return self._timing.cycles(k, tiles)

    # -- hardware --------------------------------------------------------------------------------

    def elaborate(self, platform):
        m = Module()
        rows, cols, n = self._rows, self._cols, self._interleave
        w_in, w_acc, w_out = self._in_fmt.width, self._acc_fmt.width, self.out_width
        # Depth rows holds a whole tile; at least 2, since a full one-entry FIFO cannot take a
        # row in the cycle it gives one (a one-row array would stall once per tile).
        m.submodules.fifo = fifo = SyncFIFO(width=self.tile_cols * w_out + 1,
                                            depth=max(rows, 2))
        run = fifo.w_rdy  # freeze everything while the output FIFO is full
        core = _Core(self)
        m.submodules.core = EnableInserter(run)(core)

        # With interleave 2 a beat slot is two cycles: a beat is taken in the first (phase 0,
        # slot 0: columns j of B) and replayed from registers in the second (slot 1: columns
        # cols + j). The controller's counters count beat slots.
        slot_start = Signal()
        if n > 1:
            phase = Signal(range(n), name="phase")
            m.d.comb += slot_start.eq(phase == 0)
            with m.If(run):
                m.d.sync += phase.eq(Mux(phase == n - 1, 0, phase + 1))
        else:
            m.d.comb += slot_start.eq(1)

        # Results appear a fixed time after a tile's last beat, so the last beats of consecutive
        # tiles are kept at least max(rows, cols) advancing beat slots apart.
        spacing = max(rows, cols)
        since_last = Signal(range(spacing + 1), init=spacing)
        in_tile = Signal()  # a tile has started and its last beat is not yet taken
        may_close = Signal(init=1)
        closes = self.a_last
        start = ~in_tile
        later_chunk = Signal()  # a chunk of this tile has closed already
        if self._chunk is not None:
            # Chunk positions are counted here once; chunk closes are spaced for the edges.
            pos = Signal(range(self._chunk))
            since_close = Signal(range(self.segment + 1), init=self.segment)
            closes = self.a_last | (pos == self._chunk - 1)
            start = pos == 0
            m.d.comb += may_close.eq((since_close >= self.segment)
                                     & (later_chunk | (since_last >= self._cols)))
        can_take = (run & slot_start & (~self.a_last | (since_last >= spacing))
                    & (~closes | may_close))
        take = self.a_valid & self.b_valid & can_take
        m.d.comb += [self.a_ready.eq(self.b_valid & can_take),
                     self.b_ready.eq(self.a_valid & can_take)]
        with m.If(run & slot_start):
            with m.If(take & self.a_last):
                m.d.sync += since_last.eq(1)
            with m.Elif(since_last < spacing):
                m.d.sync += since_last.eq(since_last + 1)
            with m.If(take):
                m.d.sync += [in_tile.eq(~self.a_last),
                             later_chunk.eq(closes & ~self.a_last | later_chunk & ~self.a_last)]
            if self._chunk is not None:
                with m.If(take):
                    m.d.sync += pos.eq(Mux(closes, 0, pos + 1))
                with m.If(take & closes):
                    m.d.sync += since_close.eq(1)
                with m.Elif(since_close < self.segment):
                    m.d.sync += since_close.eq(since_close + 1)
        frame = Signal(6)
        m.d.comb += [
            frame[_VALID].eq(take), frame[_START].eq(start), frame[_CLOSE].eq(closes),
            frame[_FIRST_CHUNK].eq(~later_chunk), frame[_LAST].eq(self.a_last),
        ]
        slot_width = cols * w_in
        if n == 1:
            m.d.comb += [core.frame.eq(frame), core.a.eq(self.a_data), core.b.eq(self.b_data)]
        else:
            # (interleave is at most 2: one slot to replay)
            a_hold, frame_hold = Signal.like(self.a_data), Signal.like(frame)
            b_hold = Signal(slot_width)
            with m.If(run & slot_start):
                m.d.sync += [a_hold.eq(self.a_data), b_hold.eq(self.b_data[slot_width:]),
                             frame_hold.eq(frame)]
            with m.If(slot_start):
                m.d.comb += [core.frame.eq(frame), core.a.eq(self.a_data),
                             core.b.eq(self.b_data[:slot_width])]
            with m.Else():
                m.d.comb += [core.frame.eq(frame_hold), core.frame[_SLOT].eq(phase),
                             core.a.eq(a_hold),
                             core.b.eq(b_hold)]

        # One row of C completes per cycle at most (tile spacing >= rows): select it, quantize
        # it with one Quantizer per column, push it.
        tile_cols = self.tile_cols
        row_acc = Signal(tile_cols * w_acc)
        row_last = Signal()
        for i in range(rows):
            with m.If(core.row_done[i]):
                m.d.comb += [row_acc.eq(core.row_data.word_select(i, tile_cols * w_acc)),
                             row_last.eq(i == rows - 1)]
        values = []
        for j in range(tile_cols):
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
            self.c_data.eq(fifo.r_data[:tile_cols * w_out]),
            self.c_last.eq(fifo.r_data[tile_cols * w_out]),
            fifo.r_en.eq(self.c_ready),
        ]
        return m
