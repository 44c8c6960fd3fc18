"""``fp8forge sweep``: the grid, the per-point figures, the engines (a 2-worker Dask
LocalCluster and the in-process path give the same results), resuming after Ctrl-C, and the
outputs. The hardware points are tiny formats on a 1x1 array, so each synthesis takes
seconds; the stop-and-resume check in make test reuses the engines test's syntheses."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fp8forge.golden import PRESETS, parse_format
from fp8forge.scripts import sweep
from fp8forge.scripts.sweep import SweepError, SweepPoint
from fp8forge.scripts.sweep_report import pareto_front

#: A tiny grid: two points and the baseline, e2m1 -> e4m3 against e3m2 -> e5m4.
TINY = ["--in", "e2m1", "--acc", "e4m3", "--chunk", "none,4", "--rbits", "2", "--side", "1",
        "--clock", "20", "--baseline", "e3m2,e5m4", "--net", "resnet20"]


def _cli(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fp8forge", "sweep", *args],
                          capture_output=True, text=True, **kwargs)


# -- the grid ---------------------------------------------------------------------------------

def test_grid_is_the_product_plus_one_baseline_per_hardware_setting():
    axes = {"in_fmt": ["e5m2", "e4m3fn"], "chunk": [None, 64], "side": [2, 4]}
    points = sweep.grid(axes)
    plain = [p for p in points if not sweep.is_baseline_point(p)]
    assert len(plain) == 8
    baselines = [p for p in points if sweep.is_baseline_point(p)]
    assert {(p.side, p.clock, p.pipelined) for p in baselines} == {(2, "best", False),
                                                                   (4, "best", False)}
    assert all((p.in_fmt, p.acc_fmt, p.chunk, p.rbits) == ("fp16", "fp32", None, 0)
               for p in baselines)
    assert len(set(points)) == len(points)
    assert sweep.is_paper_point(SweepPoint())


def test_axis_parsing_and_bad_values():
    assert sweep.parse_axis("chunk", ["none", "32", " 64"]) == [None, 32, 64]
    assert sweep.parse_axis("clock", ["best", "12.5"]) == ["best", 12.5]
    assert sweep.parse_axis("pipelined", ["no", "yes", "no"]) == [False, True]
    with pytest.raises(SweepError, match="rbits: 'x' is not an integer"):
        sweep.parse_axis("rbits", ["x"])
    with pytest.raises(SweepError, match="in_fmt"):
        sweep.grid({"in_fmt": ["e9m99x"]})
    with pytest.raises(SweepError, match="unknown axis colour"):
        sweep.grid({"colour": ["red"]})
    with pytest.raises(SweepError, match="chunk must be"):
        SweepPoint(chunk=0)
    with pytest.raises(SweepError, match="clock must be"):
        SweepPoint(clock=-1.0)


def test_config_file(tmp_path):
    path = tmp_path / "sweep.toml"
    path.write_text('[axes]\nin_fmt = ["e5m2", "e4m3fn"]\nchunk = ["none", 64]\nclock = 20\n')
    assert sweep.load_config(path) == {"in_fmt": ["e5m2", "e4m3fn"], "chunk": [None, 64],
                                       "clock": [20.0]}
    path.write_text("axes = 3\n")
    with pytest.raises(SweepError, match="no \\[axes\\] table"):
        sweep.load_config(path)
    path.write_text("[axes\n")
    with pytest.raises(SweepError, match="cannot read sweep config"):
        sweep.load_config(path)


def test_point_key_covers_point_settings_and_library(tmp_path):
    lib = tmp_path / "a.lib"
    lib.write_text("library (a) {}\n")
    settings = sweep.Settings(liberty=str(lib))
    key = sweep.point_key(SweepPoint(), settings, "Yosys 0.70")
    assert key == sweep.point_key(SweepPoint(), settings, "Yosys 0.70")
    assert key != sweep.point_key(SweepPoint(chunk=32), settings, "Yosys 0.70")
    assert key != sweep.point_key(SweepPoint(), settings, "Yosys 0.71")
    assert key != sweep.point_key(SweepPoint(), sweep.Settings(liberty=str(lib), energy=False),
                                  "Yosys 0.70")
    lib.write_text("library (b) {}\n")
    assert key != sweep.point_key(SweepPoint(), settings, "Yosys 0.70")


def test_pareto_front():
    pts = [(1.0, 1.0), (2.0, 3.0), (3.0, 2.0), (0.5, 0.5), (2.0, 1.0)]
    # lower x and higher y are better: (0.5,0.5), (1,1), (2,3) are not beaten
    assert pareto_front(pts, lower_x=True, higher_y=True) == [3, 0, 1]


def test_accumulation_error_against_an_independent_sum():
    """fp32 accumulation of e5m2 products is all but exact; e5m4 without chunks swamps at
    16384 terms and chunking helps."""
    e5m2 = PRESETS["e5m2"]
    fp32, e5m4 = PRESETS["fp32"], parse_format("e5m4")
    (err_fp32,) = sweep.accumulation_error(e5m2, fp32, None, [4096], trials=4)
    assert err_fp32 < 1e-5
    plain = sweep.accumulation_error(e5m2, e5m4, None, [256, 16384], trials=8)
    chunked = sweep.accumulation_error(e5m2, e5m4, 64, [256, 16384], trials=8)
    assert plain[1] > plain[0] and plain[1] > 0.2
    assert chunked[1] < plain[1] / 2


# -- the engines, end to end ------------------------------------------------------------------

def _figures(path: Path) -> list[dict]:
    return json.loads(path.read_text())


@pytest.mark.eda
def test_local_cluster_and_in_process_give_the_same_rows(tmp_path):
    """The Dask LocalCluster and the in-process engine give the same rows; an in-process sweep
    stopped by Ctrl-C resumes, running only what is not stored (one test: the in-process runs
    reuse the cluster's syntheses; pytest-xdist's ``--dist loadgroup``, which could keep two
    tests on one worker, does not group on pytest 9.2, pytest-xdist issue 1386)."""
    sweep_cache = tmp_path / "cache"
    dask_out = tmp_path / "dask"
    # without energy here (the gate-level runs of a point are checked in-process below)
    proc = _cli(*TINY, "--workers", "2", "--no-energy", "--cache", str(sweep_cache),
                "-o", str(dask_out))
    assert proc.returncode == 0, proc.stderr
    assert "sweep: 3 points, 0 already stored, 3 to run" in proc.stdout
    assert "[3/3 done, 0 running, 0 failed]" in proc.stdout
    assert "3 of 3 points done" in proc.stdout
    assert "Pareto front: point" in proc.stdout
    assert (dask_out / "pareto.png").read_bytes()[:4] == b"\x89PNG"
    text = (dask_out / "sweep.md").read_text()
    assert "e3m2->e5m4 no chunking, RNE, 1x1, 20 ns (baseline)" in text
    rows = _figures(dask_out / "sweep.json")
    assert len(rows) == 3 and not any(r["failed"] for r in rows)
    by = {r["label"]: r for r in rows}
    base = by["e3m2->e5m4 no chunking, RNE, 1x1, 20 ns"]
    assert base["speedup_resnet20"] == 1.0  # the baseline against itself
    for r in rows:
        assert r["pe_area_um2"] > 0 and r["array_area_per_mac_um2"] > 0
        assert r["gmacs_per_mm2"] == pytest.approx(1e6 / (20.0 * r["array_area_per_mac_um2"]))
        assert r["clock_ns"] == 20.0 and r["pe_energy_pj"] is None
    # a chunked PE carries a second adder: larger than the plain one
    assert (by["e2m1->e4m3 chunk 4, SR 2, 1x1, 20 ns"]["pe_area_um2"]
            > by["e2m1->e4m3 no chunking, SR 2, 1x1, 20 ns"]["pe_area_um2"])
    csv = (dask_out / "sweep.csv").read_text().splitlines()
    assert len(csv) == 4 and csv[0].startswith("in_fmt,acc_fmt,chunk,rbits,side,clock")

    # With energy, a point also gets the PE's, the lane's and the whole array's pJ per MAC
    # (its syntheses are the cached ones: the same areas).
    point = SweepPoint(in_fmt="e2m1", acc_fmt="e4m3", chunk=4, rbits=2, side=1, clock=20.0)
    figures = sweep.evaluate(point, sweep.Settings(array_energy=True), sweep_cache)
    row = by["e2m1->e4m3 chunk 4, SR 2, 1x1, 20 ns"]
    assert figures["pe_area_um2"] == row["pe_area_um2"]
    assert 0 < figures["pe_energy_pj"] and 0 < figures["lane_energy_pj"]
    assert 0 < figures["array_energy_pj"]

    # In process, from the syntheses alone (no stored points), stopped after a point and run
    # again: every point computed in process, and the rows are the cluster's.
    local_out = _stop_then_resume(sweep_cache, tmp_path / "stopped", ["--scheduler", "local"],
                                  signal.SIGINT)
    assert _figures(local_out / "sweep.json") == rows


@pytest.mark.eda
@pytest.mark.long  # make test stops an in-process sweep (the test above)
@pytest.mark.parametrize("stop", [pytest.param(signal.SIGINT, id="ctrl-c"),
                                  pytest.param(signal.SIGTERM, id="sigterm")])
def test_dask_sweep_stopped_then_resumed(tmp_path, stop):
    """A sweep on a Dask cluster stopped mid-run (its workers' points cancelled), by Ctrl-C
    or by SIGTERM as a batch system stops a job, resumes like an in-process one."""
    cache = tmp_path / "cache"
    assert _cli(*TINY, "--no-energy", "--scheduler", "local", "--cache", str(cache),
                "-o", str(tmp_path / "first")).returncode == 0  # the syntheses
    _stop_then_resume(cache, tmp_path / "stopped", ["--workers", "1"], stop)


def _stop_then_resume(synthesized: Path, tmp_path: Path, engine: list[str], stop) -> Path:
    """Stopped after its first point, a sweep of the TINY grid exits 130 and says what
    finished; the rerun runs only the points not stored. Starts from a copy of the cache
    ``synthesized`` holding the syntheses only (not the stored points). Returns the rerun's
    output folder."""
    cache = tmp_path / "cache"
    shutil.copytree(synthesized, cache, ignore=shutil.ignore_patterns("sweep"))
    grid = [*TINY, "--no-energy", *engine, "--cache", str(cache), "-o", str(tmp_path / "out")]
    proc = subprocess.Popen([sys.executable, "-m", "fp8forge", "sweep", *grid],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    deadline = time.monotonic() + 300
    for line in proc.stdout:
        if " done: " in line:
            proc.send_signal(stop)
            break
        assert time.monotonic() < deadline
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "fp8forge: interrupted" in err
    # What finished is reported before the exit: one table row per point, not-run ones marked.
    assert "points done" in out
    assert (tmp_path / "out" / "sweep.csv").read_text().count("\n") == 4
    stored = list((cache / "sweep").glob("*.json"))
    before = {p: p.stat().st_mtime_ns for p in stored}
    rerun = _cli(*grid)
    assert rerun.returncode == 0, rerun.stderr
    # Points a worker was finishing when the sweep stopped may be stored too: the rerun
    # runs exactly those not stored.
    done = int(rerun.stdout.split(" already stored")[0].rsplit(" ", 1)[1])
    assert done >= 1, rerun.stdout
    assert f"sweep: 3 points, {done} already stored, {3 - done} to run" in rerun.stdout
    assert "3 of 3 points done" in rerun.stdout
    assert all(p.stat().st_mtime_ns == t for p, t in before.items())  # not recomputed
    return tmp_path / "out"


def test_cli_bad_input_is_one_line_exit_2(tmp_path):
    proc = _cli("--in", "e5m2", "--chunk", "sixty", "-o", str(tmp_path))
    assert proc.returncode == 2
    assert proc.stderr.strip() == "fp8forge: error: chunk: 'sixty' is not an integer"
    proc = _cli("--net", "vgg", "-o", str(tmp_path))
    assert proc.returncode == 2 and "unknown network vgg" in proc.stderr


def test_without_dask_the_error_names_the_install(monkeypatch):
    from fp8forge.tools import ToolMissing

    monkeypatch.setitem(sys.modules, "distributed", None)  # import fails as if not installed
    with pytest.raises(ToolMissing, match=r"pip install 'fp8forge\[sweep\]' \(or --scheduler "
                                          r"local\)"):
        sweep._run_on_dask([(SweepPoint(), "k")], sweep.Settings(), Path("."), None, 1, 5.0, {},
                           sweep.Progress(1, show=None))


def test_unreachable_scheduler_is_one_line(tmp_path):
    proc = _cli(*TINY, "--scheduler", "tcp://127.0.0.1:9", "--connect-timeout", "0.5",
                "--cache", str(tmp_path / "c"), "-o", str(tmp_path / "o"))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("fp8forge: error: cannot reach the Dask scheduler "
                                  "tcp://127.0.0.1:9")
    assert proc.stderr.count("\n") == 1
    proc = _cli(*TINY, "--connect-timeout", "0", "-o", str(tmp_path / "o"))
    assert proc.returncode == 2 and "--connect-timeout" in proc.stderr
