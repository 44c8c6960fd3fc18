"""Which block of a MacArray each cell of its mapped netlist belongs to, for an energy split.

Cells of a flat mapped netlist carry generated names (``_1234_``), but Yosys keeps the names of
registers on their outputs, so a flip-flop is put in a block by the signal it holds
(``BLOCK_REGISTERS``), and a PE's cells by their instance name (``core.pe_``). A combinational
cell belongs to the one block whose registers its output reaches (through other combinational
cells): the edge adder and the chunk-sum select feed only the outer sums, so they count there.
Logic that feeds registers of more than one block (the stall enable, the chunk counters'
decode) is ``CONTROL``, and logic that reaches no register (the output FIFO's read select)
belongs to the block of the registers that drive it, if there is one.

The split is the designs' own: ``hdl/array.py`` names these registers, and a test keeps the
names and this table in step.
"""

from __future__ import annotations

from collections import defaultdict

from .liberty_power import netlist_cells, register_output

PES = "PEs"
CONTROL = "control"

#: Block -> prefixes of the (normalised) names of the registers it holds; the first match wins.
BLOCK_REGISTERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("outer sums and edge adders", ("core.edge_",)),
    ("result registers", ("core.c_",)),
    ("output FIFO", ("fifo.",)),
    ("operand registers", ("core.a_", "core.b_", "core.f_", "core.fv_", "core.frame_skew",
                           "a_hold", "b_hold", "frame_hold")),
)

#: Every block name a split can give.
BLOCKS = (PES, *(name for name, _ in BLOCK_REGISTERS), CONTROL)

def register_block(net: str) -> str:
    """The block of a register holding ``net`` (``CONTROL`` if no prefix matches)."""
    return next((name for name, prefixes in BLOCK_REGISTERS if net.startswith(prefixes)),
                CONTROL)


def array_blocks(netlist: str, liberty: str) -> dict[str, str]:
    """Instance name (as ``liberty_power.instances`` spells it) -> block (one of ``BLOCKS``)
    for every library cell of a flat mapped MacArray netlist (``scripts/hierarchy.compose``)."""
    cells, insts = netlist_cells(netlist, liberty)
    drives: dict[int, list[str]] = defaultdict(list)  # cell -> nets it drives
    inputs: dict[int, list[str]] = defaultdict(list)  # cell -> nets it reads
    loads: dict[str, list[int]] = defaultdict(list)  # net -> cells reading it
    driver: dict[str, int] = {}
    block: dict[int, str] = {}
    for k, (kind, name, pins) in enumerate(insts):
        for pin, net in pins.items():
            p = cells[kind].pins.get(pin)
            if p is None:
                continue
            if p.direction == "output":
                drives[k].append(net)
                driver[net] = k
            else:
                inputs[k].append(net)
                loads[net].append(k)
        held = register_output(cells[kind], pins)
        if name.startswith("core.pe_"):
            block[k] = PES
        elif held is not None:
            block[k] = register_block(held)

    def reach(k: int, edges, memo: dict[int, frozenset]) -> frozenset:
        """Blocks of the registers (or PEs) reached from combinational cell k along ``edges``:
        a depth-first walk without recursion (cones are deep), memoised per cell."""
        if k in memo:
            return memo[k]
        stack, on_path = [(k, iter(list(edges(k))))], {k}
        while stack:
            c, pending = stack[-1]
            for n in pending:
                if n not in block and n not in memo and n not in on_path:
                    stack.append((n, iter(list(edges(n)))))
                    on_path.add(n)
                    break
            else:  # every successor known: c's blocks are theirs
                found: set[str] = set()
                for n in edges(c):
                    found |= {block[n]} if n in block else memo.get(n, frozenset())
                memo[c] = frozenset(found)
                on_path.discard(c)
                stack.pop()
        return memo[k]

    def forward(c: int):
        return (n for net in drives[c] for n in loads.get(net, ()))

    def backward(c: int):
        return (driver[net] for net in inputs[c] if net in driver)

    ahead: dict[int, frozenset] = {}
    behind: dict[int, frozenset] = {}
    out: dict[str, str] = {}
    for k, (_, name, _) in enumerate(insts):
        if k in block:
            out[name] = block[k]
            continue
        fed = reach(k, forward, ahead)
        if not fed:
            fed = reach(k, backward, behind) - {PES}
        out[name] = next(iter(fed)) if len(fed) == 1 else CONTROL
    return out
