"""``fp8forge`` command-line tool: parses arguments, calls library code, prints.

Each command is one module (``cmd_<name>.py``: ``register`` adds its arguments, ``run`` does
the work); shared argument types and checks are ``cli_options``. Every error ends in a one-line
``fp8forge: error: ...`` message, never a traceback. Exit status (``EXIT_STATUS``): 0 done; 1 a
tool is missing or a tool run failed, or the file system failed a read or write (a full disk);
2 bad input (an unknown format, an impossible or out-of-range option, an unusable file or
output path); 130 interrupted. Output paths are checked before any work starts, and reports
are written whole or not at all.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from fp8forge import __version__
from fp8forge.errors import Fp8forgeError

from . import (
    cmd_bench,
    cmd_demo,
    cmd_experiment,
    cmd_formats,
    cmd_fpga,
    cmd_generate,
    cmd_project,
    cmd_quantize,
    cmd_sweep,
    cmd_synth,
)
from .cli_options import UNIT_NAMES, Parser, ToolFailure, UsageError

__all__ = ["COMMANDS", "UNIT_NAMES", "ToolFailure", "UsageError", "build_parser", "main"]

#: The commands, in the order ``fp8forge --help`` lists them.
COMMANDS = (cmd_formats, cmd_quantize, cmd_generate, cmd_synth, cmd_fpga, cmd_demo, cmd_project,
            cmd_experiment, cmd_bench, cmd_sweep)

#: The first line of ``fp8forge --help`` (a constant: docstrings are gone under ``python -OO``).
DESCRIPTION = "fp8forge command-line tool: parses arguments, calls library code, prints."
EXIT_STATUS = ("exit status: 0 done, 1 a tool missing or failed or a file system error (e.g. a "
               "full disk), 2 bad input or output path, 130 interrupted")


def build_parser() -> Parser:
    parser = Parser(prog="fp8forge", description=DESCRIPTION, epilog=EXIT_STATUS)
    parser.add_argument("--version", action="version", version=f"fp8forge {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; its errors become one line on stderr and the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except Fp8forgeError as exc:
        print(f"fp8forge: error: {exc}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        print("fp8forge: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. fp8forge ... | head: the reader has gone, nothing to say
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # no second error when Python flushes stdout
        return 1
    except OSError as exc:  # a full disk, a folder removed under us: the system's words
        where = f" {exc.filename}" if exc.filename else ""
        print(f"fp8forge: error: could not write or read{where}: {exc.strerror or exc}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
