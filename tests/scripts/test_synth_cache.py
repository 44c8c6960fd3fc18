"""The synthesis cache under interruption and concurrency: runs killed at any moment leave no
entry a later run would trust, and concurrent runs of one design into one cache all succeed
with the same report."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.eda  # runs Yosys


def _interruptible() -> None:
    """In the child: SIGINT as at a terminal. A suite started in the background by a shell
    without job control inherits SIGINT ignored, and Python then leaves it ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _synth(cache: Path, out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "fp8forge", "synth", "fpmul", "--cache",
                             str(cache), "-o", str(out), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_interruptible)


def _report(out: Path) -> dict:
    data = json.loads((out / "report.json").read_text())
    data.pop("cached")
    return data


@pytest.fixture(scope="session")
def reference(tmp_path_factory) -> dict:
    """The report of one undisturbed run in a cache of its own."""
    tmp = tmp_path_factory.mktemp("reference")
    proc = _synth(tmp / "cache", tmp / "out")
    assert proc.wait() == 0, proc.stderr.read()
    return _report(tmp / "out")


def _entries(cache: Path) -> tuple[list[Path], list[Path]]:
    """(published entries, leftover private work folders)."""
    items = list(cache.iterdir()) if cache.exists() else []
    return ([p for p in items if not p.name.startswith(".")],
            [p for p in items if p.name.startswith(".")])


# two runs are a subset of four (make test-long runs both)
@pytest.mark.parametrize("runs", [pytest.param(2, marks=pytest.mark.long), 4])
def test_concurrent_runs_share_one_cache(tmp_path, reference, runs):
    procs = [_synth(tmp_path / "cache", tmp_path / f"out{i}") for i in range(runs)]
    for proc in procs:
        assert proc.wait(timeout=600) == 0, proc.stderr.read()
    for i in range(runs):
        assert _report(tmp_path / f"out{i}") == reference
    published, leftovers = _entries(tmp_path / "cache")
    assert len(published) == 1 and leftovers == []


# each signal and each moment once in make test, every pair in make test-long
@pytest.mark.parametrize("sig, moment", [(signal.SIGKILL, "cells.lib"),
                                         pytest.param(signal.SIGKILL, "flow.ys",
                                                      marks=pytest.mark.long),
                                         pytest.param(signal.SIGINT, "cells.lib",
                                                      marks=pytest.mark.long),
                                         (signal.SIGINT, "flow.ys")])
def test_interrupted_run_then_rerun(tmp_path, reference, sig, moment):
    """Kill the run once its private work folder has the named file (the liberty being
    decompressed, or Yosys running); the rerun must give the undisturbed report."""
    cache = tmp_path / "cache"
    proc = _synth(cache, tmp_path / "killed")
    deadline = time.monotonic() + 300
    while not any(cache.glob(f".*/{moment}")):
        assert proc.poll() is None, "finished before it could be interrupted"
        assert time.monotonic() < deadline
        time.sleep(0.005)
    os.kill(proc.pid, sig)
    code = proc.wait(timeout=60)
    if sig == signal.SIGINT:
        err = proc.stderr.read()
        assert code == 130 and err.strip().endswith("fp8forge: interrupted"), (code, err)
        assert _entries(cache) == ([], [])  # cleaned up on the way out
    published, _ = _entries(cache)
    assert published == []  # nothing half-made was published
    rerun = _synth(cache, tmp_path / "rerun")
    assert rerun.wait(timeout=600) == 0, rerun.stderr.read()
    assert _report(tmp_path / "rerun") == reference
