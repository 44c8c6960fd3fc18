"""``fp8forge synth``: one unit through Yosys (area, GE, timing, energy), or the FP8-vs-baseline
comparison."""

from __future__ import annotations

import argparse
from pathlib import Path

from .cli_options import (
    UNIT_NAMES,
    UsageError,
    add_liberty_option,
    bad_input,
    liberty_path,
    output_dir,
    positive_type,
    unit_options,
)
from .synth import TIMING_TOOLS


def run(args: argparse.Namespace) -> None:
    from fp8forge.hdl.generate import build_unit, describe, generate_verilog

    from .generate import options_from
    from .synth import synthesize, write_unit_report

    if args.only is not None and not args.compare:
        raise UsageError("--only selects rows of --compare")
    liberty = liberty_path(args.liberty)
    if args.compare:
        from .compare import compare_markdown, run_compare

        out = output_dir(args.output or "build/synth/compare")
        cache = output_dir(args.cache)
        rows = run_compare(liberty, out, cache_dir=cache, clock_ns=args.clock_ns,
                           timing=args.timing, ge_cell=args.ge_cell,
                           array_energy_sides=args.array_energy_sides, only=args.only)
        print(compare_markdown(rows))
        print(f"written: {out / 'compare.md'}, {out / 'compare.json'}, {out / 'compare.png'}")
        return
    if args.unit is None:
        raise UsageError("synth needs a UNIT (or --compare)")
    if args.activity and args.activity != "auto" and not Path(args.activity).is_file():
        raise UsageError(f"activity file not found: {args.activity}")
    with bad_input():
        unit = build_unit(args.unit, options_from(args))
    out = output_dir(args.output or f"build/synth/{args.unit}")
    cache = output_dir(args.cache)
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


#: The sides of ``synth --compare``'s arrays (``compare.ARRAYS``; a test keeps them equal) and
#: those simulated for energy by default (``compare.ARRAY_ENERGY_SIDES``): constants here, so
#: that building the parser does not import the comparison (and Amaranth).
ARRAY_SIDES = (4, 8, 16)
ARRAY_ENERGY_SIDES = (4, 8)


def array_sides(text: str) -> tuple[int, ...]:
    """An argparse type: comma-separated sides of the compared arrays, or 'none'."""
    if text.strip().lower() == "none":
        return ()
    try:
        sides = tuple(sorted({int(s) for s in text.split(",")}))
    except ValueError:
        sides = ()
    if not sides or not set(sides) <= set(ARRAY_SIDES):
        raise argparse.ArgumentTypeError(
            f"must be sides from {', '.join(map(str, ARRAY_SIDES))} or 'none', not {text!r}")
    return sides


def register(sub) -> None:
    """The ``synth`` command's arguments."""
    p = sub.add_parser("synth", parents=[unit_options()],
                       help="synthesize one unit with Yosys: cells, transistors, area, GE")
    p.add_argument("unit", nargs="?", default=None,
                   help=f"one of {', '.join(UNIT_NAMES)} (not with --compare)")
    add_liberty_option(p)
    p.add_argument("--ge-cell", default=None, metavar="CELL",
                   help="cell whose area is one gate equivalent (default: the smallest cell "
                   "whose function is a 2-input NAND)")
    p.add_argument("--timing", choices=TIMING_TOOLS, default="auto",
                   help="timing from OpenSTA, or ABC's stime through a native Yosys (pyosys); "
                   "auto: OpenSTA when installed, else ABC (default auto)")
    p.add_argument("--array-energy-sides", type=array_sides, default=ARRAY_ENERGY_SIDES,
                   metavar="LIST",
                   help="--compare: array sides whose whole-array energy is simulated, from "
                   f"{', '.join(map(str, ARRAY_SIDES))} (default "
                   f"{','.join(map(str, ARRAY_ENERGY_SIDES))}; an 8x8 baseline array takes "
                   "about 20 minutes, a 16x16 one about an hour), or 'none'")
    p.add_argument("--compare", action="store_true",
                   help="FP8 vs baseline table and chart (PEs, AXPY lanes, LFSR sharing)")
    p.add_argument("--only", default=None, metavar="TEXT",
                   help="--compare: measure only the rows whose label contains TEXT (e.g. "
                   "'MacArray 16x16 e5m2') and merge them into the compare.json already in the "
                   "output directory (measured at the same clock)")
    p.add_argument("--clock-ns", type=positive_type, default=None,
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
    p.set_defaults(func=run)
