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
