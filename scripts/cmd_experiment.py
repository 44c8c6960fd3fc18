"""``fp8forge experiment``: the paper's experiments on the golden arithmetic."""

from __future__ import annotations

import argparse
import sys

from .cli_options import int_type, output_dir

EXPERIMENTS = ("accumulation", "gradients", "update", "train")


def run(args: argparse.Namespace) -> None:
    import importlib

    names = EXPERIMENTS if args.name == "all" else (args.name,)
    out = output_dir(args.output)
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


def register(sub) -> None:
    """The ``experiment`` command's arguments."""
    p = sub.add_parser("experiment", help="the paper's experiments on the golden arithmetic")
    p.add_argument("name", choices=(*EXPERIMENTS, "all"),
                   help="accumulation (swamping, chunk size), gradients (weight-gradient "
                   "fidelity, chunk 1 vs 64), update (RNE vs SR), train (networks trained with "
                   "FP8 GEMMs), or all")
    p.add_argument("--quick", action="store_true", help="the small setting the tests run")
    p.add_argument("--seeds", type=int_type(1, 100), default=3,
                   help="train: seeds per recipe (default 3)")
    p.add_argument("--jobs", type=int_type(1, 256), default=2,
                   help="train: worker processes (default 2; never more than there are runs)")
    p.add_argument("-o", "--output", default="build/experiments", help="report directory")
    p.set_defaults(func=run)
