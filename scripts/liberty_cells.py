"""Reading a liberty library's cells by what they compute, not by what they are called.

Gate equivalents (GE) divide an area by the area of the library's smallest 2-input NAND.
Libraries name that cell differently (``sky130_fd_sc_hd__nand2_1``, ``NAND2X1``,
``NAND2_X1``, ``NAND2xp33_ASAP7_75t_R``), so ``ge_cell`` finds it by its output ``function``:
a cell with exactly two input pins and one output pin whose truth table is NAND.

Liberty boolean functions (Liberty reference manual, "function" attribute): ``!x`` and ``x'``
are NOT, ``&``, ``*`` and juxtaposition are AND, ``|`` and ``+`` are OR, ``^`` is XOR, with
parentheses, ``0`` and ``1``. Precedence here: NOT, then XOR, then AND, then OR.
"""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass

from fp8forge.errors import InputError

__all__ = ["Cell", "LibertyError", "cells", "clock_gate_models", "evaluate", "ge_cell",
           "parse_function"]


class LibertyError(InputError):
    """The liberty text lacks something the flow needs; the message names it."""


@dataclass(frozen=True)
class Cell:
    name: str
    area: float
    inputs: tuple[str, ...]
    outputs: dict[str, str | None]  # output pin -> function (None if the pin has none)


_CELL = re.compile(r"\bcell\s*\(\s*\"?([^\s\")]+)\"?\s*\)")
_PIN = re.compile(r"\bpin\s*\(\s*\"?([^\s\")]+)\"?\s*\)")
_AREA = re.compile(r"\barea\s*:\s*([-+0-9.eE]+)")
_DIRECTION = re.compile(r"\bdirection\s*:\s*\"?(\w+)\"?")
_FUNCTION = re.compile(r"\bfunction\s*:\s*\"([^\"]*)\"")


def cells(text: str) -> list[Cell]:
    """Every cell of a liberty library with its area and logic pins (``pg_pin`` and bus
    pins are not logic pins here). Each cell's text runs to the next ``cell (`` header."""
    return list(_cells(text))


@functools.lru_cache(maxsize=4)
def _cells(text: str) -> tuple[Cell, ...]:
    # Memoized: a synthesis reads the same library several times (GE cell, ABC driver), and
    # parsing a standard-cell library takes about half a second.
    out = []
    for head, body in _sections(_CELL, text):
        area = _AREA.search(body)
        inputs, outputs = [], {}
        for pin, pin_text in _sections(_PIN, body):
            direction = _DIRECTION.search(pin_text)
            if direction is None:
                continue
            if direction.group(1) == "input":
                inputs.append(pin)
            elif direction.group(1) == "output":
                function = _FUNCTION.search(pin_text)
                outputs[pin] = function.group(1) if function else None
        out.append(Cell(head, float(area.group(1)) if area else 0.0, tuple(inputs), outputs))
    return tuple(out)


def _sections(header: re.Pattern, text: str) -> list[tuple[str, str]]:
    """(name, text up to the next header) for each match of ``header`` in ``text``."""
    heads = list(header.finditer(text))
    ends = [h.start() for h in heads[1:]] + [len(text)] * bool(heads)
    return [(h.group(1), text[h.end():end]) for h, end in zip(heads, ends, strict=True)]


_TOKEN = re.compile(r"\s*(?:([A-Za-z_][\w\[\].]*)|([01])|(.))")

Expr = tuple  # ("pin", name) | ("const", bool) | ("not", e) | ("and"|"or"|"xor", e, e)


def parse_function(function: str) -> Expr:
    """A liberty ``function`` string as an expression tree; ``LibertyError`` if it does not
    parse."""
    tokens = [(name, const, op) for name, const, op in _TOKEN.findall(function)
              if name or const or op.strip()]
    pos = 0

    def peek() -> tuple[str, str, str]:
        return tokens[pos] if pos < len(tokens) else ("", "", "")

    def take() -> tuple[str, str, str]:
        nonlocal pos
        token = peek()
        pos += 1
        return token

    def atom() -> Expr:
        name, const, op = take()
        node: Expr
        if op == "!":
            node = ("not", atom())
        elif op == "(":
            node = disjunction()
            if take()[2] != ")":
                raise LibertyError(f"unbalanced parentheses in function {function!r}")
        elif name:
            node = ("pin", name)
        elif const:
            node = ("const", const == "1")
        else:
            raise LibertyError(f"cannot parse function {function!r}")
        while peek()[2] == "'":
            take()
            node = ("not", node)
        return node

    def xor() -> Expr:
        node = atom()
        while peek()[2] == "^":
            take()
            node = ("xor", node, atom())
        return node

    def conjunction() -> Expr:
        node = xor()
        while True:
            name, const, op = peek()
            if op in ("&", "*"):
                take()
            elif not (name or const or op in ("!", "(")):  # juxtaposition is AND too
                return node
            node = ("and", node, xor())

    def disjunction() -> Expr:
        node = conjunction()
        while peek()[2] in ("|", "+"):
            take()
            node = ("or", node, conjunction())
        return node

    tree = disjunction()
    if pos != len(tokens):
        raise LibertyError(f"cannot parse function {function!r}")
    return tree


def evaluate(function: str | Expr, pins: dict[str, bool]) -> bool:
    """The value of a liberty function (string or parsed) for the given pin values."""
    tree = parse_function(function) if isinstance(function, str) else function
    kind = tree[0]
    if kind == "pin":
        return pins[tree[1]]
    if kind == "const":
        return tree[1]
    if kind == "not":
        return not evaluate(tree[1], pins)
    a, b = evaluate(tree[1], pins), evaluate(tree[2], pins)
    return {"and": a and b, "or": a or b, "xor": a != b}[kind]


def _computes(cell: Cell, truth) -> bool:
    """Whether ``cell`` has one output computing ``truth(*inputs)`` (inputs in pin order)."""
    arity = truth.__code__.co_argcount
    if len(cell.inputs) != arity or len(cell.outputs) != 1:
        return False
    function = next(iter(cell.outputs.values()))
    if function is None:
        return False
    try:
        tree = parse_function(function)
        return all(evaluate(tree, dict(zip(cell.inputs, values, strict=True))) == truth(*values)
                   for values in itertools.product((False, True), repeat=arity))
    except (LibertyError, KeyError):  # a function of pins that are not its inputs
        return False


def _is_nand2(cell: Cell) -> bool:
    return _computes(cell, lambda a, b: not (a and b))


def driver_cell(text: str) -> str:
    """The smallest buffer of the library (by function), else the smallest inverter: the cell
    assumed to drive a design's inputs in timing-driven mapping."""
    library = [cell for cell in cells(text) if cell.area > 0]
    for truth in (lambda a: a, lambda a: not a):
        found = [cell for cell in library if _computes(cell, truth)]
        if found:
            return min(found, key=lambda cell: (cell.area, cell.name)).name
    raise LibertyError("liberty file has no buffer or inverter cell (by function) to drive "
                       "inputs in timing-driven mapping")


def ge_cell(text: str, name: str | None = None) -> tuple[str, float]:
    """The cell that defines one gate equivalent: ``(name, area)``.

    Without ``name``, the smallest-area cell computing a 2-input NAND (found by function);
    with ``name``, that cell (``LibertyError`` if the library lacks it or it has no area).
    """
    library = cells(text)
    if name is not None:
        for cell in library:
            if cell.name == name:
                if cell.area <= 0:
                    raise LibertyError(f"GE cell {name} has no area in the liberty file")
                return cell.name, cell.area
        raise LibertyError(f"GE cell {name} not found in the liberty file")
    nands = [cell for cell in library if _is_nand2(cell) and cell.area > 0]
    if not nands:
        raise LibertyError("liberty file has no 2-input NAND cell (by function) to define GE; "
                           "name one with --ge-cell")
    best = min(nands, key=lambda cell: (cell.area, cell.name))
    return best.name, best.area


def clock_gate_models(text: str, used: set[str]) -> str:
    """Verilog models of the library's integrated clock-gating cells among ``used``.

    Liberty describes these cells by attributes (``clock_gating_integrated_cell :
    "latch_posedge"``, ``clock_gate_{clock,enable,test,out}_pin``) and a state table, not by a
    ``function``, so Yosys's ``read_liberty`` cannot model them. The model is the cell's
    definition: a latch, transparent while the clock is low, holds enable (or test enable);
    the gated clock is the clock AND the latch. Only ``latch_posedge`` cells are modelled; a
    used cell of another kind is an error (``LibertyError``)."""
    out = []
    for name, body in _sections(_CELL, text):
        kind = re.search(r"clock_gating_integrated_cell\s*:\s*\"?(\w+)", body)
        if name not in used or kind is None:
            continue
        if kind.group(1) != "latch_posedge":
            raise LibertyError(f"clock-gating cell {name} is {kind.group(1)!r}; only "
                               "latch_posedge cells can be simulated")
        role = {}
        for pin, pin_text in _sections(_PIN, body):
            for what in ("clock", "enable", "test", "out"):
                if re.search(rf"clock_gate_{what}_pin\s*:\s*\"?true", pin_text):
                    role[what] = pin
        if not {"clock", "enable", "out"} <= role.keys():
            raise LibertyError(f"clock-gating cell {name} lacks a clock, enable or out pin")
        enable = role["enable"] + (f" | {role['test']}" if "test" in role else "")
        ports = [role["clock"], role["enable"], *([role["test"]] if "test" in role else [])]
        out.append(f"module {name}({', '.join(ports)}, {role['out']});\n"
                   + "".join(f"  input {p};\n" for p in ports)
                   + f"  output {role['out']};\n  reg open;\n"
                   + f"  always @(*) if (!{role['clock']}) open = {enable};\n"
                   + f"  assign {role['out']} = {role['clock']} & open;\nendmodule\n")
    return "".join(out)
