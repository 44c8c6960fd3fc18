"""``fp8forge quantize``: round numbers (or another format's bit patterns) into a format."""

from __future__ import annotations

import argparse

import numpy as np

from fp8forge.golden import Rounding, decode, parse_format, quantize
from fp8forge.golden.design import DEFAULT_RBITS
from fp8forge.golden.formats import FloatFormat
from fp8forge.table import render

from .cli_options import MAX_SEED, UsageError, bad_input, format_type, int_type, rounding_type


def _fields(bits: int, fmt: FloatFormat) -> str:
    text = format(bits, f"0{fmt.width}b")
    return f"{text[0]} {text[1 : 1 + fmt.exp_bits]} {text[1 + fmt.exp_bits :]}".rstrip()


def run(args: argparse.Namespace) -> None:
    fmt: FloatFormat = args.to
    try:
        if args.src is None:
            inputs = np.array([float(v) for v in args.values], dtype=np.float64)
        else:
            inputs = np.array([int(v, 0) for v in args.values], dtype=np.uint64)
    except ValueError as exc:
        raise UsageError(f"cannot read value: {exc}") from None
    kwargs: dict[str, object] = {"saturate": args.saturate}
    if args.rounding is Rounding.SR:
        rng = np.random.default_rng(args.seed)
        kwargs.update(rand=rng.integers(0, 1 << args.rbits, len(inputs)), rbits=args.rbits)
    with bad_input():
        out = quantize(inputs, fmt, args.rounding, src_fmt=args.src, **kwargs)
    if args.src is None:
        shown = [repr(float(v)) for v in inputs]
    else:
        shown = [
            f"{int(b):#x} ({float(v)!r})"
            for b, v in zip(inputs, decode(inputs, args.src), strict=True)
        ]
    values = decode(out, fmt)
    rows = [
        [s, f"{int(b):#0{(fmt.width + 3) // 4 + 2}x}", _fields(int(b), fmt), repr(float(v))]
        for s, b, v in zip(shown, out, values, strict=True)
    ]
    title = f"quantize to {fmt.name}, {args.rounding.name}"
    if args.rounding is Rounding.SR:
        title += f" (rbits={args.rbits}, seed={args.seed})"
    print(title + (", saturating" if args.saturate else ""))
    print(render(["input", "bits", "s exp man", "value"], rows))


def register(sub) -> None:
    """The ``quantize`` command's arguments."""
    p = sub.add_parser("quantize", help="round numbers (or another format's bits) into a format")
    p.add_argument("values", nargs="+", help="decimal numbers, or bit patterns with --from")
    p.add_argument(
        "--to", type=format_type, default=parse_format("e5m2"), help="output format (default e5m2)"
    )
    p.add_argument(
        "--from",
        dest="src",
        type=format_type,
        default=None,
        help="read VALUES as bit patterns (e.g. 0x3c00) of this format",
    )
    p.add_argument("--rounding", type=rounding_type, default=Rounding.RNE, help="rne, rtz or sr")
    p.add_argument("--saturate", action="store_true", help="overflow to max finite")
    p.add_argument("--rbits", type=int_type(1, 32), default=DEFAULT_RBITS,
                   help=f"SR random bits (default {DEFAULT_RBITS})")
    p.add_argument("--seed", type=int_type(0, MAX_SEED), default=0,
                   help="SR random seed (default 0)")
    p.set_defaults(func=run)
