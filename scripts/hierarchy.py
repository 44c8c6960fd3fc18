"""MacArrays synthesized hierarchically, and put back together for timing and energy.

A flat synthesis of a whole array takes minutes at 4x4 and more than a quarter of an hour at
8x8 (Yosys's SAT-based ``share`` pass), so arrays are synthesized in two parts
(``synthesize_array``):

- one PE of the array (the last one, taken out of the array's own Verilog as module
  ``pe_rep``), synthesized alone; the array has rows x cols copies of it;
- everything else (skew registers, output FIFO, row-edge chunk adders and their rings,
  control), synthesized with the PEs as black boxes.

Both are mapped timing-driven at the same clock, so the estimate misses only optimisation
across PE boundaries (a test checks area and energy against a flat synthesis of a small array).

For timing and energy the two mapped netlists are *composed* (``compose``): every black-box PE
instance of the rest becomes an instance of the mapped ``pe_rep``, and Yosys flattens the
result into one gate-level netlist of the whole array, with no further optimisation. That
netlist is timed by OpenSTA like any other (the row-edge adders and every PE, with the real
loads between them) and simulated at gate level by ``scripts/energy.py``.

The PEs of an array are identical up to the names Amaranth gives some of their ports (a port
driven by a slice of a parent signal is named ``port$<n>$0``, with ``n`` differing per
instance, and Yosys may write the declarations in another order). ``pe_port_maps`` proves the
identity: with the generated names replaced, each PE's lines must be the representative's (in
any order), and each generated port is matched to the representative's by the lines using it.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from fp8forge import tools
from fp8forge.files import atomic_write
from fp8forge.hdl.array import MacArray
from fp8forge.hdl.generate import generate_verilog

from .synth import (
    SynthError,
    SynthReport,
    _opensta_timing,
    _prepare_liberty,
    _synthesize,
    _timing_tool,
    publish,
)

#: Bumped when the composition changes, so composed netlists of an older one are not reused.
COMPOSE_VERSION = 1

_PE_MODULE = re.compile(r"\\unit\.core\.pe_\d+_\d+")
_GENERATED_PORT = re.compile(r"\\port\$\d+\$\d+")


@dataclass(frozen=True)
class ArraySynthesis:
    """The two parts of an array's hierarchical synthesis (see the module docstring)."""

    unit: MacArray
    verilog: str
    pe: SynthReport  # one PE, synthesized alone (module ``pe_rep``)
    rest: SynthReport  # the array with its PEs as black boxes
    pe_work: Path  # their cache entries (each holds its mapped.v)
    rest_work: Path

    @property
    def macs(self) -> int:
        return self.unit.rows * self.unit.cols

    def total(self, field: str) -> float:
        """``field`` (a liberty figure such as ``area_um2``) of the whole array: the rest's plus
        rows x cols times the PE's."""
        rest, pe = getattr(self.rest, field), getattr(self.pe, field)
        if rest is None or pe is None:
            raise SynthError(f"a synthesis report lacks its liberty figure {field}")
        return rest + self.macs * pe


def _representative(unit: MacArray) -> str:
    return f"\\unit.core.pe_{unit.rows - 1}_{unit.cols - 1}"


def synthesize_array(in_fmt, acc_fmt, chunk: int | None, rows: int, cols: int, *, liberty,
                     cache_dir: Path, clock_ns: float | None, timing: str = "auto",
                     ge_cell: str | None = None, clock_gating: bool = False,
                     interleave: int = 1) -> ArraySynthesis:
    """Synthesize a MacArray in two parts (see the module docstring), both at ``clock_ns``."""
    unit = MacArray(in_fmt, acc_fmt, rows=rows, cols=cols, chunk=chunk, interleave=interleave)
    verilog = generate_verilog(unit, "unit")
    rep = _representative(unit)
    if f"module {rep} (" not in verilog:
        raise SynthError(f"PE module {rep} not found in the array's Verilog")
    # (no other module's name starts with the last PE's)
    pe, pe_work = _synthesize(verilog.replace(rep, "\\pe_rep"), "pe_rep", liberty,
                              Path(cache_dir), clock_ns, timing=timing, ge_cell_name=ge_cell,
                              clock_gating=clock_gating)
    rest, rest_work = _synthesize(verilog, "unit", liberty, Path(cache_dir), clock_ns,
                                  "unit.core.pe_*", ge_cell_name=ge_cell,
                                  clock_gating=clock_gating)
    return ArraySynthesis(unit, verilog, pe, rest, pe_work, rest_work)


def _modules(verilog: str) -> dict[str, str]:
    """Module name -> the text from its port list to ``endmodule``."""
    return dict(re.findall(r"^module (\S+)\s*\((.*?)^endmodule", verilog, re.M | re.S))


def _canonical(body: str, prefix: str) -> tuple[list[str], dict[str, tuple[str, ...]]]:
    """A module body of a PE (the PE's own or one of its submodules', whose names start with
    ``prefix``) made comparable: its lines with ``prefix`` and every generated name replaced,
    sorted (Yosys writes declarations in an order that can vary from run to run); and per
    generated name its signature, the sorted lines that mention it (so replaced)."""
    text = body.split(";", 1)[1].replace(prefix, "\\PE")
    text = re.sub(r"dump_module\$\d+", "dump_module$", text)
    names = set(_GENERATED_PORT.findall(text))
    generic = text
    for name in names:
        generic = generic.replace(name + " ", "\\port# ")
    pairs = list(zip(text.splitlines(), generic.splitlines(), strict=True))
    signatures = {name: tuple(sorted(g for line, g in pairs if name + " " in line))
                  for name in names}
    return sorted(generic.splitlines()), signatures


def pe_port_maps(verilog: str, rows: int, cols: int) -> dict[str, dict[str, str]]:
    """For each PE module of the array's Verilog: its generated port names -> the
    representative PE's (matched by the lines that use them). ``SynthError`` if any PE (with
    its submodules) differs from the representative in more than the order of its lines and
    generated names."""
    modules = _modules(verilog)

    def canonical(pe: str) -> tuple[dict[str, list[str]], dict[str, tuple[str, ...]]]:
        texts, own = {}, {}
        for name, body in modules.items():
            if name == pe or name.startswith(pe + "."):
                texts[name[len(pe):]], signatures = _canonical(body, pe)
                if name == pe:
                    own = signatures
        return texts, own

    rep_name = f"\\unit.core.pe_{rows - 1}_{cols - 1}"
    rep_texts, rep_signatures = canonical(rep_name)
    by_signature = {s: name for name, s in rep_signatures.items()}
    if len(by_signature) != len(rep_signatures):
        raise SynthError(f"two generated ports of {rep_name} are used alike: cannot tell "
                         "them apart")
    maps = {}
    for name in modules:
        if not _PE_MODULE.fullmatch(name):
            continue
        texts, signatures = canonical(name)
        if texts != rep_texts or set(signatures.values()) != set(by_signature):
            raise SynthError(f"PE {name} of the array is not a copy of the last PE: the "
                             "hierarchical estimate does not apply")
        maps[name] = {own: by_signature[s] for own, s in signatures.items()}
    if len(maps) != rows * cols:
        raise SynthError(f"expected {rows * cols} PE modules in the array, found {len(maps)}")
    return maps


def instantiate_pe(rest_netlist: str, maps: dict[str, dict[str, str]]) -> str:
    """The rest's mapped netlist with each black-box PE instance made an instance of
    ``pe_rep`` (its generated port names renamed per ``maps``)."""
    done = set()

    def replace(m: re.Match) -> str:
        module = m.group(1)
        if module not in maps:
            raise SynthError(f"black box {module} of the array is not one of its PEs")
        done.add(module)
        names = maps[module]  # renamed all at once: one PE's name may be another's target
        ports = re.sub(r"\.(\\port\$\d+\$\d+) \(",
                       lambda p: f".{names.get(p.group(1), p.group(1))} (", m.group(3))
        return f"  pe_rep {m.group(2)} ({ports});"

    out = re.sub(r"^\s*(\\unit\.core\.pe_\d+_\d+)\s+(\S+)\s*\((.*?)\);", replace, rest_netlist,
                 flags=re.M | re.S)
    if done != set(maps):
        raise SynthError(f"the rest of the array instantiates {len(done)} of its "
                         f"{len(maps)} PEs")
    return out


def compose(array: ArraySynthesis, liberty, cache_dir: Path) -> Path:
    """A cache entry holding the whole array as one flat mapped netlist (``mapped.v``, and
    ``sta.v`` with its buses split for OpenSTA): the rest with every PE instance replaced by
    the mapped PE, flattened without optimisation."""
    key = hashlib.sha256(f"{COMPOSE_VERSION}\n{array.pe_work.name}\n{array.rest_work.name}"
                         .encode()).hexdigest()[:16]
    final = Path(cache_dir) / f"array-{key}"
    if (final / "mapped.v").exists():
        return final
    maps = pe_port_maps(array.verilog, array.unit.rows, array.unit.cols)
    work = Path(tempfile.mkdtemp(prefix=f".{final.name}-", dir=cache_dir))
    try:
        pe_netlist = (array.pe_work / "mapped.v").read_text()
        rest_netlist = instantiate_pe((array.rest_work / "mapped.v").read_text(), maps)
        (work / "composed.v").write_text(rest_netlist + "\n" + pe_netlist)
        lib_file = _prepare_liberty(Path(liberty).resolve(), work)
        script = [f"read_liberty -lib {lib_file.name}", "read_verilog composed.v",
                  "hierarchy -check -top unit", "flatten", "write_verilog -noattr mapped.v",
                  "splitnets", "opt_clean -purge", "write_verilog -noattr sta.v"]
        (work / "compose.ys").write_text("\n".join(script) + "\n")
        proc = subprocess.run([*tools.yosys_command(), "-q", "-l", "yosys.log", "-s",
                               "compose.ys"], cwd=work, capture_output=True, text=True)
        lib_file.unlink()
        if proc.returncode != 0:
            raise SynthError(f"yosys could not compose the array: see {work / 'yosys.log'}")
        publish(work, final)
    except SynthError:
        raise  # the work directory stays for the log the message names
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return final


def array_timing(array: ArraySynthesis, liberty, cache_dir: Path, clock_ns: float | None,
                 timing: str = "auto") -> dict:
    """OpenSTA timing of the composed array (``synth._opensta_timing``: critical path, path
    groups), cached with the composed netlist; {} when ``timing`` does not resolve to OpenSTA
    (``synth._timing_tool``: ABC's stime is not run on composed netlists)."""
    if _timing_tool(timing, tools.yosys()) != "opensta":
        return {}
    work = compose(array, liberty, cache_dir)
    done = work / f"timing-{clock_ns}.json"
    if done.exists():
        return json.loads(done.read_text())
    lib_file = _prepare_liberty(Path(liberty).resolve(), work)
    try:
        result = _opensta_timing(work, lib_file, "unit", clock_ns)
    finally:
        lib_file.unlink()
    atomic_write(done, json.dumps(result))
    return result
