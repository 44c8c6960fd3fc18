"""``fp8forge`` command-line tool: parses arguments, calls library code, prints.

Every error ends in a one-line ``fp8forge: error: ...`` message, never a traceback. Exit
status (``EXIT_STATUS``): 0 done; 1 a tool is missing or a tool run failed, or the file system
failed a read or write (a full disk); 2 bad input (an
unknown format, an impossible or out-of-range option, an unusable file or output path);
130 interrupted. Output paths are checked before any work starts, and reports are written
whole or not at all.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NoReturn

import numpy as np

from fp8forge import __version__
from fp8forge.errors import Fp8forgeError, InputError, ToolError
from fp8forge.files import atomic_write
from fp8forge.golden import Rounding, decode, parse_format, quantize
from fp8forge.golden.design import DEFAULT_RBITS, PAPER
from fp8forge.golden.formats import FloatFormat
from fp8forge.table import render
from fp8forge.tools import ToolMissing

from .synth import TIMING_TOOLS

#: ``hdl.generate.UNITS``' names, for the help text: reading them there would import Amaranth
#: (half a second) into every command (a test keeps the two equal).
UNIT_NAMES = ("fpmul", "fpadd", "fpfma", "quantizer", "chunkaccumulator", "macpe", "lfsr",
              "macarray", "axpyunit")


class UsageError(InputError):
    """A problem with the user's input; reported in one line with exit status 2."""


class ToolFailure(ToolError):
    """A tool is missing or failed on a valid input; reported in one line with exit status 1."""


#: The first line of ``fp8forge --help`` (a constant: docstrings are gone under ``python -OO``).
DESCRIPTION = "fp8forge command-line tool: parses arguments, calls library code, prints."
EXIT_STATUS = ("exit status: 0 done, 1 a tool missing or failed or a file system error (e.g. a "
               "full disk), 2 bad input or output path, 130 interrupted")


@contextlib.contextmanager
def _bad_input() -> Iterator[None]:
    """Library TypeError/ValueError inside: the user's input was wrong (exit status 2)."""
    try:
        yield
    except (TypeError, ValueError) as exc:
        raise UsageError(str(exc)) from None


def _output_dir(path: str | Path) -> Path:
    """``path`` checked as an output folder before any work starts: not a file, and inside a
    writable folder. Nothing is created here (a run that fails early leaves no folder)."""
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"output {folder} is a file, not a folder")
    ancestor = folder
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise UsageError(f"output {folder}: {ancestor} is a file, not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK) or not _can_create_in(ancestor):
        raise UsageError(f"output {folder}: {ancestor} is not writable")
    return folder


def _can_create_in(folder: Path) -> bool:
    """A file can really be created in ``folder`` (``os.access`` says yes to root even on
    ``/proc``); the probe file is removed at once."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def _output_file(path: str | Path) -> Path:
    """``path`` as a file that can be written (its folder created if missing)."""
    file = Path(path)
    if file.is_dir():
        raise UsageError(f"output {file} is a folder, not a file")
    _output_dir(file.parent)
    return file


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line instead of usage + message
        self.exit(2, f"{self.prog}: error: {message}\n")


def _format(text: str) -> FloatFormat:
    try:
        return parse_format(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _rounding(text: str) -> Rounding:
    try:
        return Rounding[text.upper()]
    except KeyError:
        names = ", ".join(r.name.lower() for r in Rounding)
        raise argparse.ArgumentTypeError(f"unknown rounding {text!r}: use {names}") from None


def _int(lo: int, hi: int):
    """An argparse type: an integer in ``lo..hi``, checked before any work starts."""
    def parse(text: str) -> int:
        try:
            value = int(text, 0)
        except ValueError:
            value = None
        if value is None or not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"must be an integer in {lo}..{hi}, not {text!r}")
        return value
    return parse


def _positive(text: str) -> float:
    """An argparse type: a finite number > 0 (an infinite clock would hang OpenSTA)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, not {text!r}")
    return value


#: Upper bounds of size-like options: large enough for any real use, small enough that a typo
#: fails at once instead of allocating gigabytes.
MAX_SEED = 2**63 - 1
MAX_CHUNK = 2**20


def _chunk(text: str) -> int | None:
    if text.lower() == "none":
        return None
    try:
        return _int(1, MAX_CHUNK)(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"chunk must be an integer in 1..{MAX_CHUNK} or 'none', not {text!r}"
        ) from None


def _fields(bits: int, fmt: FloatFormat) -> str:
    text = format(bits, f"0{fmt.width}b")
    return f"{text[0]} {text[1 : 1 + fmt.exp_bits]} {text[1 + fmt.exp_bits :]}".rstrip()


def cmd_formats(args: argparse.Namespace) -> None:
    from .formats_table import formats_table

    print(formats_table(args.format or [], markdown=args.markdown))


def cmd_quantize(args: argparse.Namespace) -> None:
    fmt: FloatFormat = args.to
    try:
        if args.src is None:
            inputs = np.array([float(v) for v in args.values], dtype=np.float64)
        else:
            inputs = np.array([int(v, 0) for v in args.values], dtype=np.uint64)
    except ValueError as exc:
        raise UsageError(f"cannot read value: {exc}") from None
    kwargs: dict[str, object] = {"saturate": args.saturate}
    if args.rounding is Rounding.SR:
        rng = np.random.default_rng(args.seed)
        kwargs.update(rand=rng.integers(0, 1 << args.rbits, len(inputs)), rbits=args.rbits)
    with _bad_input():
        out = quantize(inputs, fmt, args.rounding, src_fmt=args.src, **kwargs)
    if args.src is None:
        shown = [repr(float(v)) for v in inputs]
    else:
        shown = [
            f"{int(b):#x} ({float(v)!r})"
            for b, v in zip(inputs, decode(inputs, args.src), strict=True)
        ]
    values = decode(out, fmt)
    rows = [
        [s, f"{int(b):#0{(fmt.width + 3) // 4 + 2}x}", _fields(int(b), fmt), repr(float(v))]
        for s, b, v in zip(shown, out, values, strict=True)
    ]
    title = f"quantize to {fmt.name}, {args.rounding.name}"
    if args.rounding is Rounding.SR:
        title += f" (rbits={args.rbits}, seed={args.seed})"
    print(title + (", saturating" if args.saturate else ""))
    print(render(["input", "bits", "s exp man", "value"], rows))


def _liberty(option: str | None) -> Path:
    """The liberty a run uses (``--liberty``, ``$FP8FORGE_LIBERTY`` or the shipped one)."""
    from fp8forge.pdk import resolve_liberty

    try:
        return resolve_liberty(option)
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from None


def cmd_demo(args: argparse.Namespace) -> None:
    from .demo import run_demo

    liberty = _liberty(args.liberty)
    build = _output_dir(args.build)
    run_demo(build, length=args.length, rtl=not args.no_rtl, synth=not args.no_synth,
             liberty=liberty)


def cmd_generate(args: argparse.Namespace) -> None:
    from .generate import write_unit

    output = _output_file(args.output)
    with _bad_input():
        summary = write_unit(args.unit, output, args)
    print(summary)


def cmd_synth(args: argparse.Namespace) -> None:
    from fp8forge.hdl.generate import build_unit, describe, generate_verilog

    from .generate import options_from
    from .synth import synthesize, write_unit_report

    liberty = _liberty(args.liberty)
    if args.compare:
        from .compare import compare_markdown, run_compare

        out = _output_dir(args.output or "build/synth/compare")
        cache = _output_dir(args.cache)
        rows = run_compare(liberty, out, cache_dir=cache, clock_ns=args.clock_ns,
                           timing=args.timing, ge_cell=args.ge_cell)
        print(compare_markdown(rows))
        print(f"written: {out / 'compare.md'}, {out / 'compare.json'}, {out / 'compare.png'}")
        return
    if args.unit is None:
        raise UsageError("synth needs a UNIT (or --compare)")
    if args.activity and args.activity != "auto" and not Path(args.activity).is_file():
        raise UsageError(f"activity file not found: {args.activity}")
    with _bad_input():
        unit = build_unit(args.unit, options_from(args))
    out = _output_dir(args.output or f"build/synth/{args.unit}")
    cache = _output_dir(args.cache)
    report = synthesize(generate_verilog(unit, args.unit), args.unit, liberty=liberty,
                        cache_dir=cache, clock_ns=args.clock_ns, timing=args.timing,
                        ge_cell=args.ge_cell, clock_gating=args.clock_gating)
    energy = None
    if args.activity:
        from .energy import estimate_energy

        energy = estimate_energy(unit, generate_verilog(unit, args.unit), args.unit,
                                 liberty=liberty, cache_dir=cache,
                                 clock_ns=args.clock_ns, timing=args.timing,
                                 clock_gating=args.clock_gating,
                                 activity_vcd=None if args.activity == "auto"
                                 else Path(args.activity))
    text = write_unit_report(out, describe(unit), report, energy)
    print(f"{describe(unit)}" + (" (cached)" if report.cached else ""))
    print(text.split("\n", 2)[2], end="")
    print(f"written: {out / 'report.json'}, {out / 'report.md'}")


def cmd_fpga(args: argparse.Namespace) -> None:
    from fp8forge.golden.formats import parse_format as fmt

    from .fpga import BOARDS, DoesNotFit, build_pe

    if args.board not in BOARDS:
        raise UsageError(f"unknown board {args.board!r}: use one of {', '.join(BOARDS)}")
    out = _output_dir(args.output or f"build/fpga/{args.board}")
    configs = [("FP8", args.in_fmt, args.acc_fmt, args.chunk)]
    if not args.no_baseline:
        configs.append(("baseline", fmt("fp16"), fmt("fp32"), None))
    rows, reports = [], []
    for label, in_fmt, acc_fmt, chunk in configs:
        print(f"placing and routing {label} PE on {args.board} ...", flush=True)
        try:
            report = build_pe(args.board, in_fmt, acc_fmt, chunk, out / label)
        except ToolMissing:
            raise  # says which pip install fixes it (exit status 1)
        except DoesNotFit as exc:
            raise ToolFailure(f"{label} PE: {exc}") from None
        except Exception as exc:  # toolchain failures are reported, not tracebacks
            raise ToolFailure(f"FPGA build failed for {label}: {exc}") from None
        reports.append(report.as_dict())
        rows.append([report.design, f"{report.logic_cells}/{report.logic_cells_available}",
                     str(report.luts), str(report.flip_flops), str(report.dsps),
                     f"{report.fmax_mhz:.2f}", f"{report.board_clock_mhz:g}"])
    atomic_write(out / "fpga.json", json.dumps(reports, indent=1))
    print(render(["design", "logic cells", "LUT4", "FF", "DSP", "fmax MHz", "board clock MHz"],
                 rows))
    print(f"written: {out / 'fpga.json'}")


def cmd_project(args: argparse.Namespace) -> None:
    from fp8forge.model.networks import NETWORKS

    from .project import DesignPoint, run_project, summary_markdown, text_progress

    nets = [n.strip() for n in args.net.split(",") if n.strip()]
    unknown = [n for n in nets if n not in NETWORKS]
    if not nets or unknown:
        raise UsageError(f"unknown network {', '.join(unknown) or repr(args.net)} "
                         f"(known: {', '.join(NETWORKS)})")
    dp = DesignPoint(baseline_macs=args.baseline_macs, bandwidth_gbs=args.bandwidth,
                     buffer_kib=args.buffer_kib, clock_ghz=args.clock_ghz,
                     clock_from_synth=args.clock == "synth", dataflow=args.dataflow,
                     chunk=args.chunk, axpy_lanes=args.lanes,
                     wide_first_last=not args.fp8_everywhere, area_ratio=args.area_ratio,
                     synth_json=Path(args.synth))
    if args.scalesim:
        _print_scalesim(dp, nets, args.batch)
        return
    out = _output_dir(args.output)
    command = "fp8forge project " + " ".join(sys.argv[2:]) if sys.argv[1:2] == ["project"] \
        else "fp8forge project"
    try:  # a DesignError is exit status 2 by itself; other ValueErrors are bad input too
        data = run_project(dp, nets, args.batch, out, sensitivity=not args.no_sweep,
                           plots=not args.no_plots, command=command, progress=text_progress())
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    print(f"FP8:      {data['systems']['fp8']}")
    print(f"baseline: {data['systems']['baseline']}")
    print(f"areas: {data['calibration']['source']}")
    print(summary_markdown(data, markdown=False))
    print(f"written: {out / 'project.md'}, {out / 'project.json'}"
          + ("" if args.no_plots else " and PNGs"))


def _print_scalesim(dp, nets: list[str], batch: int) -> None:
    """Per-GEMM stall-free compute cycles of the FP8 system's array, SCALE-Sim convention."""
    from fp8forge.model.networks import network
    from fp8forge.model.scalesim import DATAFLOWS, report_total_cycles
    from fp8forge.model.throughput import compute_cycles as rtl_cycles

    from .project import build_systems, calibrate

    fp8, _ = build_systems(dp, calibrate(dp))  # a DesignError is exit status 2 by itself
    one = fp8.replace(arrays=1)
    print(f"# one {one.rows}x{one.cols} array; SCALE-Sim: folds serialised, no stalls, as its "
          "COMPUTE_REPORT.csv prints \"Total Cycles\" (the index of the last cycle: the cycle "
          "count minus 1); RTL: MacArray.cycles (tiles back to back), a cycle count")
    for name in nets:
        rows = [[g.layer.name, g.pass_, g.m, g.n, g.k,
                 *(report_total_cycles(g.m, g.n, g.k, one.rows, one.cols, d)
                   for d in DATAFLOWS),
                 rtl_cycles(one, g)] for g in network(name).gemms(batch)]
        print(f"## {name}, batch {batch}")
        print(render(["layer", "pass", "M", "N", "K",
                      *(f"SCALE-Sim {d} Total Cycles" for d in DATAFLOWS), "RTL os cycles"],
                     rows))


EXPERIMENTS = ("accumulation", "gradients", "update", "train")


def cmd_experiment(args: argparse.Namespace) -> None:
    import importlib

    names = EXPERIMENTS if args.name == "all" else (args.name,)
    out = _output_dir(args.output)
    mode = "--quick " if args.quick else ""
    for name in names:
        module = importlib.import_module(f"fp8forge.experiments.{name}")
        command = f"fp8forge experiment {name} {mode}-o {out}".replace("  ", " ")
        print(f"== experiment {name}{' (quick)' if args.quick else ''} ==", flush=True)
        if name == "train":
            module.run(args.quick, out, seeds=args.seeds, jobs=args.jobs, command=command)
        else:
            module.run(args.quick, out, command=command,
                       progress=lambda line: print(line, file=sys.stderr, flush=True))
        print((out / f"{name}.md").read_text())
        print(f"written: {out / (name + '.md')}, {out / (name + '.json')} and PNGs")


def cmd_bench(args: argparse.Namespace) -> None:
    from .bench import run_benchmarks

    run_benchmarks(repeats=args.repeats, out=sys.stdout, rtl=not args.no_rtl)


def _interrupt_on_sigterm() -> None:
    """Long runs stop the same way on Ctrl-C, on SIGTERM (a batch system's or ``kill``'s) and
    when started in the background (where the shell ignores SIGINT): as KeyboardInterrupt,
    which saves what is done and exits 130."""
    import signal

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)


def cmd_sweep(args: argparse.Namespace) -> None:
    from fp8forge.model.networks import NETWORKS

    from .sweep import (
        AXES,
        NOT_RUN,
        Settings,
        SweepInterrupted,
        attach_projections,
        grid,
        load_config,
        parse_axis,
        run_sweep,
    )
    from .sweep_report import front_table, write_report

    given = {"in_fmt": args.in_fmt, "acc_fmt": args.acc_fmt, "chunk": args.chunk,
             "rbits": args.rbits, "side": args.side, "clock": args.clock,
             "pipelined": args.pipelined}
    axes = load_config(Path(args.config)) if args.config else {}
    axes |= {name: parse_axis(name, text.split(",")) for name, text in given.items()
             if text is not None}
    nets = [n.strip() for n in args.net.split(",") if n.strip()]
    unknown = [n for n in nets if n not in NETWORKS]
    if unknown:
        raise UsageError(f"unknown network {', '.join(unknown)} (known: {', '.join(NETWORKS)})")
    baseline = tuple(f.strip() for f in args.baseline.split(","))
    if len(baseline) != 2:
        raise UsageError(f"--baseline needs IN,ACC formats, not {args.baseline!r}")
    points = grid({k: v for k, v in axes.items() if k in AXES}, baseline=baseline)
    out = _output_dir(args.output)
    cache = _output_dir(args.cache)
    from fp8forge.pdk import DEFAULT_LIBERTY

    liberty = _liberty(args.liberty).resolve()
    # The shipped library: each worker reads its own copy (a cluster's paths differ).
    settings = Settings(liberty="" if liberty == DEFAULT_LIBERTY else str(liberty),
                        energy=not args.no_energy, timing=args.timing,
                        array_energy=args.array_energy and not args.no_energy)
    _interrupt_on_sigterm()
    interrupted = None
    try:
        rows = run_sweep(points, settings, cache, scheduler=args.scheduler,
                         workers=args.workers)
    except SweepInterrupted as stop:  # report what finished, then exit 130
        rows, interrupted = stop.rows, stop
    attach_projections(rows, nets, baseline)
    command = "fp8forge " + " ".join(sys.argv[1:]) if sys.argv[1:2] == ["sweep"] \
        else "fp8forge sweep"
    flat = write_report(rows, nets, settings.error_lengths, out, command, baseline,
                        plots=not args.no_plots)
    not_run = [r for r in flat if r["failed"] == NOT_RUN]
    failed = [r for r in flat if r["failed"] and r["failed"] != NOT_RUN]
    print(front_table(flat, settings.error_lengths))
    print(f"{len(flat) - len(failed) - len(not_run)} of {len(flat)} points done"
          + (f", {len(not_run)} not run (interrupted: the same command resumes)"
             if not_run else "")
          + (f", {len(failed)} failed:" if failed else ""))
    for r in failed:
        print(f"  {r['label']}: {r['failed']}")
    print(f"written: {out / 'sweep.md'}, {out / 'sweep.csv'}, {out / 'sweep.json'}"
          + ("" if args.no_plots else f", {out / 'pareto.png'}"))
    if interrupted is not None:
        raise interrupted


def _liberty_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--liberty", default=None, metavar="FILE",
                   help="liberty file (.lib or .lib.gz; default $FP8FORGE_LIBERTY, else the "
                   "SKY130 HD typical-corner library shipped with fp8forge)")


def _add_formats(sub) -> None:
    """The ``formats`` command's arguments."""
    p = sub.add_parser("formats", help="print the format presets and their limits")
    p.add_argument("format", nargs="*", type=_format, help="extra formats to list (eXmY...)")
    p.add_argument("--markdown", action="store_true", help="Markdown table")
    p.set_defaults(func=cmd_formats)


def _add_quantize(sub) -> None:
    """The ``quantize`` command's arguments."""
    p = sub.add_parser("quantize", help="round numbers (or another format's bits) into a format")
    p.add_argument("values", nargs="+", help="decimal numbers, or bit patterns with --from")
    p.add_argument(
        "--to", type=_format, default=parse_format("e5m2"), help="output format (default e5m2)"
    )
    p.add_argument(
        "--from",
        dest="src",
        type=_format,
        default=None,
        help="read VALUES as bit patterns (e.g. 0x3c00) of this format",
    )
    p.add_argument("--rounding", type=_rounding, default=Rounding.RNE, help="rne, rtz or sr")
    p.add_argument("--saturate", action="store_true", help="overflow to max finite")
    p.add_argument("--rbits", type=_int(1, 32), default=DEFAULT_RBITS,
                   help=f"SR random bits (default {DEFAULT_RBITS})")
    p.add_argument("--seed", type=_int(0, MAX_SEED), default=0,
                   help="SR random seed (default 0)")
    p.set_defaults(func=cmd_quantize)


def _unit_options() -> argparse.ArgumentParser:
    """Options shared by ``generate`` and ``synth``: the unit's formats and parameters."""
    unit_options = _Parser(add_help=False)
    unit_options.add_argument("--in", dest="in_fmt", type=_format, default=PAPER.in_fmt,
                              help=f"operand format (default {PAPER.in_fmt.name})")
    unit_options.add_argument("--acc", dest="acc_fmt", type=_format, default=PAPER.acc_fmt,
                              help="accumulator / arithmetic format "
                                   f"(default {PAPER.acc_fmt.name})")
    unit_options.add_argument("--out", dest="out_fmt", type=_format, default=PAPER.in_fmt,
                              help=f"quantizer output format (default {PAPER.in_fmt.name})")
    unit_options.add_argument("--chunk", type=_chunk, default=PAPER.chunk,
                              help=f"chunk length or 'none' (default {PAPER.chunk})")
    unit_options.add_argument("--rbits", type=_int(1, 32), default=DEFAULT_RBITS,
                              help=f"SR random bits (default {DEFAULT_RBITS})")
    unit_options.add_argument("--lanes", type=_int(1, 1024), default=1,
                              help="AXPY lanes (default 1)")
    unit_options.add_argument("--stages", type=_int(0, 8), default=0,
                              help="pipeline stages (default 0)")
    unit_options.add_argument("--interleave", type=_int(1, 2), default=1,
                              help="macpe / chunkaccumulator / macarray: independent dot "
                                   "products per accumulation loop, 2 cuts every loop once "
                                   "(default 1)")
    unit_options.add_argument("--rounding", type=_rounding, default=None, help="rne, rtz or sr")
    unit_options.add_argument("--saturate", action="store_true", help="overflow to max finite")
    unit_options.add_argument("--seed", type=_int(1, MAX_SEED), default=1,
                              help="LFSR seed (default 1)")
    unit_options.add_argument("--width", type=_int(2, 1024), default=32,
                              help="LFSR width (lfsr unit, default 32)")
    unit_options.add_argument("--rows", type=_int(1, 64), default=4,
                              help="MacArray rows (default 4)")
    unit_options.add_argument("--cols", type=_int(1, 64), default=4,
                              help="MacArray columns (default 4)")
    unit_options.add_argument("--quantize-out", action="store_true",
                              help="MacArray: quantize results to --out")
    return unit_options


def _add_generate(sub, unit_options: argparse.ArgumentParser) -> None:
    """The ``generate`` command's arguments."""
    p = sub.add_parser("generate", parents=[unit_options], help="write the Verilog of one unit")
    p.add_argument("unit", help=f"one of {', '.join(UNIT_NAMES)}")
    p.add_argument("-o", "--output", required=True, help="Verilog file to write")
    p.set_defaults(func=cmd_generate)


def _add_synth(sub, unit_options: argparse.ArgumentParser) -> None:
    """The ``synth`` command's arguments."""
    p = sub.add_parser("synth", parents=[unit_options],
                       help="synthesize one unit with Yosys: cells, transistors, area, GE")
    p.add_argument("unit", nargs="?", default=None,
                   help=f"one of {', '.join(UNIT_NAMES)} (not with --compare)")
    _liberty_options(p)
    p.add_argument("--ge-cell", default=None, metavar="CELL",
                   help="cell whose area is one gate equivalent (default: the smallest cell "
                   "whose function is a 2-input NAND)")
    p.add_argument("--timing", choices=TIMING_TOOLS, default="auto",
                   help="timing from OpenSTA, or ABC's stime through a native Yosys (pyosys); "
                   "auto: OpenSTA when installed, else ABC (default auto)")
    p.add_argument("--compare", action="store_true",
                   help="FP8 vs baseline table and chart (PEs, AXPY lanes, LFSR sharing)")
    p.add_argument("--clock-ns", type=_positive, default=None,
                   help="clock target in ns: timing-driven mapping (ABC -D with buffering and "
                        "sizing), worst slack and path groups reported (default: area-oriented "
                        "mapping; --compare: the baseline PE's best clock)")
    p.add_argument("--activity", default=None, metavar="FILE|auto",
                   help="energy per operation from switching activity: 'auto' simulates the "
                   "mapped netlist on realistic operands (Icarus when installed, else "
                   "Verilator), FILE is a VCD of that netlist's nets")
    p.add_argument("-o", "--output", default=None, help="report directory "
                   "(default build/synth/UNIT)")
    p.add_argument("--clock-gating", action="store_true",
                   help="give flip-flops sharing an enable an integrated clock-gating cell "
                        "(Yosys clockgate; energy simulated with the cell's model)")
    p.add_argument("--cache", default="build/synth/cache", metavar="DIR",
                   help="synthesis cache (default build/synth/cache of the working directory)")
    p.set_defaults(func=cmd_synth)


def _add_fpga(sub) -> None:
    """The ``fpga`` command's arguments."""
    p = sub.add_parser("fpga", help="place and route a MAC PE (and the baseline) on an FPGA board")
    p.add_argument("--board", required=True, help="icebreaker (iCE40UP5K) or ulx3s (ECP5-85F)")
    p.add_argument("--in", dest="in_fmt", type=_format, default=parse_format("e5m2"),
                   help="operand format (default e5m2)")
    p.add_argument("--acc", dest="acc_fmt", type=_format, default=parse_format("e6m9"),
                   help="accumulator format (default e6m9)")
    p.add_argument("--chunk", type=_chunk, default=64, help="chunk length or 'none' (default 64)")
    p.add_argument("--no-baseline", action="store_true", help="skip the fp16 -> fp32 PE")
    p.add_argument("-o", "--output", default=None,
                   help="build directory (default build/fpga/BOARD)")
    p.set_defaults(func=cmd_fpga)


def _add_demo(sub) -> None:
    """The ``demo`` command's arguments."""
    p = sub.add_parser("demo", help="the whole flow on the default design point -> "
                       "BUILD/report.md")
    p.add_argument("--length", type=_int(1, 2**24), default=4096,
                   help="dot-product length (default 4096)")
    p.add_argument("--build", default="build", help="output directory (default build)")
    p.add_argument("--no-rtl", action="store_true", help="skip the Verilator MacArray run")
    p.add_argument("--no-synth", action="store_true", help="skip the synthesis comparison")
    _liberty_options(p)
    p.set_defaults(func=cmd_demo)


def _add_project(sub) -> None:
    """The ``project`` command's arguments."""
    p = sub.add_parser("project", help="training-step throughput of FP8 vs the FP16 baseline")
    p.add_argument("--net", default="resnet50",
                   help="network(s), comma separated: resnet20, alexnet, resnet18, resnet50 "
                   "(default resnet50)")
    p.add_argument("--batch", type=_int(1, 2**20), default=32, help="batch size (default 32)")
    p.add_argument("--baseline-macs", type=_int(1, 2**24), default=1024,
                   help="MAC-array area budget in baseline PEs (default 1024 = 32x32)")
    p.add_argument("--bandwidth", type=_positive, default=64.0,
                   help="off-chip bandwidth in GB/s, both systems (default 64)")
    p.add_argument("--buffer-kib", type=_int(1, 2**30), default=512,
                   help="on-chip buffer per GEMM operand in KiB (default 512)")
    p.add_argument("--clock-ghz", type=_positive, default=1.0, help="clock (default 1 GHz)")
    p.add_argument("--clock", choices=("same", "synth"), default="same",
                   help="same clock for both, or FP8 scaled by the synthesized fmax ratio")
    p.add_argument("--dataflow", choices=("os", "ws", "is"), default="os",
                   help="os = the RTL's; ws/is use SCALE-Sim's formulas (default os)")
    p.add_argument("--chunk", type=_chunk, default=64, help="FP8 chunk length (default 64)")
    p.add_argument("--lanes", type=_int(1, 2**20), default=32, help="AXPY lanes (default 32)")
    p.add_argument("--fp8-everywhere", action="store_true",
                   help="also run the first and last layer in FP8")
    p.add_argument("--area-ratio", type=_positive, default=None,
                   help="baseline/FP8 PE area, given instead of read from synthesis")
    p.add_argument("--synth", default="build/synth/compare/compare.json",
                   help="synthesis comparison to read (default from `synth --compare`)")
    p.add_argument("--no-sweep", action="store_true", help="skip the sensitivity sweeps")
    p.add_argument("--no-plots", action="store_true", help="write no PNGs (faster)")
    p.add_argument("--scalesim", action="store_true",
                   help="print per-GEMM compute cycles in SCALE-Sim's convention and exit")
    p.add_argument("-o", "--output", default="build/project", help="report directory")
    p.set_defaults(func=cmd_project)


def _add_experiment(sub) -> None:
    """The ``experiment`` command's arguments."""
    p = sub.add_parser("experiment", help="the paper's experiments on the golden arithmetic")
    p.add_argument("name", choices=(*EXPERIMENTS, "all"),
                   help="accumulation (swamping, chunk size), gradients (weight-gradient "
                   "fidelity, chunk 1 vs 64), update (RNE vs SR), train (networks trained with "
                   "FP8 GEMMs), or all")
    p.add_argument("--quick", action="store_true", help="the small setting the tests run")
    p.add_argument("--seeds", type=_int(1, 100), default=3,
                   help="train: seeds per recipe (default 3)")
    p.add_argument("--jobs", type=_int(1, 256), default=2,
                   help="train: worker processes (default 2; never more than there are runs)")
    p.add_argument("-o", "--output", default="build/experiments", help="report directory")
    p.set_defaults(func=cmd_experiment)


def _add_bench(sub) -> None:
    """The ``bench`` command's arguments."""
    p = sub.add_parser("bench", help="golden-model speed benchmarks")
    p.add_argument("--repeats", type=_int(1, 1000), default=5,
                   help="runs per figure (median reported)")
    p.add_argument("--no-rtl", action="store_true", help="skip the simulator figures")
    p.set_defaults(func=cmd_bench)


def _add_sweep(sub) -> None:
    """The ``sweep`` command's arguments: each axis a comma-separated list."""
    p = sub.add_parser("sweep", help="design-space sweep on Dask: formats x chunk x SR bits x "
                       "array x clock, with Pareto plots")
    p.add_argument("--in", dest="in_fmt", default=None, metavar="FORMATS",
                   help="operand formats, e.g. e5m2,e4m3fn (default e5m2)")
    p.add_argument("--acc", dest="acc_fmt", default=None, metavar="FORMATS",
                   help="accumulator formats, e.g. e6m9,fp16,bf16,fp32 (default e6m9)")
    p.add_argument("--chunk", default=None, metavar="LIST",
                   help="chunk lengths, 'none' for no chunking (default 64)")
    p.add_argument("--rbits", default=None, metavar="LIST",
                   help="SR random bits of the update lane, 0 for RNE (default 12)")
    p.add_argument("--side", default=None, metavar="LIST", help="MacArray sides (default 4)")
    p.add_argument("--clock", default=None, metavar="LIST",
                   help="clock periods in ns, or 'best' for the PE's best clock (default best)")
    p.add_argument("--pipelined", default=None, metavar="LIST",
                   help="no, yes or both (no,yes): product registered, two dot products "
                   "interleaved (default no)")
    p.add_argument("--config", default=None, metavar="TOML",
                   help="axes from a TOML file ([axes] in_fmt = [...], ...); options override")
    p.add_argument("--baseline", default="fp16,fp32", metavar="IN,ACC",
                   help="baseline formats, no chunking and RNE updates (default fp16,fp32)")
    p.add_argument("--net", default="resnet50",
                   help="networks to project each point on, comma separated (default resnet50)")
    _liberty_options(p)
    p.add_argument("--timing", choices=TIMING_TOOLS, default="auto",
                   help="timing tool (default auto: OpenSTA when installed, else ABC)")
    p.add_argument("--no-energy", action="store_true",
                   help="skip the gate-level energy simulations (PE and AXPY lane)")
    p.add_argument("--array-energy", action="store_true",
                   help="also simulate each whole array at gate level for its energy per MAC "
                   "(minutes per point at 8x8)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="tcp://HOST:PORT of a Dask scheduler, or 'local' to run in this "
                   "process (default: a Dask LocalCluster, one worker per core)")
    p.add_argument("--workers", type=_int(1, 1024), default=None,
                   help="LocalCluster workers (default: one per core)")
    p.add_argument("--no-plots", action="store_true", help="write no Pareto plot")
    p.add_argument("--cache", default="build/synth/cache", metavar="DIR",
                   help="synthesis and point cache (default build/synth/cache)")
    p.add_argument("-o", "--output", default="build/sweep", help="report directory")
    p.set_defaults(func=cmd_sweep)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="fp8forge", description=DESCRIPTION, epilog=EXIT_STATUS)
    parser.add_argument("--version", action="version", version=f"fp8forge {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    _add_formats(sub)
    _add_quantize(sub)
    unit_options = _unit_options()
    _add_generate(sub, unit_options)
    _add_synth(sub, unit_options)
    _add_fpga(sub)
    _add_demo(sub)
    _add_project(sub)
    _add_experiment(sub)
    _add_bench(sub)
    _add_sweep(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except Fp8forgeError as exc:
        print(f"fp8forge: error: {exc}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        print("fp8forge: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. fp8forge ... | head: the reader has gone, nothing to say
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # no second error when Python flushes stdout
        return 1
    except OSError as exc:  # a full disk, a folder removed under us: the system's words
        where = f" {exc.filename}" if exc.filename else ""
        print(f"fp8forge: error: could not write or read{where}: {exc.strerror or exc}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
