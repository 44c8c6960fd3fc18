"""Energy per operation: the VCD activity reader, and the whole flow (Yosys cell models,
gate-level simulation on Icarus or Verilator, liberty tables) on small units, whose energy
orders as their size does."""

from __future__ import annotations

import os
import re

import numpy as np
import pytest

from fp8forge import tools
from fp8forge.golden import PRESETS
from fp8forge.hdl.arith import FpMul
from fp8forge.hdl.generate import generate_verilog
from fp8forge.scripts.cli import main
from fp8forge.scripts.energy import (
    activity_from_vcd,
    energy_simulator,
    estimate_energy,
    input_ports,
)

from ..ccache_log import ccache_found, ccache_log, misses
from .test_synth import liberty  # noqa: F401  (fixture)

VCD = """$timescale 1ps $end
$scope module dut $end
$var wire 1 ! x $end
$var wire 3 " v [2:0] $end
$var wire 2 # \\w$3 [5:4] $end
$upscope $end
$enddefinitions $end
#0
0!
b000 "
b11 #
#100
1!
b101 "
#200
0!
b100 "
#400
b0 #
"""


def test_activity_from_vcd():
    act, periods = activity_from_vcd(VCD, period=100)
    assert periods == 4
    assert act["x"] == (2 / 4, 100 / 400)  # two toggles, high 100 of 400 ps
    assert act["v[0]"] == (2 / 4, 100 / 400)
    assert act["v[1]"] == (0.0, 0.0)
    assert act["v[2]"] == (1 / 4, 300 / 400)
    assert act["\\w$3[4]"] == (1 / 4, 1.0)  # lsb 4 from the range, toggles at the last time


NESTED_VCD = """$timescale 1ps $end
$scope module tb $end
$var reg 1 ! clk $end
$scope module dut $end
$var wire 1 " x $end
$scope module _12_ $end
$var wire 1 # A $end
$upscope $end
$var wire 1 $ y $end
$upscope $end
$upscope $end
$enddefinitions $end
#0
0!
0"
0#
0$
#100
1!
1"
1#
#200
0!
"""


def test_activity_reads_only_the_dut_scope():
    """Verilator dumps every level (cell pins included) whatever $dumpvars asks: only the nets
    declared directly in the dut scope count."""
    act, periods = activity_from_vcd(NESTED_VCD, period=100)
    assert set(act) == {"x", "y"} and periods == 2
    assert act["x"] == (1 / 2, 100 / 200)


def test_nets_sharing_an_identifier_each_get_its_activity():
    """Verilator gives nets it proved identical one VCD identifier: every one of them counts."""
    vcd = NESTED_VCD.replace('$var wire 1 $ y $end', '$var wire 1 $ y $end\n$var wire 1 " x2 $end')
    act, _ = activity_from_vcd(vcd, period=100)
    assert set(act) == {"x", "x2", "y"}
    assert act["x2"] == act["x"] == (1 / 2, 100 / 200)


def test_input_ports():
    netlist = ("module unit(a, clk, o);\n  input [7:0] a;\n  wire [7:0] a;\n  input clk;\n"
               "  output o;\nendmodule\n")
    assert input_ports(netlist, "unit") == [("a", 8), ("clk", 1)]


@pytest.fixture(scope="module")
def tools_present():
    """Icarus, the default energy simulator where installed (CI installs it)."""
    if tools.icarus() is None:
        if os.environ.get("CI"):
            pytest.fail("Icarus is required in CI")
        pytest.skip("Icarus Verilog (iverilog) not installed: the Verilator path is tested")


@pytest.mark.eda
@pytest.mark.rtl_sim
def test_energy_orders_multipliers(tmp_path, liberty):  # noqa: F811
    """On whichever simulator is found (Icarus, else Verilator)."""
    e5m2, e6m9, fp16 = PRESETS["e5m2"], PRESETS["e6m9"], PRESETS["fp16"]
    results = {}
    for name, unit in (("e5m2", FpMul(e5m2, e6m9)), ("fp16", FpMul(fp16, PRESETS["fp32"]))):
        results[name] = estimate_energy(unit, generate_verilog(unit, "unit"), "unit",
                                        liberty=liberty, cache_dir=tmp_path, cycles=400)
    small, large = results["e5m2"], results["fp16"]
    assert 0.01 < small.energy_pj_per_op < large.energy_pj_per_op < 100
    assert small.leakage_pj_per_op < 0.01 * small.energy_pj_per_op
    assert small.cycles == 400 and 0.05 < small.mean_activity < 1
    assert small.simulator == {"icarus": "Icarus", "verilator": "Verilator"}[energy_simulator()]
    again = estimate_energy(FpMul(e5m2, e6m9), generate_verilog(FpMul(e5m2, e6m9), "unit"),
                            "unit", liberty=liberty, cache_dir=tmp_path, cycles=400)
    assert again == small  # cached and deterministic


@pytest.mark.eda
@pytest.mark.rtl_sim
def test_verilator_energy_equals_icarus(tmp_path, liberty, tools_present,  # noqa: F811
                                        monkeypatch):
    """The fallback simulator sees the same toggles on the same netlist, to the last bit of the
    energy; the clocked PE exercises reset, flip-flop models and the testbench's delays (tiny
    formats: the Verilator build of a larger netlist only costs time). With ccache, the
    Verilator estimate run again (its stored result removed) takes the Verilator runtime from
    the synthesis cache's ccache."""
    from fp8forge.golden import parse_format
    from fp8forge.hdl.accumulator import MacPE

    unit = MacPE(parse_format("e2m1"), parse_format("e4m3"), chunk=2)
    verilog = generate_verilog(unit, "unit")
    by = {sim: estimate_energy(unit, verilog, "unit", liberty=liberty, cache_dir=tmp_path,
                               cycles=300, simulator=sim) for sim in ("icarus", "verilator")}
    assert by["icarus"].simulator == "Icarus" and by["verilator"].simulator == "Verilator"
    assert by["icarus"].energy_pj_per_op == by["verilator"].energy_pj_per_op > 0
    assert by["icarus"].nets == by["verilator"].nets

    if not ccache_found():
        return  # (the uncached build is the one above)
    [stored] = tmp_path.glob("*/energy-*-verilator-*.json")
    stored.unlink()
    log = tmp_path / "second-build.log"
    monkeypatch.setenv("CCACHE_STATSLOG", str(log))
    again = estimate_energy(unit, verilog, "unit", liberty=liberty, cache_dir=tmp_path,
                            cycles=300, simulator="verilator")
    assert again == by["verilator"] and (tmp_path / "ccache").is_dir()
    compiled = ccache_log(log)
    runtime = {name for name in compiled if name.startswith("verilated")}
    assert {"verilated.cpp", "verilated_timing.cpp"} <= runtime, sorted(compiled)
    missed = misses(compiled, runtime)
    assert not missed, f"compiled again: {sorted(missed)}"


def test_energy_simulator_choice(monkeypatch):
    monkeypatch.setattr(tools, "icarus", lambda: None)
    assert energy_simulator() == "verilator"
    with pytest.raises(tools.ToolMissing, match="apt-get install iverilog"):
        energy_simulator("icarus")
    with pytest.raises(ValueError, match="simulator must be one of auto, icarus, verilator"):
        energy_simulator("xcelium")


@pytest.mark.eda
@pytest.mark.rtl_sim
def test_energy_from_a_given_vcd(tmp_path, liberty):  # noqa: F811
    """An activity file with every net constant leaves only leakage; the given-file path and
    the simulated path agree on what they share."""
    from fp8forge.scripts.synth import _synthesize

    unit = FpMul(PRESETS["e5m2"], PRESETS["e6m9"])
    verilog = generate_verilog(unit, "unit")
    _, work = _synthesize(verilog, "unit", liberty, tmp_path, 10.0)
    wires = re.findall(r"^\s*wire (?:\[(\d+):(\d+)\] )?(\S+);", (work / "mapped.v").read_text(),
                       re.M)
    vcd = ["$timescale 1ps $end", "$scope module dut $end"]
    for i, (hi, lo, name) in enumerate(wires):
        rng = f" [{hi}:{lo}]" if hi else ""
        vcd.append(f"$var wire {int(hi) - int(lo) + 1 if hi else 1} n{i} {name}{rng} $end")
    vcd += ["$upscope $end", "$enddefinitions $end", "#0"]
    vcd += [f"b0 n{i}" for i in range(len(wires))]
    vcd += ["#100000"]
    path = tmp_path / "quiet.vcd"
    path.write_text("\n".join(vcd) + "\n")
    quiet = estimate_energy(unit, verilog, "unit", liberty=liberty, cache_dir=tmp_path,
                            activity_vcd=path)
    busy = estimate_energy(unit, verilog, "unit", liberty=liberty, cache_dir=tmp_path,
                           cycles=400)
    assert quiet.dynamic_pj_per_op == 0.0 < busy.dynamic_pj_per_op
    assert busy.dynamic_pj_per_op == pytest.approx(busy.internal_pj_per_op
                                                   + busy.switching_pj_per_op)


@pytest.mark.eda
@pytest.mark.rtl_sim
def test_cli_synth_activity(tmp_path, liberty, capsys):  # noqa: F811
    out = tmp_path / "r"
    assert main(["synth", "fpmul", "--liberty", str(liberty), "--activity", "auto",
                 "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "energy per operation" in text and "Energy method" in text
    assert '"energy"' in (out / "report.json").read_text()
    assert main(["synth", "fpmul", "--liberty", str(liberty), "--activity", "missing.vcd",
                 "-o", str(out)]) == 2
    capsys.readouterr()
    bad = {"empty.vcd": b"", "notes.vcd": b"just some text\n", "binary.vcd": bytes(range(256)),
           "other.vcd": VCD.encode(), "broken.vcd": b"$var wire 2 ! x $end\n$enddefinitions $end"
           b"\n#0\nb12 !\n"}
    expected = {"empty.vcd": "no $enddefinitions header", "notes.vcd": "no $enddefinitions",
                "binary.vcd": "not a VCD file (not text)",
                "other.vcd": "has no nets of the mapped netlist", "broken.vcd": "malformed VCD"}
    for name, data in bad.items():
        (tmp_path / name).write_bytes(data)
        assert main(["synth", "fpmul", "--liberty", str(liberty), "--activity",
                     str(tmp_path / name), "-o", str(tmp_path / "bad")]) == 2, name
        err = capsys.readouterr().err
        assert expected[name] in err and err.count("\n") == 1, (name, err)


def test_lfsr_stimulus_enables_every_cycle():
    """An LFSR feeding SR lanes runs every cycle: energy per set of random integers."""
    from fp8forge.hdl.lfsr import Lfsr
    from fp8forge.scripts.energy import stimulus_for

    stim = stimulus_for(Lfsr(32, outputs=12), [("clk", 1), ("rst", 1), ("en", 1)], 50)
    assert stim.ports == (("en", 1),) and (stim.vectors == 1).all()
    assert "every cycle" in stim.description


def test_array_and_shared_pe_stimuli():
    """A MacArray does rows x cols MACs per beat (ports wider than 64 bits included); a PE with
    a shared chunk adder takes chunk of every chunk + 1 pairs offered."""
    from fp8forge.golden import PRESETS
    from fp8forge.hdl.accumulator import MacPE
    from fp8forge.hdl.array import MacArray
    from fp8forge.scripts.energy import stimulus_for

    array = MacArray(PRESETS["fp16"], PRESETS["fp32"], rows=5, cols=3, chunk=None)
    ports = [("clk", 1), ("rst", 1), ("a_valid", 1), ("a_last", 1), ("a_data", 80),
             ("b_valid", 1), ("b_data", 48), ("c_ready", 1)]
    stim = stimulus_for(array, ports, 600)
    assert stim.ops_per_cycle == 15
    names = [name for name, _ in stim.ports]
    last = stim.vectors[:, names.index("a_last")]
    assert [int(t) for t in np.flatnonzero(last)] == [255, 511]  # tiles of K = 4 * 64
    a_data = stim.vectors[:, names.index("a_data")]
    assert max(int(v) for v in a_data) >= 1 << 64  # five fp16 lanes, packed
    assert stim.key() == stimulus_for(array, ports, 600).key()  # deterministic, by value
    shared = MacPE(PRESETS["e5m2"], PRESETS["e6m9"], chunk=64, chunk_adder="shared")
    pe_ports = [("clk", 1), ("rst", 1), ("i_valid", 1), ("i_first", 1), ("i_last", 1),
                ("a", 8), ("b", 8)]
    assert stimulus_for(shared, pe_ports, 100).ops_per_cycle == 64 / 65
