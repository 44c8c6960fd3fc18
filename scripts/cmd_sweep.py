"""``fp8forge sweep``: a design-space sweep on Dask, with Pareto plots."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .cli_options import (
    UsageError,
    add_liberty_option,
    int_type,
    interrupt_on_sigterm,
    liberty_path,
    output_dir,
    positive_type,
)
from .sweep import CONNECT_TIMEOUT_S
from .synth import TIMING_TOOLS


def run(args: argparse.Namespace) -> None:
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
    out = output_dir(args.output)
    cache = output_dir(args.cache)
    from fp8forge.pdk import DEFAULT_LIBERTY

    liberty = liberty_path(args.liberty).resolve()
    # The shipped library: each worker reads its own copy (a cluster's paths differ).
    settings = Settings(liberty="" if liberty == DEFAULT_LIBERTY else str(liberty),
                        energy=not args.no_energy, timing=args.timing,
                        array_energy=args.array_energy and not args.no_energy)
    interrupt_on_sigterm()
    interrupted = None
    try:
        rows = run_sweep(points, settings, cache, scheduler=args.scheduler,
                         workers=args.workers, connect_timeout=args.connect_timeout)
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


def register(sub) -> None:
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
    add_liberty_option(p)
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
    p.add_argument("--workers", type=int_type(1, 1024), default=None,
                   help="LocalCluster workers (default: one per core)")
    p.add_argument("--connect-timeout", type=positive_type, default=CONNECT_TIMEOUT_S,
                   metavar="SECONDS", help="how long to wait for the --scheduler at an address "
                   f"to answer (default {CONNECT_TIMEOUT_S:g})")
    p.add_argument("--no-plots", action="store_true", help="write no Pareto plot")
    p.add_argument("--cache", default="build/synth/cache", metavar="DIR",
                   help="synthesis and point cache (default build/synth/cache)")
    p.add_argument("-o", "--output", default="build/sweep", help="report directory")
    p.set_defaults(func=run)
