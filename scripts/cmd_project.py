"""``fp8forge project``: training-step throughput and energy of FP8 against the FP16 baseline."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fp8forge.table import render

from .cli_options import UsageError, chunk_type, int_type, output_dir, positive_type


def run(args: argparse.Namespace) -> None:
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
    out = output_dir(args.output)
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


def register(sub) -> None:
    """The ``project`` command's arguments."""
    p = sub.add_parser("project", help="training-step throughput of FP8 vs the FP16 baseline")
    p.add_argument("--net", default="resnet50",
                   help="network(s), comma separated: resnet20, alexnet, resnet18, resnet50 "
                   "(default resnet50)")
    p.add_argument("--batch", type=int_type(1, 2**20), default=32, help="batch size (default 32)")
    p.add_argument("--baseline-macs", type=int_type(1, 2**24), default=1024,
                   help="MAC-array area budget in baseline PEs (default 1024 = 32x32)")
    p.add_argument("--bandwidth", type=positive_type, default=64.0,
                   help="off-chip bandwidth in GB/s, both systems (default 64)")
    p.add_argument("--buffer-kib", type=int_type(1, 2**30), default=512,
                   help="on-chip buffer per GEMM operand in KiB (default 512)")
    p.add_argument("--clock-ghz", type=positive_type, default=1.0, help="clock (default 1 GHz)")
    p.add_argument("--clock", choices=("same", "synth"), default="same",
                   help="same clock for both, or FP8 scaled by the synthesized fmax ratio")
    p.add_argument("--dataflow", choices=("os", "ws", "is"), default="os",
                   help="os = the RTL's; ws/is use SCALE-Sim's formulas (default os)")
    p.add_argument("--chunk", type=chunk_type, default=64, help="FP8 chunk length (default 64)")
    p.add_argument("--lanes", type=int_type(1, 2**20), default=32, help="AXPY lanes (default 32)")
    p.add_argument("--fp8-everywhere", action="store_true",
                   help="also run the first and last layer in FP8")
    p.add_argument("--area-ratio", type=positive_type, default=None,
                   help="baseline/FP8 PE area, given instead of read from synthesis")
    p.add_argument("--synth", default="build/synth/compare/compare.json",
                   help="synthesis comparison to read (default from `synth --compare`)")
    p.add_argument("--no-sweep", action="store_true", help="skip the sensitivity sweeps")
    p.add_argument("--no-plots", action="store_true", help="write no PNGs (faster)")
    p.add_argument("--scalesim", action="store_true",
                   help="print per-GEMM compute cycles in SCALE-Sim's convention and exit")
    p.add_argument("-o", "--output", default="build/project", help="report directory")
    p.set_defaults(func=run)
