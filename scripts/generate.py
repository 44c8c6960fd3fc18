"""``fp8forge generate`` flow: build a unit, write its Verilog atomically, summarise it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from fp8forge.hdl.generate import UnitOptions, build_unit, describe, generate_verilog


def options_from(args: object) -> UnitOptions:
    """UnitOptions from an argparse namespace (or any object with the same attributes)."""
    fields = UnitOptions.__dataclass_fields__
    return UnitOptions(**{k: getattr(args, k) for k in fields if hasattr(args, k)})


def write_unit(unit_name: str, output: str | os.PathLike, args: object) -> str:
    """Write unit ``unit_name`` to ``output``; return a one-line summary.

    The module is named after the file. Nothing is written when the unit cannot be built.
    """
    path = Path(output)
    unit = build_unit(unit_name, options_from(args))
    module = path.stem.replace("-", "_").replace(".", "_")
    text = generate_verilog(unit, module)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)
    return (f"{path}: {describe(unit)}, latency {unit.latency}, "  # type: ignore[attr-defined]
            f"{sum(1 for line in text.splitlines() if line.strip())} lines")


#: The default design point of ``make demo``: the paper's FP8 datapath (e5m2 x e5m2 -> e6m9,
#: chunk 64, SR weight updates with 12 random bits) plus the FP16 baseline multiplier.
DEFAULT_UNITS: dict[str, tuple[str, dict[str, object]]] = {
    "fpmul_e5m2_e6m9": ("fpmul", {}),
    "fpadd_e6m9": ("fpadd", {}),
    "chunkaccumulator_e6m9_c64": ("chunkaccumulator", {}),
    "macpe_e5m2_e6m9_c64": ("macpe", {}),
    "quantizer_e6m9_e5m2": ("quantizer", {}),
    "lfsr32": ("lfsr", {}),
    "axpyunit_e6m9_sr": ("axpyunit", {}),
    "macarray_4x4_e5m2_e6m9_c64": ("macarray", {"quantize_out": True}),
    "fpmul_fp16_fp32": ("fpmul", {"in_fmt": "fp16", "acc_fmt": "fp32"}),
}


def write_default_units(build: str | os.PathLike) -> list[str]:
    """Write the default units to ``build/rtl/NAME.v``; return their one-line summaries."""
    from types import SimpleNamespace

    from fp8forge.golden.formats import parse_format

    lines = []
    for name, (unit, overrides) in DEFAULT_UNITS.items():
        values = {k: parse_format(str(v)) if k.endswith("_fmt") else v
                  for k, v in overrides.items()}
        lines.append(write_unit(unit, Path(build) / "rtl" / f"{name}.v", SimpleNamespace(**values)))
    return lines
