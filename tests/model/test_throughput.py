"""The throughput model: networks, hand-checkable GEMMs, SCALE-Sim's own code, the report.

(That the model reproduces every cycle count measured on the RTL is checked where they are
measured, in test_array_cocotb.py.)
"""

from __future__ import annotations

import json
from dataclasses import replace
from math import ceil

import numpy as np
import pytest

from fp8forge.golden import PRESETS as P
from fp8forge.golden.design import BASELINE, PAPER
from fp8forge.model import scalesim
from fp8forge.model.networks import NETWORKS, Gemm, Layer, network
from fp8forge.model.throughput import (
    System,
    array_shape,
    compute_cycles,
    gemm_bytes,
    gemm_cost,
    update_cost,
)
from fp8forge.scripts.cli import main
from fp8forge.scripts.project import (
    DesignError,
    DesignPoint,
    calibrate,
    project,
    run_project,
    why_markdown,
)

INF = float("inf")


def fp8_system(rows=4, cols=4, **kw) -> System:
    return System("fp8", P["e5m2"], P["e6m9"], P["e5m2"], P["e6m9"], 64, rows, cols, **kw)


# -- networks: published figures --------------------------------------------------------------

def test_resnet50_macs_and_weights():
    net = network("resnet50")
    assert round(net.macs() / 1e9, 2) == 4.09  # the figure the issue and torchvision quote
    assert round(net.step_macs() / 1e9, 2) == 12.15
    # torchvision's 25,557,032 parameters minus 53,120 batch-norm ones and the fc bias.
    assert net.weights == 25_557_032 - 53_120 - 1000
    assert len([layer for layer in net.layers if layer.kernel == 3]) == 16


def test_other_networks_published_figures():
    # AlexNet (torchvision): 61,100,840 parameters of which 10,344 are biases; 0.71 GMAC.
    assert network("alexnet").weights == 61_100_840 - 10_344
    assert round(network("alexnet").macs() / 1e9, 2) == 0.71
    assert round(network("resnet18").macs() / 1e9, 2) == 1.81  # torchvision: 1.81 GFLOPS
    r20 = network("resnet20")  # He et al. 2016: 0.27M parameters, ~41 MFLOP
    assert round(r20.weights / 1e6, 2) == 0.27 and round(r20.macs() / 1e6) == 41


def test_im2col_lowering_of_a_conv():
    conv = Layer("c", in_ch=8, out_ch=16, kernel=3, stride=2, padding=1, in_hw=10)
    assert conv.out_hw == 5
    got = [(g.pass_, g.m, g.n, g.k) for g in conv.gemms(batch=4)]
    assert got == [("fwd", 100, 16, 72), ("dgrad", 100, 72, 16), ("wgrad", 72, 16, 100)]
    assert [g.pass_ for g in conv.gemms(4, first=True)] == ["fwd", "wgrad"]
    net = network("resnet20")
    assert net.step_macs(2) == 3 * net.macs(2) - net.layers[0].macs(2)


def test_unknown_network():
    with pytest.raises(ValueError, match="unknown network 'vgg'"):
        network("vgg")


# -- hand-checkable GEMMs ---------------------------------------------------------------------

def test_gemm_that_fits_the_array_exactly():
    s = fp8_system(bandwidth_gbs=INF)
    # one tile: K beats, then the wavefront crosses rows + cols PEs, PE latency 2
    assert gemm_cost(s, Gemm(None, "fwd", 4, 4, 100)).cycles == 100 + 4 + 4 + 2 - 1


def test_gemm_with_many_tiles():
    s = fp8_system(bandwidth_gbs=INF)
    # 10 x 3 tiles of K = 50, back to back: a new tile every max(K, 4) cycles
    assert gemm_cost(s, Gemm(None, "fwd", 40, 12, 50)).cycles == 29 * 50 + 59
    # short K: tiles are spaced by max(rows, cols)
    assert gemm_cost(s, Gemm(None, "fwd", 8, 4, 2)).cycles == 1 * 4 + (2 + 4 + 4 + 2 - 1)
    # two arrays share the tiles: the busiest runs ceil(30 / 2) of them
    two = s.replace(arrays=2)
    assert compute_cycles(two, Gemm(None, "fwd", 40, 12, 50)) == 14 * 50 + 59


def test_traffic_with_and_without_reuse():
    g = Gemm(None, "fwd", 64, 64, 32)  # 16 x 16 tiles of 4 x 4
    big = fp8_system(buffer_bytes=1 << 20)
    # both operands fit: A and B read once, C written once, 1 byte each
    assert gemm_bytes(big, g)[0] == 64 * 32 + 32 * 64 + 64 * 64
    tiny = fp8_system(buffer_bytes=64)  # half a buffer holds no 4 x 32 panel (128 bytes)
    assert gemm_bytes(tiny, g)[0] == 64 * 32 * 16 + 32 * 64 * 16 + 64 * 64
    some = fp8_system(buffer_bytes=2 * 4 * 128)  # four A panels fit: B streamed 16/4 times
    assert gemm_bytes(some, g)[0] == 64 * 32 + 32 * 64 * 4 + 64 * 64
    # weight gradients leave the array in the accumulator format (2 bytes)
    assert gemm_bytes(big, Gemm(None, "wgrad", 64, 64, 32))[0] == 2 * 64 * 32 + 2 * 64 * 64


def test_memory_bound_time_halves_with_half_the_bytes():
    g = Gemm(None, "fwd", 256, 256, 256)
    slow = dict(bandwidth_gbs=0.5, buffer_bytes=64)
    fp8 = gemm_cost(fp8_system(**slow), g)
    fp16 = gemm_cost(System("fp16", P["fp16"], P["fp32"], P["fp16"], P["fp32"], None, 4, 4,
                            **slow), g)
    assert fp8.bound == fp16.bound == "memory"
    assert fp16.bytes == 2 * fp8.bytes
    assert fp16.cycles / fp8.cycles == pytest.approx(2, rel=1e-3)
    assert fp8.stall_cycles == fp8.cycles - fp8.compute_cycles > 0
    no_overlap = gemm_cost(fp8_system(double_buffer=False, **slow), g)
    assert no_overlap.cycles == fp8.compute_cycles + fp8.memory_cycles


def test_unlimited_bandwidth_is_pure_compute():
    c = gemm_cost(fp8_system(bandwidth_gbs=INF), Gemm(None, "fwd", 100, 30, 70))
    assert c.cycles == c.compute_cycles and c.bound == "compute" and c.stall_cycles == 0
    assert 0 < c.utilisation < 1


def test_weight_update_cost():
    s = fp8_system(axpy_lanes=8, bandwidth_gbs=INF)
    assert update_cost(s, 1000).cycles == ceil(3000 / 8)
    # 9 e6m9 accesses per weight (three AXPYs) + the e5m2 copy; bandwidth-bound at 1 B/cycle
    slow = update_cost(fp8_system(bandwidth_gbs=1.0), 1000)
    assert slow.bytes == 1000 * (9 * 2 + 1) and slow.cycles == 19_000 and slow.bound == "memory"


def test_array_shape_policy():
    assert array_shape(1024) == (1, 32)
    assert array_shape(2460) == (1, 49)
    assert array_shape(4096) == (1, 64)
    assert array_shape(9843) == (3, 57)
    with pytest.raises(ValueError):
        array_shape(0)


def test_bad_system_parameters():
    with pytest.raises(ValueError, match="array sides"):
        fp8_system(rows=65)
    with pytest.raises(ValueError, match="dataflow"):
        fp8_system(dataflow="rs")
    with pytest.raises(ValueError, match="bandwidth_gbs"):
        fp8_system(bandwidth_gbs=0)


# -- SCALE-Sim --------------------------------------------------------------------------------

@pytest.mark.parametrize("dataflow", scalesim.DATAFLOWS)
def test_scalesim_formula_matches_scalesim_code(dataflow, rng):
    """The formulas equal the length of SCALE-Sim's own compute demand matrices."""
    from scalesim.compute.systolic_compute_is import systolic_compute_is
    from scalesim.compute.systolic_compute_os import systolic_compute_os
    from scalesim.compute.systolic_compute_ws import systolic_compute_ws
    from scalesim.scale_config import scale_config

    cls = {"os": systolic_compute_os, "ws": systolic_compute_ws, "is": systolic_compute_is}
    shapes = [(4, 4, 1, 4, 4), (8, 4, 40, 4, 4), (5, 3, 9, 4, 4), (64, 64, 64, 8, 8)]
    shapes += [tuple(int(x) for x in rng.integers(1, 40, 3)) + tuple(int(x) for x in
               rng.integers(2, 9, 2)) for _ in range(8)]
    for m, n, k, rows, cols in shapes:
        cfg = scale_config()
        cfg.array_rows, cfg.array_cols, cfg.valid_conf_flag = rows, cols, True
        sim = cls[dataflow]()
        sim.set_params(config_obj=cfg, ifmap_op_mat=np.arange(m * k).reshape(m, k),
                       filter_op_mat=np.arange(k * n).reshape(k, n) + 10**6,
                       ofmap_op_mat=np.arange(m * n).reshape(m, n) + 2 * 10**6)
        sim.create_demand_matrices()
        expected = sim.ifmap_demand_matrix.shape[0]
        assert scalesim.compute_cycles(m, n, k, rows, cols, dataflow) == expected, \
            (m, n, k, rows, cols)


_SCALESIM_CFG = """[general]
run_name = fp8forge

[architecture_presets]
ArrayHeight: {rows}
ArrayWidth: {cols}
IfmapSramSzkB: 1024
FilterSramSzkB: 1024
OfmapSramSzkB: 1024
IfmapOffset: 0
FilterOffset: 10000000
OfmapOffset: 20000000
Dataflow : {dataflow}
ReadRequestBuffer: 32
WriteRequestBuffer: 32

[layout]
IfmapCustomLayout: False
IfmapSRAMBankBandwidth: 10
IfmapSRAMBankNum: 10
IfmapSRAMBankPort: 2
FilterCustomLayout: False
FilterSRAMBankBandwidth: 10
FilterSRAMBankNum: 10
FilterSRAMBankPort: 2

[sparsity]
SparsitySupport : false

[run_presets]
InterfaceBandwidth: CALC
UseRamulatorTrace: False
"""


@pytest.mark.parametrize("dataflow", scalesim.DATAFLOWS)
def test_scalesim_report_prints_the_index_of_the_last_cycle(dataflow, tmp_path, monkeypatch):
    """SCALE-Sim's whole flow (config, topology, memory model, COMPUTE_REPORT.csv) on a few
    GEMMs: its "Total Cycles" is report_total_cycles, the cycle count minus one, no stalls."""
    import builtins
    import csv

    from scalesim.memory import double_buffered_scratchpad_mem
    from scalesim.scale_sim import scalesim as ScaleSim

    # SCALE-Sim 3.0.0 calls int(max(...)) on lists of 1-element arrays, which NumPy >= 2.3
    # refuses; the module's max is shimmed to take the largest element (same value).
    monkeypatch.setattr(double_buffered_scratchpad_mem, "max", lambda *seqs, **_: builtins.max(
        np.concatenate([np.ravel(x) for x in seqs])), raising=False)
    rows, cols = 8, 4
    shapes = [(20, 12, 30), (7, 9, 16), (8, 4, 1), (33, 5, 9)]
    (tmp_path / "cfg.cfg").write_text(_SCALESIM_CFG.format(rows=rows, cols=cols,
                                                           dataflow=dataflow))
    (tmp_path / "gemms.csv").write_text(
        "Layer, M, N, K,\n" + "".join(f"g{i}, {m}, {n}, {k},\n"
                                       for i, (m, n, k) in enumerate(shapes)))
    (tmp_path / "layout.csv").write_text("Layer,\n")
    monkeypatch.chdir(tmp_path)
    ScaleSim(save_disk_space=True, verbose=False, config="cfg.cfg", topology="gemms.csv",
             layout="layout.csv", input_type_gemm=True).run_scale(top_path="out")
    with open(tmp_path / "out" / "fp8forge" / "COMPUTE_REPORT.csv") as f:
        report = [{k.strip(): v.strip() for k, v in row.items() if k} for row in
                  csv.DictReader(f)]
    assert len(report) == len(shapes)
    for (m, n, k), row in zip(shapes, report, strict=True):
        assert int(row["Stall Cycles"]) == 0
        assert int(row["Total Cycles"]) == scalesim.report_total_cycles(
            m, n, k, rows, cols, dataflow) == scalesim.compute_cycles(
            m, n, k, rows, cols, dataflow) - 1, (m, n, k)


def test_rtl_overlaps_tiles_that_scalesim_serialises():
    m, n, k = 40, 12, 50
    rtl = compute_cycles(fp8_system(), Gemm(None, "fwd", m, n, k))
    ss = scalesim.compute_cycles(m, n, k, 4, 4, "os")
    assert ss == 30 * (k + 4 + 4 - 2)
    assert rtl < ss


def test_ws_and_is_dataflows_in_the_model():
    g = Gemm(None, "fwd", 100, 30, 70)
    for df in ("ws", "is"):
        c = gemm_cost(fp8_system(dataflow=df, bandwidth_gbs=INF), g)
        assert c.cycles == scalesim.compute_cycles(100, 30, 70, 4, 4, df)


# -- projection and report --------------------------------------------------------------------

def test_equal_systems_give_no_speedup():
    """Same area per MAC, FP8 everywhere, unlimited bandwidth, no chunking on either side:
    identical cycles. With chunk 64 the FP8 arrays have one more cycle of latency (the row-edge
    outer addition), and a tile whose last chunk is shorter than a segment (here 32 PEs) waits
    for the edge adders: ResNet-20's K = 144 and 288 end in chunks of 16 and 32. That costs a
    little, measured here as 1-3 % of the step."""
    dp = DesignPoint(area_ratio=1.0, wide_first_last=False, bandwidth_gbs=INF, chunk=None)
    proj, fp8, base = project(dp, network("resnet20"), 8)
    assert (fp8.rows, fp8.macs) == (base.rows, base.macs)
    assert proj.speedup == 1.0
    chunked, _, _ = project(dp.with_(chunk=64), network("resnet20"), 8)
    assert 0.97 < chunked.speedup < 0.99


def test_more_macs_and_fewer_bytes_give_a_speedup():
    dp = DesignPoint(area_ratio=2.4, bandwidth_gbs=16)
    proj, fp8, base = project(dp, network("resnet20"), 32)
    assert fp8.macs == 49 * 49 and base.macs == 1024
    assert 1.5 < proj.speedup < 2.4 * 2
    # the 16-bit first and last layers gain nothing from the FP8 MACs
    first = [r for r in proj.fp8 if r.layer == "conv1" and r.pass_ != "update"]
    assert first and all(r.wide for r in first)


def _row(key, **figures) -> dict:
    """A compare.json row as `synth --compare` writes it: its key, its label, its figures."""
    from fp8forge.scripts.rowkeys import label

    return {"key": key.to_json(), "label": label(key), **figures}


def test_calibration_from_synthesis_json(tmp_path):
    """Rows are found by the keys of the datapaths compared, not by their labels."""
    from fp8forge.scripts.rowkeys import pe_key

    rows = [_row(pe_key(PAPER), area_um2=100.0, critical_path_ns=2.0),
            _row(pe_key(replace(PAPER, chunk=16)), area_um2=90.0, critical_path_ns=2.0),
            _row(pe_key(PAPER, "pipelined"), area_um2=10.0, critical_path_ns=1.0),
            _row(pe_key(BASELINE), area_um2=250.0, critical_path_ns=5.0)]
    rows[0]["label"] = "renamed for people"  # labels are not the join
    path = tmp_path / "compare.json"
    path.write_text(json.dumps(rows))
    cal = calibrate(DesignPoint(synth_json=path))
    assert cal.area_ratio == 2.5 and cal.fmax_ratio == 2.5 and "synthesis" in cal.source
    assert cal.chunk_area_ratio == {64: 2.5, 16: 250 / 90}
    assert calibrate(DesignPoint(synth_json=path, chunk=16)).area_ratio == 250 / 90
    assert "given" in calibrate(DesignPoint(synth_json=path, area_ratio=3.0)).source
    # A comparison written before rows had keys is named as such, with the way out.
    path.write_text(json.dumps([{k: v for k, v in r.items() if k != "key"} for r in rows]))
    with pytest.raises(DesignError, match="not a synthesis comparison of this version.*rerun"):
        calibrate(DesignPoint(synth_json=path))


def test_calibration_prefers_the_largest_array(tmp_path):
    """Array rows (area per MAC with the row-edge chunk adders) set the area ratio and every
    chunk length the array's hardware serves (>= its side); the no-chunk array serves None."""
    from fp8forge.scripts.rowkeys import array_key, pe_key

    plain = replace(PAPER, chunk=None)
    rows = [_row(pe_key(PAPER), area_um2=100.0, critical_path_ns=2.0, best_clock_ns=2.0),
            _row(pe_key(plain), area_um2=60.0, critical_path_ns=2.0, best_area_um2=66.0,
                 best_clock_ns=1.5),
            _row(pe_key(BASELINE), area_um2=250.0, critical_path_ns=5.0, best_clock_ns=4.0,
                 best_area_um2=250.0),
            _row(array_key(PAPER, 8), area_um2=80.0),
            _row(array_key(BASELINE, 8), area_um2=240.0),
            _row(array_key(PAPER, 16), area_um2=75.0),
            _row(array_key(plain, 16), area_um2=72.0),
            _row(array_key(BASELINE, 16), area_um2=240.0)]
    path = tmp_path / "compare.json"
    path.write_text(json.dumps(rows))
    cal = calibrate(DesignPoint(synth_json=path))
    assert cal.area_ratio == 240 / 75 and "MacArray 16x16" in cal.source
    assert cal.fmax_ratio == 2.0  # best clocks, not critical paths
    assert cal.chunk_area_ratio == {16: 3.2, 32: 3.2, 64: 3.2, 256: 3.2, None: 240 / 72}
    assert calibrate(DesignPoint(synth_json=path, chunk=None)).area_ratio == 240 / 72
    # At each one's best clock the FP8 array's PEs grow as the standalone one-adder PE does.
    fast = calibrate(DesignPoint(synth_json=path, clock_from_synth=True))
    assert fast.area_ratio == pytest.approx(240 / 75 * 60 / 66) and "best clock" in fast.source


def test_report_files(tmp_path):
    dp = DesignPoint(area_ratio=2.4, synth_json=tmp_path / "none.json")
    data = run_project(dp, ["resnet20"], 16, tmp_path)
    for name in ("project.md", "project.json", "resnet20-speedup.png", "roofline.png",
                 "sensitivity.png"):
        assert (tmp_path / name).stat().st_size > 0
    net = data["networks"][0]
    passes = {r["pass"] for r in net["fp8"]["rows"]}
    assert passes == {"fwd", "dgrad", "wgrad", "update"}
    assert set(net["sensitivity"]) == {"bandwidth_gbs", "baseline_macs", "batch"}
    md = (tmp_path / "project.md").read_text()
    assert "given explicitly" in md and "Model assumptions" in md
    # The demo's "why" paragraph comes from the module that writes the data.
    why = why_markdown(data, image_dir="project/")
    assert why[0].startswith(f"**resnet20** ({net['speedup']:.2f}x): fwd ")
    assert "dgrad" in why[0] and "update" in why[0] and "memory-bound" in why[0]
    assert "![roofline](project/roofline.png)" in why
    assert "![sensitivity](project/sensitivity.png)" in why
    assert "![speedup per layer](project/resnet20-speedup.png)" in why
    for image in ("roofline.png", "sensitivity.png", "resnet20-speedup.png"):
        assert f"]({image})" in md


def test_cli_project(tmp_path, capsys):
    assert main(["project", "--net", "resnet20,alexnet", "--batch", "4", "--area-ratio", "2.4",
                 "--no-sweep", "--synth", str(tmp_path / "x.json"),
                 "-o", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "resnet20" in out and "alexnet" in out and "speedup" in out
    assert (tmp_path / "out" / "project.md").exists()


def test_cli_project_rejects_malformed_synthesis_files(tmp_path, capsys):
    bad = {"folder": tmp_path, "binary": tmp_path / "b.json", "shape": tmp_path / "s.json"}
    bad["binary"].write_bytes(bytes(range(256)))
    bad["shape"].write_text('{"label": "PE"}')
    messages = {"folder": "Is a directory", "binary": "cannot read synthesis results",
                "shape": "is not a synthesis comparison"}
    for kind, path in bad.items():
        assert main(["project", "--synth", str(path), "-o", str(tmp_path / "o")]) == 2
        err = capsys.readouterr().err
        assert messages[kind] in err and str(path) in err and err.count("\n") == 1, err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("argv, message", [
    (["--net", "vgg"], "unknown network vgg"),
    (["--batch", "0"], "--batch"),
    (["--synth", "/nonexistent.json"], "no synthesis result"),
    (["--area-ratio", "-1"], "--area-ratio: must be a finite number > 0"),
])
def test_cli_project_errors(argv, message, tmp_path, capsys):
    try:
        code = main(["project", *argv, "-o", str(tmp_path / "o")])
    except SystemExit as exc:  # option values are checked by the parser itself
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists()


def test_cli_scalesim_table(capsys, tmp_path):
    assert main(["project", "--net", "resnet20", "--batch", "2", "--area-ratio", "1",
                 "--scalesim", "--synth", str(tmp_path / "x.json")]) == 0
    out = capsys.readouterr().out
    assert "SCALE-Sim os Total Cycles" in out and "s3b2.conv2" in out
    assert "the cycle count minus 1" in out and "RTL os cycles" in out


def test_every_network_projects():
    dp = DesignPoint(area_ratio=2.4)
    for name in NETWORKS:
        proj, _, _ = project(dp, network(name), 2)
        assert proj.speedup > 1
