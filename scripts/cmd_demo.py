"""``fp8forge demo``: the whole flow on the default design point."""

from __future__ import annotations

import argparse

from .cli_options import add_liberty_option, int_type, liberty_path, output_dir


def run(args: argparse.Namespace) -> None:
    from .demo import run_demo

    liberty = liberty_path(args.liberty)
    build = output_dir(args.build)
    run_demo(build, length=args.length, rtl=not args.no_rtl, synth=not args.no_synth,
             liberty=liberty)


def register(sub) -> None:
    """The ``demo`` command's arguments."""
    p = sub.add_parser("demo", help="the whole flow on the default design point -> "
                       "BUILD/report.md")
    p.add_argument("--length", type=int_type(1, 2**24), default=4096,
                   help="dot-product length (default 4096)")
    p.add_argument("--build", default="build", help="output directory (default build)")
    p.add_argument("--no-rtl", action="store_true", help="skip the Verilator MacArray run")
    p.add_argument("--no-synth", action="store_true", help="skip the synthesis comparison")
    add_liberty_option(p)
    p.set_defaults(func=run)
