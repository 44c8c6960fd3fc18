"""``fp8forge formats``: the format presets and their limits."""

from __future__ import annotations

import argparse

from .cli_options import format_type


def run(args: argparse.Namespace) -> None:
    from .formats_table import formats_table

    print(formats_table(args.format or [], markdown=args.markdown))


def register(sub) -> None:
    """The ``formats`` command's arguments."""
    p = sub.add_parser("formats", help="print the format presets and their limits")
    p.add_argument("format", nargs="*", type=format_type, help="extra formats to list (eXmY...)")
    p.add_argument("--markdown", action="store_true", help="Markdown table")
    p.set_defaults(func=run)
