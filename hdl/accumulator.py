"""Chunk-based accumulation (contract section 2) and the MAC processing element.

Dataflow of ``ChunkAccumulator`` with a chunk length (two adders, no bubbles; initiation
interval 1):

* cycle t, inner stage: the addend is added to the running chunk sum by a combinational
  ``FpAdd``-equivalent adder (``+0`` instead of the register on the first addend of a chunk,
  so ``-0`` becomes ``+0`` exactly as ``round(+0 + p)``). When the addend closes a chunk (the
  chunk is full, or ``last`` is set) the chunk is complete in the inner register at t+1;
* cycle t+1, outer stage: a second adder adds the finished chunk, read from the inner register
  in the one cycle it is there, to the running outer sum (``+0`` for the first chunk of a dot
  product) while the inner stage already restarts from +0 with the next chunk;
* cycle t+2: the outer-sum register holds the dot product whose ``last`` addend was accepted
  at t, and ``o_valid`` is high for one cycle; ``o_data`` is that register.

So ``latency == 2`` (from accepting ``last`` to ``o_valid``) and one addend is accepted every
cycle, also across dot-product boundaries (``first`` may follow ``last`` immediately). The
second adder costs area but no throughput; sharing one adder would need a bubble per chunk
(``K + ceil(K / chunk)`` cycles per dot product instead of ``K``).

Without chunking (``chunk=None``) there is one adder and no outer stage: the contract's outer
addition ``round(+0 + inner)`` is exact (the inner sum starts from +0, so it is never -0), so
the running sum register is the result, one cycle after the ``last`` addend (``latency == 1``).
This is the fair baseline accumulator: no logic the arithmetic does not need.

``o_data`` is the accumulating register itself and is the result only while ``o_valid`` is
high: consumers take it in that cycle (every user here does), which saves an output register.

``interleave=2`` cuts each adder's loop after the exact sum (``running_sum``): two
independent dot products then alternate cycle by cycle and every latency above doubles.

With ``Rounding.SR`` the inner addition of each addend uses ``rand`` and the outer addition of a
chunk uses ``rand_outer`` sampled with the addend that closes the chunk, as
``golden.chunked_sum(rand=..., rand_outer=...)`` numbers them.
"""

from __future__ import annotations

from amaranth.hdl import Module, Mux, Shape, Signal, Value
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from fp8forge.golden.arith import is_exact_product
from fp8forge.golden.design import DEFAULT_RBITS
from fp8forge.golden.formats import FloatFormat, Rounding

from .arith import FpMul, _guard_bits
from .fp import Fields, exact_sum, normalize, product, round_pack, select, unpack
from .params import (
    check_chunk,
    check_format,
    check_int,
    check_interleave,
    check_rbits,
    check_rounding,
)
from .pipeline import register, register_fields

__all__ = ["CHUNK_ADDERS", "ChunkAccumulator", "MacPE", "accumulate", "running_sum"]

#: Values of ``MacPE(chunk_adder=...)``.
CHUNK_ADDERS = ("dedicated", "shared")


class ChunkAccumulator(wiring.Component):
    """Chunk-based accumulator of ``acc_fmt`` addends, one per cycle.

    Parameters
    ----------
    acc_fmt : FloatFormat
        Format of addends, partial sums and result (e6m9 in the paper).
    chunk : int or None
        Chunk length CL; None means no chunking (one chunk per dot product).
    rounding : Rounding
        Rounding of every addition (RNE by default).
    rbits : int
        SR random bits per addition.
    interleave : int
        1, or 2 independent dot products interleaved by cycle parity (the addend of cycle t
        continues the dot product of cycle t - 2), for a loop cut once (``running_sum``).

    Members
    -------
    i_valid : In(1)
        An addend is presented this cycle.
    i_data : In(acc_fmt.width)
        The addend.
    i_first, i_last : In(1)
        The addend is the first / last of a dot product (both for K = 1).
    rand, rand_outer : In(rbits)
        SR only: random integers of the inner addition and of the outer addition of the chunk
        this addend closes.
    o_valid : Out(1)
        ``o_data`` holds a finished dot product (``latency`` cycles after its last addend).
    o_data : Out(acc_fmt.width)
        The dot product, while ``o_valid`` is high.
    """

    def __init__(self, acc_fmt, *, chunk, rounding=Rounding.RNE, rbits=DEFAULT_RBITS,
                 interleave=1):
        self._acc_fmt = check_format(acc_fmt, "acc_fmt")
        self._chunk = check_chunk(chunk)
        self._interleave = check_interleave(interleave)
        self._rounding = check_rounding(rounding)
        self._rbits = check_rbits(rbits) if self._rounding is Rounding.SR else 0
        w = self._acc_fmt.width
        ports = {
            "i_valid": In(1), "i_data": In(w), "i_first": In(1), "i_last": In(1),
            "o_valid": Out(1), "o_data": Out(w),
        }
        if self._rounding is Rounding.SR:
            ports.update(rand=In(self._rbits))
            if self._chunk is not None:
                ports.update(rand_outer=In(self._rbits))
        super().__init__(ports)

    @property
    def acc_fmt(self):
        return self._acc_fmt

    @property
    def chunk(self) -> int | None:
        return self._chunk

    @property
    def rounding(self) -> Rounding:
        return self._rounding

    @property
    def rbits(self) -> int:
        return self._rbits

    @property
    def interleave(self) -> int:
        return self._interleave

    @property
    def latency(self) -> int:
        """Cycles from accepting a dot product's ``last`` addend to ``o_valid``: ``interleave``
        without chunking, twice that with (the outer adder's loop)."""
        return self._interleave * (1 if self._chunk is None else 2)

    @property
    def initiation_interval(self) -> int:
        """Cycles between accepted addends: 1 (the outer adder runs beside the inner one)."""
        return 1

    @property
    def throughput(self) -> int:
        """Addends accepted per cycle."""
        return 1

    def cycles(self, k: int) -> int:
        """Cycles from the first addend of a K-addend dot product to ``o_valid`` (with
        ``interleave`` n: of n interleaved ones, to the last one's ``o_valid``)."""
        check_int(k, "K", 1)
        return self._interleave * k - 1 + self.latency

    def elaborate(self, platform):
        m = Module()
        addend = unpack(m, self.i_data, self._acc_fmt, "addend")
        o_valid, o_data = accumulate(
            m, self._acc_fmt, self._chunk, self._rounding, self._rbits, addend,
            valid=self.i_valid, first=self.i_first, last=self.i_last,
            rand=getattr(self, "rand", None), rand_outer=getattr(self, "rand_outer", None),
            interleave=self._interleave)
        m.d.comb += [self.o_valid.eq(o_valid), self.o_data.eq(o_data)]
        return m


def accumulate_shared(m: Module, fmt: FloatFormat, addend: Fields, *, valid: Value,
                      start: Value, closes: Value, first_chunk: Value,
                      last: Value) -> tuple[Value, Value]:
    """A chunk accumulator with one RNE adder (``MacPE(chunk_adder="shared")``); returns
    ``(o_valid, o_data)``.

    The framing says where each addend sits: ``start``/``closes`` its chunk, the chunk is the
    dot product's first, the addend is its ``last``. The caller guarantees that no addend
    arrives in the cycle after a chunk closes (the bubble): the adder then adds the chunk sum
    into the outer sum (from +0 for the first chunk), exactly the outer addition of
    ``accumulate``'s second adder, one cycle later. ``o_valid`` follows the bubble of the last
    chunk, so the latency stays 2.
    """
    w = fmt.width
    if addend.lead_zeros > 1:  # normalize once, before the operand select
        addend = normalize(m, addend, "addend")
    inner, outer = Signal(w), Signal(w)
    bubble, bubble_first, bubble_last = Signal(), Signal(), Signal()
    partial = Mux(bubble, Mux(bubble_first, 0, outer), Mux(start, 0, inner))
    b = select(m, bubble, unpack(m, inner, fmt, "chunk_sum"), addend, "operand")
    total = exact_sum(m, unpack(m, partial, fmt, "partial"), b, _guard_bits(Rounding.RNE, 0),
                      "acc")
    result = round_pack(m, total, fmt, Rounding.RNE, name="acc")
    m.d.sync += bubble.eq(valid & closes)
    with m.If(valid):
        m.d.sync += inner.eq(result)
        with m.If(closes):
            m.d.sync += [bubble_first.eq(first_chunk), bubble_last.eq(last)]
    with m.If(bubble):
        m.d.sync += outer.eq(result)
    o_valid = Signal()
    m.d.sync += o_valid.eq(bubble & bubble_last)
    return o_valid, outer


def running_sum(m: Module, fmt: FloatFormat, rounding: Rounding, rbits: int, addend: Fields, *,
                valid: Value, restart: Value, rand: Value | None, interleave: int,
                name: str) -> Value:
    """One adder in a loop: the register it returns holds ``round(partial + addend)``.

    With ``interleave == 1`` the loop is ``register -> exact_sum -> round_pack -> register``
    and the register is written when ``valid`` (one cycle of latency). With ``interleave == 2``
    the loop is cut after the exact sum, so it holds two values at once: the pair presented in
    cycle t continues the sum of the pair of cycle t - 2, i.e. two independent sums interleaved
    by cycle parity, each in its exact order (two cycles of latency). A cycle without ``valid``
    passes its sum's value through the cut unchanged (a hold for that stream).
    ``restart`` starts a sum from +0 (the contract's ``round(+0 + p)``).
    """
    partial = Signal(fmt.width, name=f"{name}_sum")
    start_value = Mux(restart, 0, partial)
    total = exact_sum(m, unpack(m, start_value, fmt, f"{name}_a"), addend,
                      _guard_bits(rounding, rbits), name)
    if interleave == 1:
        result = round_pack(m, total, fmt, rounding, rand=rand, rbits=rbits, name=name)
        with m.If(valid):
            m.d.sync += partial.eq(result)
        return partial
    total = register_fields(m, total, f"{name}_cut")
    cut_valid = register(m, valid, f"{name}_cut_valid")
    cut_hold = register(m, partial, f"{name}_cut_hold")
    cut_rand = None if rand is None else register(m, rand, f"{name}_cut_rand")
    result = round_pack(m, total, fmt, rounding, rand=cut_rand, rbits=rbits, name=name)
    m.d.sync += partial.eq(Mux(cut_valid, result, cut_hold))
    return partial


def _per_stream(m: Module, width: int, interleave: int, name: str) -> tuple[Signal, Signal]:
    """State kept per interleaved stream: ``(now, next)``; ``now`` is this cycle's stream's
    value, ``next`` (assigned by the caller in ``comb``) its value for the stream's next cycle.
    The values of the streams rotate through ``interleave`` registers."""
    now, nxt = Signal(width, name=f"{name}"), Signal(width, name=f"{name}_next")
    ring = [now] + [Signal(width, name=f"{name}_{k}") for k in range(1, interleave)]
    for a, b in zip(ring, ring[1:], strict=False):
        m.d.sync += a.eq(b)
    m.d.sync += ring[-1].eq(nxt)
    return now, nxt


def accumulate(m: Module, fmt: FloatFormat, chunk: int | None, rounding: Rounding, rbits: int,
               addend: Fields, *, valid: Value, first: Value, last: Value,
               rand: Value | None = None, rand_outer: Value | None = None,
               interleave: int = 1) -> tuple[Value, Value]:
    """Build a chunk accumulator into ``m`` (the dataflow of the module docstring) and return
    its ``(o_valid, o_data)``.

    ``addend`` is the exact value of this cycle's addend, which must be representable in
    ``fmt``: a ``fmt`` bit pattern unpacked (``ChunkAccumulator``), or an exact product that
    fits ``fmt`` fed straight into the adder's alignment (``MacPE``), which saves packing it
    into ``fmt`` only to unpack it again. The two give the same bits.

    ``interleave`` (1 or 2, see ``running_sum``): that many independent dot products by cycle
    position modulo ``interleave``; each adder's loop gets ``interleave - 1`` cuts and every
    latency grows by ``interleave - 1`` cycles.
    """
    n = interleave
    if chunk is None:  # one adder: the running sum is the result
        inner = running_sum(m, fmt, rounding, rbits, addend, valid=valid, restart=first,
                            rand=rand, interleave=n, name="inner")
        return register(m, valid & last, "o_valid", n), inner

    # Inner stage. pos: index of this addend within its chunk (per stream).
    count, count_next = _per_stream(m, Shape.cast(range(chunk)).width, n, "count")
    in_first_chunk, in_first_next = _per_stream(m, 1, n, "in_first_chunk")
    pos = Mux(first, 0, count)
    closes = last | (pos == chunk - 1)
    first_chunk_now = first | in_first_chunk
    m.d.comb += [count_next.eq(Mux(valid, Mux(closes, 0, pos + 1), count)),
                 in_first_next.eq(Mux(valid, first_chunk_now & ~closes, in_first_chunk))]
    inner = running_sum(m, fmt, rounding, rbits, addend, valid=valid, restart=pos == 0,
                        rand=rand, interleave=n, name="inner")
    # The chunk sum is in `inner` n cycles after its closing addend; its framing waits as long.
    done_valid = register(m, valid & closes, "done_valid", n)
    done_first = register(m, first_chunk_now, "done_first", n)
    done_last = register(m, last, "done_last", n)
    done_rand = None if not rbits else register(m, rand_outer, "done_rand", n)

    # Outer stage: the chunk sum, read from `inner` in the one cycle it is there, into the
    # stream's outer sum. Closes of one stream are >= n cycles apart, so streams stay aligned.
    outer = running_sum(m, fmt, rounding, rbits, unpack(m, inner, fmt, "outer_b"),
                        valid=done_valid, restart=done_first, rand=done_rand, interleave=n,
                        name="outer")
    return register(m, done_valid & done_last, "o_valid", n), outer


class MacPE(wiring.Component):
    """Multiply-accumulate PE: products ``round(a * b)`` in ``acc_fmt`` into a chunk accumulator.

    Computes ``golden.gemm``'s dot product for one output: products ``round(a * b)`` in
    ``acc_fmt`` accumulated with chunking. When every product is exact in ``acc_fmt``
    (``golden.is_exact_product``: e5m2 -> e6m9, e4m3fn -> e6m9, fp16 -> fp32, bf16 -> fp32) the
    product is fused: its sign, exponent and significand enter the adder's alignment directly,
    with no packing into ``acc_fmt`` and unpacking again; otherwise an
    ``FpMul(in_fmt -> acc_fmt, RNE)`` rounds it first. ``stages=1`` registers the product
    before the accumulator (one more cycle of latency).

    The chunk (outer) addition, with a chunk length, is done by ``chunk_adder``:

    * ``"dedicated"``: a second adder beside the chunk adder (``accumulate``); one product per
      cycle, always (``i_ready`` is constant 1). It costs a whole adder and the outer stage's
      registers: about twice the area of a PE without chunking.
    * ``"shared"``: the one adder also does the outer additions, in a bubble cycle after each
      chunk (``accumulate_shared``; ``i_ready`` is low in it). It costs the outer register and
      operand multiplexers (a fraction of an adder) and one cycle per chunk: a K-term dot
      product takes ``K + ceil(K / chunk)`` cycles instead of ``K``.

    ``interleave=2`` cuts each accumulation loop once (``running_sum``) so the PE meets a
    shorter clock: it then computes two independent dot products whose pairs alternate cycle by
    cycle (pair t continues the dot product of pair t - 2; ``first``/``last`` per pair); a cycle
    without ``i_valid`` is a hold for that cycle's dot product. It costs the cut's registers
    and one cycle of latency per loop, and no throughput. Not with ``chunk_adder="shared"``.

    In a ``MacArray`` neither is used: its PEs sum single chunks and the outer adders sit at
    the row edges, shared by up to ``chunk`` PEs each (see ``hdl/array.py``).

    Members
    -------
    i_valid : In(1)
        An operand pair is presented.
    i_ready : Out(1)
        The pair is taken this cycle (when ``i_valid``).
    i_first, i_last : In(1)
        The pair is the first / last of a dot product (both for K = 1).
    a, b : In(in_fmt.width)
        Operands.
    o_valid : Out(1)
        ``o_data`` holds a finished dot product.
    o_data : Out(acc_fmt.width)
        The dot product in ``acc_fmt``.
    """

    def __init__(self, in_fmt, acc_fmt, *, chunk, stages=0, chunk_adder="dedicated",
                 interleave=1):
        self._in_fmt = check_format(in_fmt, "in_fmt")
        self._acc_fmt = check_format(acc_fmt, "acc_fmt")
        self._chunk = check_chunk(chunk)
        self._stages = check_int(stages, "stages", 0, 1)
        if chunk_adder not in CHUNK_ADDERS:
            raise ValueError(f"chunk_adder must be one of {', '.join(CHUNK_ADDERS)}, "
                             f"not {chunk_adder!r}")
        self._chunk_adder = chunk_adder
        self._interleave = check_interleave(interleave)
        if self._interleave > 1 and self._bubbles:
            raise ValueError("interleave > 1 needs chunk_adder='dedicated' or chunk=None (the "
                             "shared adder's bubble would fall into another dot product)")
        w_in, w_acc = self._in_fmt.width, self._acc_fmt.width
        super().__init__({
            "i_valid": In(1), "i_ready": Out(1), "i_first": In(1), "i_last": In(1),
            "a": In(w_in), "b": In(w_in), "o_valid": Out(1), "o_data": Out(w_acc),
        })

    @property
    def in_fmt(self):
        return self._in_fmt

    @property
    def acc_fmt(self):
        return self._acc_fmt

    @property
    def chunk(self) -> int | None:
        return self._chunk

    @property
    def chunk_adder(self) -> str:
        return self._chunk_adder

    @property
    def stages(self) -> int:
        return self._stages

    @property
    def interleave(self) -> int:
        return self._interleave

    @property
    def _bubbles(self) -> bool:
        return self._chunk is not None and self._chunk_adder == "shared"

    @property
    def latency(self) -> int:
        """Cycles from accepting the last operand pair of a dot product to ``o_valid``:
        ``interleave`` without chunking, twice that with (the outer addition), plus
        ``stages``."""
        return self._stages + self._interleave * (1 if self._chunk is None else 2)

    @property
    def throughput(self) -> int:
        """Operand pairs accepted per cycle between bubbles (``cycles`` counts the bubbles)."""
        return 1

    def cycles(self, k: int) -> int:
        """Cycles from the first operand pair of a K-term dot product, presented back to back
        whenever ``i_ready``, to ``o_valid``. With ``interleave`` n, n K-term dot products
        presented interleaved: from the first pair to the last dot product's ``o_valid``."""
        check_int(k, "K", 1)
        bubbles = -(-k // self._chunk) - 1 if self._bubbles else 0
        return self._interleave * k - 1 + bubbles + self.latency

    def elaborate(self, platform):
        m = Module()
        cut = self._stages
        ready = Signal()
        if is_exact_product(self._in_fmt, self._acc_fmt):
            # Fused: the exact product's fields go straight into the adder's alignment.
            addend = product(m, unpack(m, self.a, self._in_fmt, "a"),
                             unpack(m, self.b, self._in_fmt, "b"), "product")
            if cut:
                addend = register_fields(m, addend, "product")
        else:
            m.submodules.mul = mul = FpMul(self._in_fmt, self._acc_fmt)
            m.d.comb += [mul.a.eq(self.a), mul.b.eq(self.b)]
            addend = unpack(m, register(m, mul.o, "product", cut), self._acc_fmt, "addend")
        if self._bubbles:
            # Chunk positions are counted where pairs are taken, so the bubble after a
            # closing pair is a cycle in which no pair is taken (it then travels through the
            # product register as an empty slot).
            count, in_first_chunk, bubble = Signal(range(self._chunk)), Signal(), Signal()
            take = self.i_valid & ~bubble
            pos = Mux(self.i_first, 0, count)
            closes = self.i_last | (pos == self._chunk - 1)
            first_chunk = self.i_first | in_first_chunk
            m.d.sync += bubble.eq(take & closes)
            with m.If(take):
                m.d.sync += [count.eq(Mux(closes, 0, pos + 1)),
                             in_first_chunk.eq(first_chunk & ~closes)]
            framing = {name: register(m, value, name, cut) for name, value in
                       (("valid", take), ("start", pos == 0), ("closes", closes),
                        ("first_chunk", first_chunk), ("last", self.i_last))}
            o_valid, o_data = accumulate_shared(m, self._acc_fmt, addend, **framing)
            m.d.comb += ready.eq(~bubble)
        else:
            framing = {name: register(m, port, name, cut) for name, port in
                       (("valid", self.i_valid), ("first", self.i_first),
                        ("last", self.i_last))}
            o_valid, o_data = accumulate(m, self._acc_fmt, self._chunk, Rounding.RNE, 0, addend,
                                         interleave=self._interleave, **framing)
            m.d.comb += ready.eq(1)
        m.d.comb += [self.o_valid.eq(o_valid), self.o_data.eq(o_data), self.i_ready.eq(ready)]
        return m
