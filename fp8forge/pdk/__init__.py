"""The standard-cell library that ships with fp8forge, and how a run picks its library.

``sky130_fd_sc_hd__tt_025C_1v80.lib.gz`` is the SkyWater SKY130 high-density library at the
typical corner (25 °C, 1.80 V), unmodified, under the Apache-2.0 licence in ``LICENSE`` beside
it; ``README.md`` here gives its provenance. It is package data, so a wheel carries it and every
report (area, timing, energy, the projection) works on a fresh install.

A run uses, in this order: the library given on the command line (``--liberty``), the
``FP8FORGE_LIBERTY`` environment variable, or the shipped library.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["DEFAULT_LIBERTY", "ENV_VAR", "resolve_liberty"]

#: The shipped library (a ``.gz``: Yosys and OpenSTA callers decompress or read it as needed).
DEFAULT_LIBERTY = Path(__file__).resolve().parent / "sky130_fd_sc_hd__tt_025C_1v80.lib.gz"

#: Environment variable naming another liberty file.
ENV_VAR = "FP8FORGE_LIBERTY"


def resolve_liberty(option: str | os.PathLike | None = None) -> Path:
    """The liberty file a run uses: ``option``, else ``$FP8FORGE_LIBERTY``, else the shipped one.

    Raises ``FileNotFoundError`` naming the path and where it came from when it is not a file.
    """
    if option:
        path, origin = Path(option), "--liberty"
    elif os.environ.get(ENV_VAR):
        path, origin = Path(os.environ[ENV_VAR]), ENV_VAR
    else:
        path, origin = DEFAULT_LIBERTY, "the library shipped with fp8forge"
    if not path.is_file():
        raise FileNotFoundError(f"liberty file not found: {path} (from {origin})")
    return path
