"""``fp8forge experiment``: the paper's experiments on the golden arithmetic."""

from __future__ import annotations

import argparse
import sys

from .cli_options import int_type, output_dir

EXPERIMENTS = ("accumulation", "gradients", "update", "train", "chunking", "lrsweep")
#: The experiments that train networks: seeds and worker processes apply to them.
TRAINING = ("train", "chunking", "lrsweep")


def run(args: argparse.Namespace) -> None:
    import importlib

    from fp8forge.experiments.claims import write_report
    from fp8forge.golden.workers import reuse_freed_memory

    reuse_freed_memory()  # the experiments run here too (every one with --jobs 1)
    names = EXPERIMENTS if args.name == "all" else () if args.name == "report" else (args.name,)
    out = output_dir(args.output)
    mode = "--quick " if args.quick else ""
    for name in names:
        module = importlib.import_module(f"fp8forge.experiments.{name}")
        command = f"fp8forge experiment {name} {mode}-o {out}".replace("  ", " ")
        print(f"== experiment {name}{' (quick)' if args.quick else ''} ==", flush=True)
        if name in TRAINING:
            seeds = {} if args.seeds is None else {"seeds": args.seeds}  # else its own default
            module.run(args.quick, out, jobs=args.jobs, command=command, **seeds)
        else:
            module.run(args.quick, out, command=command,
                       progress=lambda line: print(line, file=sys.stderr, flush=True))
        print((out / f"{name}.md").read_text())
        print(f"written: {out / (name + '.md')}, {out / (name + '.json')} and PNGs")
    if args.name in ("all", "report"):
        print(write_report(out))
        print(f"written: {out / 'report.md'}")


def register(sub) -> None:
    """The ``experiment`` command's arguments."""
    p = sub.add_parser("experiment", help="the paper's experiments on the golden arithmetic")
    p.add_argument("name", choices=(*EXPERIMENTS, "all", "report"),
                   help="accumulation (swamping, chunk size), gradients (weight-gradient "
                   "fidelity, chunk 1 vs 64), update (RNE vs SR), train (networks trained with "
                   "FP8 GEMMs), chunking (chunk 1 vs 64 in a dense regression), lrsweep (SR "
                   "vs RNE updates in training across learning rates), all (then the "
                   "claim-by-claim report.md), or report (report.md from the results in -o)")
    p.add_argument("--quick", action="store_true", help="the small setting the tests run")
    p.add_argument("--seeds", type=int_type(1, 100), default=None,
                   help="train, chunking, lrsweep: seeds per recipe (default 3; 6 for "
                   "chunking, whose seeds end up to 10x apart)")
    p.add_argument("--jobs", type=int_type(1, 256), default=2,
                   help="train, chunking, lrsweep: worker processes (default 2; never more "
                   "than there are runs)")
    p.add_argument("-o", "--output", default="build/experiments", help="report directory")
    p.set_defaults(func=run)
