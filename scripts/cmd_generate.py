"""``fp8forge generate``: the Verilog of one unit."""

from __future__ import annotations

import argparse

from .cli_options import UNIT_NAMES, bad_input, output_file, unit_options


def run(args: argparse.Namespace) -> None:
    from .generate import write_unit

    output = output_file(args.output)
    with bad_input():
        summary = write_unit(args.unit, output, args)
    print(summary)


def register(sub) -> None:
    """The ``generate`` command's arguments."""
    p = sub.add_parser("generate", parents=[unit_options()], help="write the Verilog of one unit")
    p.add_argument("unit", help=f"one of {', '.join(UNIT_NAMES)}")
    p.add_argument("-o", "--output", required=True, help="Verilog file to write")
    p.set_defaults(func=run)
