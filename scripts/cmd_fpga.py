"""``fp8forge fpga``: a MAC PE (and the baseline) placed and routed on an FPGA board."""

from __future__ import annotations

import argparse
import json

from fp8forge.files import atomic_write
from fp8forge.golden import parse_format
from fp8forge.table import render
from fp8forge.tools import ToolMissing

from .cli_options import ToolFailure, UsageError, chunk_type, format_type, output_dir


def run(args: argparse.Namespace) -> None:
    from fp8forge.golden.formats import parse_format as fmt

    from .fpga import BOARDS, DoesNotFit, build_pe

    if args.board not in BOARDS:
        raise UsageError(f"unknown board {args.board!r}: use one of {', '.join(BOARDS)}")
    out = output_dir(args.output or f"build/fpga/{args.board}")
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


def register(sub) -> None:
    """The ``fpga`` command's arguments."""
    p = sub.add_parser("fpga", help="place and route a MAC PE (and the baseline) on an FPGA board")
    p.add_argument("--board", required=True, help="icebreaker (iCE40UP5K) or ulx3s (ECP5-85F)")
    p.add_argument("--in", dest="in_fmt", type=format_type, default=parse_format("e5m2"),
                   help="operand format (default e5m2)")
    p.add_argument("--acc", dest="acc_fmt", type=format_type, default=parse_format("e6m9"),
                   help="accumulator format (default e6m9)")
    p.add_argument("--chunk", type=chunk_type, default=64,
                   help="chunk length or 'none' (default 64)")
    p.add_argument("--no-baseline", action="store_true", help="skip the fp16 -> fp32 PE")
    p.add_argument("-o", "--output", default=None,
                   help="build directory (default build/fpga/BOARD)")
    p.set_defaults(func=run)
