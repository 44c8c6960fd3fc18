"""Verilog generation: the unit registry behind ``fp8forge generate`` and the Verilog header.

Output is deterministic (no source locations, stable names): the same unit and parameters give
byte-identical Verilog. The file starts with a comment naming the unit, its formats and
parameters, latency and throughput, and its ports, followed by the lint waivers below.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass

from amaranth.hdl import Shape
from amaranth.lib import wiring

from fp8forge import __version__
from fp8forge.golden.design import PAPER
from fp8forge.golden.formats import FloatFormat, Rounding

from .accumulator import ChunkAccumulator, MacPE
from .arith import FpAdd, FpFma, FpMul, Quantizer
from .array import MacArray
from .axpy import AxpyUnit
from .lfsr import Lfsr
from .unit import Unit
from .verilog_backend import convert

__all__ = ["UNITS", "UnitOptions", "build_unit", "generate_verilog", "LINT_WAIVERS"]

#: Verilator -Wall rules waived in every generated file. Each is a property of the
#: Amaranth -> Yosys Verilog backend, not of the design.
LINT_WAIVERS = {
    "WIDTHEXPAND": "the backend writes operands at their natural width and relies on Verilog's "
                   "zero/sign extension, which is what the RTL means",
    "WIDTHTRUNC": "likewise for truncation on assignment, and `!x` on multi-bit x is the "
                  "backend's reduce-NOR",
    "UNUSEDSIGNAL": "Amaranth keeps every named signal as a debug wire while the backend writes "
                    "expressions from their drivers, so those wires read as unused",
    "PROCASSINIT": "register reset values are emitted as declaration initializers",
    "DECLFILENAME": "submodules are emitted hierarchically named (top.sub) in one file",
}


@dataclass(frozen=True)
class UnitOptions:
    """Options of ``fp8forge generate`` (each unit reads the ones it needs)."""

    in_fmt: FloatFormat = PAPER.in_fmt
    acc_fmt: FloatFormat = PAPER.acc_fmt
    out_fmt: FloatFormat = PAPER.in_fmt  # activations leave the array in the operand format
    chunk: int | None = PAPER.chunk
    rbits: int = PAPER.rbits
    lanes: int = 1
    stages: int = 0
    interleave: int = 1  # MacPE / ChunkAccumulator: dot products per accumulation loop
    rounding: Rounding | None = None  # None: the unit's default
    saturate: bool = False
    seed: int = 1
    width: int = 32  # LFSR width
    rows: int = 4  # MacArray
    cols: int = 4
    quantize_out: bool = False  # MacArray: quantize results to out_fmt


def _rounding(opts: UnitOptions, default: Rounding) -> Rounding:
    return default if opts.rounding is None else opts.rounding


#: name -> (builder, one-line description)
UNITS = {
    "fpmul": (lambda o: FpMul(o.in_fmt, o.acc_fmt, rounding=_rounding(o, Rounding.RNE),
                              rbits=o.rbits, saturate=o.saturate, stages=o.stages),
              "multiplier in -> acc format"),
    "fpadd": (lambda o: FpAdd(o.acc_fmt, rounding=_rounding(o, Rounding.RNE), rbits=o.rbits,
                              saturate=o.saturate, stages=o.stages),
              "adder in the acc format"),
    "fpfma": (lambda o: FpFma(o.acc_fmt, rounding=_rounding(o, Rounding.SR), rbits=o.rbits,
                              saturate=o.saturate, stages=o.stages),
              "fused a*x+y in the acc format"),
    "quantizer": (lambda o: Quantizer(o.acc_fmt, o.out_fmt, rounding=_rounding(o, Rounding.RNE),
                                      rbits=o.rbits, saturate=o.saturate, stages=o.stages),
                  "conversion acc -> out format"),
    "chunkaccumulator": (lambda o: ChunkAccumulator(o.acc_fmt, chunk=o.chunk,
                                                    rounding=_rounding(o, Rounding.RNE),
                                                    rbits=o.rbits, interleave=o.interleave),
                         "chunk-based accumulator"),
    "macpe": (lambda o: MacPE(o.in_fmt, o.acc_fmt, chunk=o.chunk, stages=o.stages,
                              interleave=o.interleave),
              "multiplier + chunk accumulator"),
    "lfsr": (lambda o: Lfsr(o.width, seed=o.seed, outputs=o.lanes * o.rbits),
             "maximal-length LFSR, lanes*rbits bits per cycle"),
    "macarray": (lambda o: MacArray(o.in_fmt, o.acc_fmt, rows=o.rows, cols=o.cols, chunk=o.chunk,
                                    out_fmt=o.out_fmt if o.quantize_out else None,
                                    stages=o.stages, interleave=o.interleave),
                 "output-stationary systolic GEMM array"),
    "axpyunit": (lambda o: AxpyUnit(o.acc_fmt, lanes=o.lanes, rounding=_rounding(o, Rounding.SR),
                                    rbits=o.rbits, seed=o.seed, stages=o.stages),
                 "weight-update AXPY lanes with internal LFSR"),
}


def build_unit(name: str, opts: UnitOptions) -> wiring.Component:
    """Instantiate unit ``name``; raises ValueError/TypeError for impossible parameters."""
    key = name.lower()
    if key not in UNITS:
        raise ValueError(f"unknown unit {name!r}: use one of {', '.join(UNITS)}")
    return UNITS[key][0](opts)


def describe(unit: wiring.Component) -> str:
    """``FpMul(in_fmt=e5m2, out_fmt=e6m9, ...)`` from the unit's read-only properties."""
    params = []
    for attr in ("in_fmt", "acc_fmt", "out_fmt", "fmt", "chunk", "rounding", "rbits", "lanes",
                 "stages", "interleave", "rows", "cols", "width", "outputs", "seed", "lfsr_width"):
        if isinstance(getattr(type(unit), attr, None), property):
            value = getattr(unit, attr)
            if attr == "interleave" and value == 1:
                continue  # the default: named only when it changes the design
            if isinstance(value, Rounding):
                value = value.name
            params.append(f"{attr}={value}")
    return f"{type(unit).__name__}({', '.join(params)})"


def _port_docs(unit: wiring.Component) -> dict[str, str]:
    """Port descriptions from the numpydoc ``Members`` section of the unit's docstring."""
    doc = inspect.getdoc(type(unit)) or ""
    docs: dict[str, str] = {}
    section = doc.split("Members\n-------\n", 1)
    if len(section) < 2:
        return docs
    current: list[str] = []
    for line in section[1].splitlines():
        if line and not line.startswith(" "):
            names, _, _kind = line.partition(" : ")
            current = [n.strip() for n in names.split(",")]
            for n in current:
                docs[n] = ""
        elif line.strip() and current:
            for n in current:
                docs[n] = f"{docs[n]} {line.strip()}".strip()
    return docs


def _require_unit(unit: object) -> None:
    if not isinstance(unit, Unit):
        raise TypeError(f"{type(unit).__name__} is not an fp8forge Unit: it needs latency and "
                        "throughput properties")


def generate_verilog(unit: wiring.Component, name: str) -> str:
    """Verilog text of ``unit`` as module ``name``, with the header and lint waivers.

    ``unit`` must be a ``Unit`` (``latency`` and ``throughput``; every fp8forge unit is).
    """
    _require_unit(unit)
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ValueError(f"module name must be a Verilog identifier, not {name!r}")
    body = convert(unit, name)
    docs = _port_docs(unit)
    lines = [
        f"// Generated by fp8forge {__version__}; do not edit.",
        f"// Unit: {describe(unit)}",
        f"// Latency: {unit.latency} cycle(s); throughput: {unit.throughput} per cycle",
        "// Ports:",
    ]
    for port, member in unit.signature.members.items():
        width = Shape.cast(member.shape).width
        text = docs.get(port, "")
        lines.append(f"//   {port:<12} {member.flow.name.lower():<3} {width:>4}  {text}".rstrip())
    if re.search(r"\binput clk\b", body):
        lines.append(f"//   {'clk':<12} in  {1:>4}  clock (rising edge)")
        lines.append(f"//   {'rst':<12} in  {1:>4}  synchronous reset to the initial state")
    # (A comment starting with the tool's name would be read as a pragma by Verilator.)
    lines.append("// Lint waivers for -Wall (backend properties, not design issues):")
    for rule, why in LINT_WAIVERS.items():
        lines.append(f"//   {rule}: {why}")
    lines += [f"/* verilator lint_off {rule} */" for rule in LINT_WAIVERS]
    return "\n".join(lines) + "\n" + body
