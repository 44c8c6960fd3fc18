"""Cycle-level throughput model of a training step on MacArrays.

Hardware (``System``): ``arrays`` MacArrays of ``rows x cols`` PEs, one on-chip buffer per
GEMM operand (A and B, ``buffer_bytes`` each), an off-chip memory of ``bandwidth_gbs`` bytes
per ns shared by everything, an AXPY unit of ``axpy_lanes`` lanes for weight updates, and a
clock. Element sizes follow the formats (e5m2 = 1 byte, e6m9 / fp16 = 2, fp32 = 4).

The model's assumptions are ``ASSUMPTIONS`` below (also written into every report).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cache
from math import ceil

from fp8forge.golden import FloatFormat
from fp8forge.hdl.array_timing import ArrayTiming

from .networks import Gemm, Network
from .scalesim import DATAFLOWS
from .scalesim import compute_cycles as scalesim_cycles

#: The model's assumptions, written into every report (a constant, not the docstring, so they
#: survive ``python -OO``).
ASSUMPTIONS = """\
1. **Compute.** A GEMM ``M x N x K`` is cut into ``ceil(M/rows) * ceil(N/cols)`` output tiles
   of length K, dealt round-robin to the arrays. For the RTL's output-stationary dataflow the
   compute cycles of an array running ``t`` tiles are ``MacArray.cycles(K, t)`` — the same
   method the RTL is verified against cycle for cycle (tiles back to back, fill and drain
   included). ``ws``/``is`` dataflows, which have no RTL, use SCALE-Sim's fold formula
   (``model/scalesim.py``) for comparison.
2. **Off-chip traffic.** Each output tile needs an A panel (rows x K) and a B panel
   (K x cols). A buffer that holds ``p`` A panels lets the array reuse them across all column
   tiles, so B is streamed ``ceil(row tiles / p)`` times and A once; the symmetric order holds
   B panels. The model takes the order with fewer bytes. A panel that does not fit in its
   buffer (half of it when double buffering) is re-read for every tile that needs it (K is not
   split: the PEs accumulate the whole dot product, which is the chunk-accumulation contract).
   Outputs are written once.
3. **Overlap.** With double buffering, transfers overlap compute: a GEMM takes
   ``max(compute, memory) + first-panel load`` cycles, ``memory = bytes / bytes-per-cycle``
   (the steady state of a uniform tile stream; stalls are the cycles beyond compute).
   Without double buffering the two add up. With unlimited bandwidth a GEMM takes exactly
   its compute cycles.
4. **Weight update.** Three AXPYs per weight (L2, momentum, update; contract section 2), each
   reading two vectors and writing one in ``update_fmt``, plus writing the low-precision
   copy of the weights the GEMMs read (``in_fmt``); ``max(3 * weights / lanes, bytes /
   bytes-per-cycle)`` cycles.
5. Layers run one after the other, each pass (fwd, dgrad, wgrad) one GEMM; non-GEMM work
   (pooling, batch norm, activations) is not modelled.
"""

#: MacArray's generator limit on rows and cols; bigger budgets use more arrays.
MAX_ARRAY_SIDE = 64


def nbytes(fmt: FloatFormat) -> int:
    """Bytes per element in memory (whole bytes: a 9-bit format would take 2)."""
    return -(-fmt.width // 8)


@dataclass(frozen=True)
class System:
    """One accelerator configuration (see the module docstring for the model).

    ``act_fmt`` is the format of fwd/dgrad GEMM outputs (activations and their gradients)
    written to memory; weight gradients leave the array in ``acc_fmt``. ``wide`` is the
    system that runs layers kept in 16 bits (the paper's first and last layers), or None.
    """

    name: str
    in_fmt: FloatFormat
    acc_fmt: FloatFormat
    act_fmt: FloatFormat
    update_fmt: FloatFormat
    chunk: int | None
    rows: int
    cols: int
    arrays: int = 1
    dataflow: str = "os"
    clock_ghz: float = 1.0
    bandwidth_gbs: float = 64.0
    buffer_bytes: int = 512 * 1024
    double_buffer: bool = True
    axpy_lanes: int = 32
    energy_pj_per_mac: float | None = None  # reported by the projection, not used for time
    energy_pj_per_axpy: float | None = None
    wide: System | None = None
    #: MacArray ``interleave``: 2 cuts every accumulation loop (a shorter clock) and makes a
    #: tile ``rows x (2 cols)`` at the same ``rows x cols`` MACs per cycle.
    interleave: int = 1

    def __post_init__(self):
        if not 1 <= self.rows <= MAX_ARRAY_SIDE or not 1 <= self.cols <= MAX_ARRAY_SIDE:
            raise ValueError(f"array sides must be 1..{MAX_ARRAY_SIDE}, got "
                             f"{self.rows}x{self.cols} (use more arrays)")
        if self.dataflow not in DATAFLOWS:
            raise ValueError(f"unknown dataflow {self.dataflow!r} (known: {', '.join(DATAFLOWS)})")
        for field in ("arrays", "axpy_lanes", "buffer_bytes"):
            if getattr(self, field) < 1:
                raise ValueError(f"{field} must be >= 1, got {getattr(self, field)}")
        for field in ("clock_ghz", "bandwidth_gbs"):
            if not getattr(self, field) > 0:
                raise ValueError(f"{field} must be > 0, got {getattr(self, field)}")

    @property
    def macs(self) -> int:
        return self.arrays * self.rows * self.cols

    @property
    def tile_cols(self) -> int:
        """Columns of one output tile (``cols x interleave``)."""
        return self.cols * self.interleave

    @property
    def bytes_per_cycle(self) -> float:
        return self.bandwidth_gbs / self.clock_ghz

    def array_timing(self) -> ArrayTiming:
        """The cycle timing of one array (its ``cycles`` is the compute model): the same
        formulas ``MacArray`` delegates to, without building the array."""
        return _timing(self.rows, self.cols, self.chunk, self.interleave)

    def replace(self, **changes) -> System:
        return dataclasses.replace(self, **changes)


@cache
def _timing(rows: int, cols: int, chunk: int | None, interleave: int) -> ArrayTiming:
    return ArrayTiming(rows, cols, chunk, interleave=interleave)


@cache  # a projection asks for the same GEMM shapes many times
def _array_cycles(timing: ArrayTiming, k: int, tiles: int) -> int:
    return timing.cycles(k, tiles)


def array_shape(macs: int) -> tuple[int, int]:
    """(arrays, side): the fewest square arrays of side <= 64 that use at most ``macs`` PEs,
    each as large as possible."""
    if macs < 1:
        raise ValueError(f"the area budget holds no MAC (macs={macs})")
    arrays = ceil(macs / MAX_ARRAY_SIDE ** 2)
    side = int((macs // arrays) ** 0.5)
    while (side + 1) ** 2 * arrays <= macs:  # guard against float rounding
        side += 1
    return arrays, side


@dataclass(frozen=True)
class Cost:
    """Cycles, bytes and what bound them, for one GEMM or one weight update."""

    system: str
    cycles: int
    compute_cycles: int
    memory_cycles: int
    bytes: int
    macs: int
    clock_ghz: float
    peak_macs_per_cycle: int

    @property
    def seconds(self) -> float:
        return self.cycles / (self.clock_ghz * 1e9)

    @property
    def stall_cycles(self) -> int:
        return self.cycles - self.compute_cycles

    @property
    def bound(self) -> str:
        return "memory" if self.memory_cycles > self.compute_cycles else "compute"

    @property
    def utilisation(self) -> float:
        """Useful MACs per available MAC-cycle (0 for work without MACs)."""
        return self.macs / (self.cycles * self.peak_macs_per_cycle) if self.macs else 0.0


def gemm_bytes(system: System, gemm: Gemm) -> tuple[int, int]:
    """(total off-chip bytes, bytes of the first tile's panels) of one GEMM (assumption 2)."""
    a, b = nbytes(system.in_fmt), nbytes(system.in_fmt)
    c = nbytes(system.acc_fmt if gemm.pass_ == "wgrad" else system.act_fmt)
    m, n, k, rows, cols = gemm.m, gemm.n, gemm.k, system.rows, system.tile_cols
    row_tiles, col_tiles = ceil(m / rows), ceil(n / cols)
    usable = system.buffer_bytes // 2 if system.double_buffer else system.buffer_bytes
    a_panel, b_panel = min(rows, m) * k * a, k * min(cols, n) * b
    a_fit = min(row_tiles, usable // a_panel)
    b_fit = min(col_tiles, usable // b_panel)
    streamed = m * k * a * col_tiles + k * n * b * row_tiles  # no reuse across tiles
    orders = [streamed]
    if a_fit:  # hold A panels, stream B once per group of them
        orders.append(m * k * a + k * n * b * ceil(row_tiles / a_fit))
    if b_fit:
        orders.append(k * n * b + m * k * a * ceil(col_tiles / b_fit))
    return min(orders) + m * n * c, a_panel + b_panel


def compute_cycles(system: System, gemm: Gemm) -> int:
    """Cycles of the busiest array with unlimited bandwidth (assumption 1)."""
    tiles = ceil(gemm.m / system.rows) * ceil(gemm.n / system.tile_cols)
    per_array = ceil(tiles / system.arrays)
    if system.dataflow == "os":
        return _array_cycles(system.array_timing(), gemm.k, per_array)
    # ws / is: SCALE-Sim folds; a GEMM split over arrays by its output columns.
    n = ceil(gemm.n / system.arrays)
    return scalesim_cycles(gemm.m, n, gemm.k, system.rows, system.cols, system.dataflow)


def _overlap(system: System, compute: int, total_bytes: int, first_bytes: int) -> tuple[int, int]:
    """(cycles, memory cycles) under assumption 3."""
    per_cycle = system.bytes_per_cycle
    memory = ceil(total_bytes / per_cycle)
    if system.double_buffer:
        return max(compute, memory) + ceil(first_bytes / per_cycle), memory
    return compute + memory, memory


def gemm_cost(system: System, gemm: Gemm) -> Cost:
    """Cycles and bytes of one GEMM on ``system`` (they depend on its pass and shape only)."""
    compute = compute_cycles(system, gemm)
    total, first = gemm_bytes(system, gemm)
    cycles, memory = _overlap(system, compute, total, first)
    return Cost(system.name, cycles, compute, memory, total, gemm.macs, system.clock_ghz,
                system.macs)


def update_cost(system: System, weights: int) -> Cost:
    """The three AXPYs per weight on the AXPY unit (assumption 4)."""
    compute = ceil(3 * weights / system.axpy_lanes)
    total = weights * (9 * nbytes(system.update_fmt) + nbytes(system.in_fmt))
    memory = ceil(total / system.bytes_per_cycle)
    return Cost(system.name, max(compute, memory), compute, memory, total, 0, system.clock_ghz,
                system.macs)


@dataclass(frozen=True)
class LayerPass:
    """One row of a step: a layer's pass (or its weight update) and its cost."""

    layer: str
    pass_: str
    m: int
    n: int
    k: int
    wide: bool
    cost: Cost


def training_step(system: System, net: Network, batch: int, *,
                  wide_layers: frozenset[str] = frozenset()) -> list[LayerPass]:
    """Every GEMM and weight update of one training step. Layers named in ``wide_layers`` run
    on ``system.wide`` (the 16-bit layers of the FP8 recipe) when it is set."""
    rows = []
    # Networks repeat GEMM shapes (a ResNet-50 step at batch 32 has 161 GEMMs of 62 shapes):
    # each (system, pass, shape) is costed once.
    costs: dict[tuple[bool, str, int, int, int], Cost] = {}
    for gemm in net.gemms(batch):
        assert gemm.layer is not None  # a network's GEMMs belong to its layers
        name = gemm.layer.name
        target = system.wide if name in wide_layers and system.wide else system
        wide = target is not system
        shape = (wide, gemm.pass_, gemm.m, gemm.n, gemm.k)
        if shape not in costs:
            costs[shape] = gemm_cost(target, gemm)
        rows.append(LayerPass(name, gemm.pass_, gemm.m, gemm.n, gemm.k, wide, costs[shape]))
    for layer in net.layers:  # every master weight is updated by the system's AXPY unit
        rows.append(LayerPass(layer.name, "update", layer.weights, 1, 1, False,
                              update_cost(system, layer.weights)))
    return rows


def step_seconds(rows: list[LayerPass]) -> float:
    return sum(r.cost.seconds for r in rows)
