"""Energy of a mapped netlist from measured net toggles and the liberty's power tables.

Per clock period, with ``T(net)`` the measured toggles of a net, ``C(net)`` the sum of the
input-pin capacitances it drives and ``V`` the library's nominal voltage:

- every output pin: ``T * (E_int + C * V**2 / 2)``, where ``E_int`` is the mean of the pin's
  ``(rise_power + fall_power) / 2`` over its ``internal_power`` groups (one per related input
  pin, each a table in input transition and output load), read at ``slew_ns`` and ``C``;
- every input pin with its own ``internal_power`` (clock pins of flip-flops, input gates):
  ``T * E_int`` at ``slew_ns``;
- leakage: the sum of ``cell_leakage_power`` times the period.

The liberty's tables already keep the load's charge out of the internal energy (their rise and
fall values cancel it), so the load term is added once, as OpenSTA does. No wire load: nets are
pin capacitance only (no placement), the same for every design compared.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Table:
    index_1: np.ndarray
    index_2: np.ndarray | None
    values: np.ndarray

    def at(self, slew: float, load: float = 0.0) -> float:
        """Bilinear interpolation, clamped to the table's range."""
        if self.index_2 is None:
            return float(np.interp(slew, self.index_1, self.values.ravel()))
        rows = np.array([np.interp(load, self.index_2, row) for row in self.values])
        return float(np.interp(slew, self.index_1, rows))


@dataclass
class PinPower:
    direction: str
    capacitance: float = 0.0
    tables: list[tuple[Table, Table]] = field(default_factory=list)  # (rise, fall) per group

    def energy(self, slew: float, load: float = 0.0) -> float:
        """Internal energy per toggle (library energy unit), mean over related pins."""
        if not self.tables:
            return 0.0
        return float(np.mean([(r.at(slew, load) + f.at(slew, load)) / 2
                              for r, f in self.tables]))


@dataclass
class CellPower:
    leakage: float  # leakage_power_unit
    pins: dict[str, PinPower]


def _block(text: str, start: int) -> tuple[str, int]:
    """The text inside the braces opening at or after ``start``, and the index after them."""
    open_at = text.index("{", start)
    depth, i = 0, open_at
    while True:
        c = text[i]
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return text[open_at + 1:i], i + 1
        i += 1


def _numbers(text: str) -> np.ndarray:
    return np.array([float(x) for x in re.findall(r"[-+0-9.eE]+", text.replace("\\", " "))])


def _table(text: str) -> Table:
    i1 = re.search(r"index_1\s*\(\s*\"([^\"]*)\"", text)
    i2 = re.search(r"index_2\s*\(\s*\"([^\"]*)\"", text)
    values = re.search(r"values\s*\((.*?)\)\s*;", text, re.S)
    assert i1 is not None and values is not None, "power table without index_1/values"
    index_1 = _numbers(i1.group(1))
    index_2 = _numbers(i2.group(1)) if i2 else None
    flat = _numbers(values.group(1))
    shape = (len(index_1), len(index_2)) if index_2 is not None else (len(index_1),)
    return Table(index_1, index_2, flat.reshape(shape))


def _pin(text: str) -> PinPower:
    direction = re.search(r"\bdirection\s*:\s*\"?(\w+)", text)
    cap = re.search(r"^\s*capacitance\s*:\s*([-0-9.eE]+)", text, re.M)
    pin = PinPower(direction.group(1) if direction else "input",
                   float(cap.group(1)) if cap else 0.0)
    for m in re.finditer(r"internal_power\s*\(\s*\)", text):
        group, _ = _block(text, m.end())
        rise = re.search(r"rise_power\s*\([^)]*\)", group)
        fall = re.search(r"fall_power\s*\([^)]*\)", group)
        if rise and fall:
            pin.tables.append((_table(_block(group, rise.end())[0]),
                               _table(_block(group, fall.end())[0])))
    return pin


def cell_index(liberty: str) -> dict[str, int]:
    """Position just after ``cell (NAME)`` of every cell of the library."""
    return dict(_cell_index(liberty))


@functools.lru_cache(maxsize=4)
def _cell_index(liberty: str) -> dict[str, int]:
    # Memoized (callers get a copy): one scan of a large library is a third of a second.
    return {m.group(1): m.end()
            for m in re.finditer(r"\bcell\s*\(\s*\"?([\w$]+)\"?\s*\)", liberty)}


def parse_cells(liberty: str, names: set[str]) -> dict[str, CellPower]:
    """Power data of the cells ``names`` (only those are parsed: libraries are large)."""
    index = cell_index(liberty)
    cells = {}
    for name in names:
        if name not in index:
            raise ValueError(f"cell {name} not in the liberty file")
        body, _ = _block(liberty, index[name])
        leakage = re.search(r"cell_leakage_power\s*:\s*([-0-9.eE]+)", body)
        pins = {}
        for p in re.finditer(r"\bpin\s*\(\s*\"?(\w+)\"?\s*\)", body):
            pins[p.group(1)] = _pin(_block(body, p.end())[0])
        cells[name] = CellPower(float(leakage.group(1)) if leakage else 0.0, pins)
    return cells


def library_units(liberty: str) -> dict[str, float]:
    """Nominal voltage (V), capacitance unit (F), leakage power unit (W)."""
    volt = re.search(r"nom_voltage\s*:\s*([0-9.eE+-]+)", liberty)
    cap = re.search(r"capacitive_load_unit\s*\(\s*([0-9.eE+-]+)\s*,\s*\"?(\w+)", liberty)
    leak = re.search(r"leakage_power_unit\s*:\s*\"?([0-9.]+)(\w+)", liberty)
    prefix = {"f": 1e-15, "p": 1e-12, "n": 1e-9, "u": 1e-6, "m": 1e-3, "": 1.0}
    if volt is None:
        volt = re.search(r"voltage\s*:\s*([0-9.eE+-]+)", liberty)
    assert volt is not None and cap is not None and leak is not None, "liberty units missing"
    cap_unit = float(cap.group(1)) * prefix[cap.group(2).lower().removesuffix("f")]
    leak_unit = float(leak.group(1)) * prefix[leak.group(2).lower().removesuffix("w")]
    return {"voltage": float(volt.group(1)), "cap_unit": cap_unit, "leak_unit": leak_unit}


def instances(netlist: str, cell_names: set[str]) -> list[tuple[str, str, dict[str, str]]]:
    """(cell type, instance name, {pin: net}) of every library cell instance in a
    Yosys-written netlist (names as ``normalise`` spells them)."""
    out = []
    pattern = re.compile(r"^\s*(\S+)\s+(\S+)\s*\((.*?)\);", re.S | re.M)
    for m in pattern.finditer(netlist):
        if m.group(1) not in cell_names:
            continue
        pins = {p: normalise(n) for p, n in re.findall(r"\.(\w+)\(\s*([^()]*?)\s*\)", m.group(3))}
        out.append((m.group(1), normalise(m.group(2)), pins))
    return out


def netlist_cells(netlist: str, liberty: str
                  ) -> tuple[dict[str, CellPower], list[tuple[str, str, dict[str, str]]]]:
    """The library cells a Yosys-written netlist uses (``parse_cells``) and its instances
    (``instances``)."""
    types = set(re.findall(r"^\s*(\S+)\s+\S+\s*\(", netlist, re.M))
    names = types & set(cell_index(liberty))
    return parse_cells(liberty, names), instances(netlist, names)


def register_output(cell: CellPower, pins: dict[str, str]) -> str | None:
    """The net a flip-flop instance drives (``Q``, else ``Q_N``); None for any other cell."""
    if cell.pins.get("CLK") is None or "CLK" not in pins:
        return None
    return pins.get("Q") or pins.get("Q_N")


def normalise(net: str) -> str:
    """One spelling for a net bit: no escape backslash, no blanks (``\\a$9 [3]`` -> ``a$9[3]``)."""
    return net.replace("\\", "").replace(" ", "")


@dataclass(frozen=True)
class NetlistEnergy:
    dynamic_j: float  # per clock period
    leakage_w: float
    internal_j: float
    switching_j: float
    #: Energy per period of the flip-flops' clock pins (internal energy plus the charge of their
    #: pin capacitance), and the part of it spent in cycles where the flip-flop's output does not
    #: change (``1 -`` its output toggles per period): an upper bound on what clock gating
    #: could save, before the gating cells' own cost.
    clock_j: float = 0.0
    gating_bound_j: float = 0.0
    #: With ``part_of``: dynamic energy per period and leakage power of each part.
    parts_j: dict[str, float] = field(default_factory=dict)
    parts_leakage_w: dict[str, float] = field(default_factory=dict)


def netlist_energy(netlist: str, liberty: str, toggles: dict[str, float], *,
                   slew_ns: float = 0.1,
                   part_of: Callable[[str], str] | None = None) -> NetlistEnergy:
    """Energy per clock period of ``netlist`` given toggles per period of its nets.

    ``part_of`` (instance name -> part name) also splits the energy between parts: each cell's
    internal energy and leakage go to its part, a net's load charge to the part of the cell
    driving it (to the parts of the cells it loads, pin by pin, for nets driven from outside).
    The parts add up to the whole."""
    cells, insts = netlist_cells(netlist, liberty)
    units = library_units(liberty)
    load: dict[str, float] = {}
    for kind, _, pins in insts:
        for pin, net in pins.items():
            p = cells[kind].pins.get(pin)
            if p is not None and p.direction == "input":
                load[net] = load.get(net, 0.0) + p.capacitance
    toggle = {normalise(k): v for k, v in toggles.items()}
    v2 = units["voltage"] ** 2
    internal = switching = leakage = clock = gateable = 0.0
    parts: dict[str, float] = {}
    parts_leakage: dict[str, float] = {}
    for kind, name, pins in insts:
        cell = cells[kind]
        leakage += cell.leakage
        before = internal + switching
        clk = cell.pins.get("CLK")
        q_net = register_output(cell, pins)
        if clk is not None and q_net is not None:  # a flip-flop
            t = toggle.get(pins["CLK"], 0.0)
            e = t * (clk.energy(slew_ns) + 0.5 * clk.capacitance * v2)
            clock += e
            gateable += e * max(0.0, 1.0 - toggle.get(q_net, 0.0))
        for pin, net in pins.items():
            p = cell.pins.get(pin)
            t = toggle.get(net, 0.0)
            if p is None or t == 0.0:
                continue
            if p.direction == "output":
                c = load.get(net, 0.0)
                internal += t * p.energy(slew_ns, c)
                switching += t * 0.5 * c * v2
            else:
                internal += t * p.energy(slew_ns)
        if part_of is not None:
            part = part_of(name)
            parts[part] = parts.get(part, 0.0) + internal + switching - before
            parts_leakage[part] = parts_leakage.get(part, 0.0) + cell.leakage
    # switching energy of nets driven from outside (inputs) also charges our pins
    driven = {net for kind, _, pins in insts for pin, net in pins.items()
              if cells[kind].pins.get(pin) and cells[kind].pins[pin].direction == "output"}
    for net, c in load.items():
        if net not in driven:
            switching += toggle.get(net, 0.0) * 0.5 * c * v2
    if part_of is not None:  # that charge, pin by pin, to the parts of the loads
        for kind, name, pins in insts:
            for pin, net in pins.items():
                p = cells[kind].pins.get(pin)
                if net not in driven and p is not None and p.direction == "input":
                    part = part_of(name)
                    parts[part] = (parts.get(part, 0.0)
                                   + toggle.get(net, 0.0) * 0.5 * p.capacitance * v2)
    # table values are in capacitance unit x V^2 (e.g. pF V^2 = pJ)
    unit = units["cap_unit"]
    return NetlistEnergy(dynamic_j=(internal + switching) * unit, internal_j=internal * unit,
                         switching_j=switching * unit, leakage_w=leakage * units["leak_unit"],
                         clock_j=clock * unit, gating_bound_j=gateable * unit,
                         parts_j={k: v * unit for k, v in parts.items()},
                         parts_leakage_w={k: v * units["leak_unit"]
                                          for k, v in parts_leakage.items()})
