"""The format table printed by ``fp8forge formats`` and ``make demo``."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

from fp8forge.golden.formats import PRESET_ROLES, PRESETS, FloatFormat
from fp8forge.table import render

HEADERS = ["name", "(s,e,m)", "width", "bias", "specials", "subnormals", "max finite",
           "min normal", "min subnormal", "eps", "role"]


def show(value: Fraction) -> str:
    """Small exact integers as integers, everything else with 6 significant digits."""
    if value.denominator == 1 and value < 10**7:
        return str(value.numerator)
    return f"{float(value):.6g}"


def format_row(name: str, fmt: FloatFormat) -> list[str]:
    return [
        name,
        f"1,{fmt.exp_bits},{fmt.man_bits}",
        str(fmt.width),
        str(fmt.bias),
        fmt.specials.value,
        "yes" if fmt.subnormals else "no (FTZ)",
        show(fmt.max_finite),
        show(fmt.min_normal),
        show(fmt.min_subnormal),
        show(fmt.eps),
        PRESET_ROLES.get(name, ""),
    ]


def formats_table(extra: Sequence[FloatFormat] = (), *, markdown: bool = False) -> str:
    rows = [format_row(n, f) for n, f in PRESETS.items()]
    rows += [format_row(f.name, f) for f in extra if f not in PRESETS.values()]
    return render(HEADERS, rows, markdown=markdown)
