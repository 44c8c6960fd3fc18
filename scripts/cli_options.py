"""Shared pieces of the ``fp8forge`` command line: the usage and tool-failure errors, argument
types that check a value before any work starts, output-path checks, the one-line-error parser,
the liberty option and the unit options of ``generate`` and ``synth``."""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

from fp8forge.errors import InputError, ToolError
from fp8forge.golden import Rounding, parse_format
from fp8forge.golden.design import DEFAULT_RBITS, PAPER
from fp8forge.golden.formats import FloatFormat

#: ``hdl.generate.UNITS``' names, for the help text: reading them there would import Amaranth
#: (half a second) into every command (a test keeps the two equal).
UNIT_NAMES = ("fpmul", "fpadd", "fpfma", "quantizer", "chunkaccumulator", "macpe", "lfsr",
              "macarray", "axpyunit")

class UsageError(InputError):
    """A problem with the user's input; reported in one line with exit status 2."""

class ToolFailure(ToolError):
    """A tool is missing or failed on a valid input; reported in one line with exit status 1."""

@contextlib.contextmanager
def bad_input() -> Iterator[None]:
    """Library TypeError/ValueError inside: the user's input was wrong (exit status 2)."""
    try:
        yield
    except (TypeError, ValueError) as exc:
        raise UsageError(str(exc)) from None

def output_dir(path: str | Path) -> Path:
    """``path`` checked as an output folder before any work starts: not a file, and inside a
    writable folder. Nothing is created here (a run that fails early leaves no folder)."""
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"output {folder} is a file, not a folder")
    ancestor = folder
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise UsageError(f"output {folder}: {ancestor} is a file, not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK) or not _can_create_in(ancestor):
        raise UsageError(f"output {folder}: {ancestor} is not writable")
    return folder

def _can_create_in(folder: Path) -> bool:
    """A file can really be created in ``folder`` (``os.access`` says yes to root even on
    ``/proc``); the probe file is removed at once."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False

def output_file(path: str | Path) -> Path:
    """``path`` as a file that can be written (its folder created if missing)."""
    file = Path(path)
    if file.is_dir():
        raise UsageError(f"output {file} is a folder, not a file")
    output_dir(file.parent)
    return file

class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (exit status 2)."""

    def error(self, message: str) -> NoReturn:  # one line instead of usage + message
        self.exit(2, f"{self.prog}: error: {message}\n")

def format_type(text: str) -> FloatFormat:
    try:
        return parse_format(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None

def rounding_type(text: str) -> Rounding:
    try:
        return Rounding[text.upper()]
    except KeyError:
        names = ", ".join(r.name.lower() for r in Rounding)
        raise argparse.ArgumentTypeError(f"unknown rounding {text!r}: use {names}") from None

def int_type(lo: int, hi: int):
    """An argparse type: an integer in ``lo..hi``, checked before any work starts."""
    def parse(text: str) -> int:
        try:
            value = int(text, 0)
        except ValueError:
            value = None
        if value is None or not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"must be an integer in {lo}..{hi}, not {text!r}")
        return value
    return parse

def positive_type(text: str) -> float:
    """An argparse type: a finite number > 0 (an infinite clock would hang OpenSTA)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, not {text!r}")
    return value

#: Upper bounds of size-like options: large enough for any real use, small enough that a typo
#: fails at once instead of allocating gigabytes.
MAX_SEED = 2**63 - 1

MAX_CHUNK = 2**20

def chunk_type(text: str) -> int | None:
    if text.lower() == "none":
        return None
    try:
        return int_type(1, MAX_CHUNK)(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"chunk must be an integer in 1..{MAX_CHUNK} or 'none', not {text!r}"
        ) from None

def liberty_path(option: str | None) -> Path:
    """The liberty a run uses (``--liberty``, ``$FP8FORGE_LIBERTY`` or the shipped one)."""
    from fp8forge.pdk import resolve_liberty

    try:
        return resolve_liberty(option)
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from None

def add_liberty_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--liberty", default=None, metavar="FILE",
                   help="liberty file (.lib or .lib.gz; default $FP8FORGE_LIBERTY, else the "
                   "SKY130 HD typical-corner library shipped with fp8forge)")

def unit_options() -> argparse.ArgumentParser:
    """Options shared by ``generate`` and ``synth``: the unit's formats and parameters."""
    unit_options = Parser(add_help=False)
    unit_options.add_argument("--in", dest="in_fmt", type=format_type, default=PAPER.in_fmt,
                              help=f"operand format (default {PAPER.in_fmt.name})")
    unit_options.add_argument("--acc", dest="acc_fmt", type=format_type, default=PAPER.acc_fmt,
                              help="accumulator / arithmetic format "
                                   f"(default {PAPER.acc_fmt.name})")
    unit_options.add_argument("--out", dest="out_fmt", type=format_type, default=PAPER.in_fmt,
                              help=f"quantizer output format (default {PAPER.in_fmt.name})")
    unit_options.add_argument("--chunk", type=chunk_type, default=PAPER.chunk,
                              help=f"chunk length or 'none' (default {PAPER.chunk})")
    unit_options.add_argument("--rbits", type=int_type(1, 32), default=DEFAULT_RBITS,
                              help=f"SR random bits (default {DEFAULT_RBITS})")
    unit_options.add_argument("--lanes", type=int_type(1, 1024), default=1,
                              help="AXPY lanes (default 1)")
    unit_options.add_argument("--stages", type=int_type(0, 8), default=0,
                              help="pipeline stages (default 0)")
    unit_options.add_argument("--interleave", type=int_type(1, 2), default=1,
                              help="macpe / chunkaccumulator / macarray: independent dot "
                                   "products per accumulation loop, 2 cuts every loop once "
                                   "(default 1)")
    unit_options.add_argument("--rounding", type=rounding_type, default=None, help="rne, rtz or sr")
    unit_options.add_argument("--saturate", action="store_true", help="overflow to max finite")
    unit_options.add_argument("--seed", type=int_type(1, MAX_SEED), default=1,
                              help="LFSR seed (default 1)")
    unit_options.add_argument("--width", type=int_type(2, 1024), default=32,
                              help="LFSR width (lfsr unit, default 32)")
    unit_options.add_argument("--rows", type=int_type(1, 64), default=4,
                              help="MacArray rows (default 4)")
    unit_options.add_argument("--cols", type=int_type(1, 64), default=4,
                              help="MacArray columns (default 4)")
    unit_options.add_argument("--quantize-out", action="store_true",
                              help="MacArray: quantize results to --out")
    return unit_options

def interrupt_on_sigterm() -> None:
    """Long runs stop the same way on Ctrl-C, on SIGTERM (a batch system's or ``kill``'s) and
    when started in the background (where the shell ignores SIGINT): as KeyboardInterrupt,
    which saves what is done and exits 130."""
    import signal

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)
