"""``fp8forge bench``: golden-model speed benchmarks."""

from __future__ import annotations

import argparse
import sys

from .cli_options import int_type


def run(args: argparse.Namespace) -> None:
    from .bench import run_benchmarks

    run_benchmarks(repeats=args.repeats, out=sys.stdout, rtl=not args.no_rtl)


def register(sub) -> None:
    """The ``bench`` command's arguments."""
    p = sub.add_parser("bench", help="golden-model speed benchmarks")
    p.add_argument("--repeats", type=int_type(1, 1000), default=5,
                   help="runs per figure (median reported)")
    p.add_argument("--no-rtl", action="store_true", help="skip the simulator figures")
    p.set_defaults(func=run)
