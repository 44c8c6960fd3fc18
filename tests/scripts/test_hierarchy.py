"""Hierarchical array synthesis: the PE identity check, the composition of the two mapped
netlists, and the composed array's area, timing and energy against a flat synthesis."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from fp8forge import tools
from fp8forge.golden import parse_format
from fp8forge.hdl.array import MacArray
from fp8forge.hdl.generate import generate_verilog
from fp8forge.scripts.hierarchy import instantiate_pe, pe_port_maps
from fp8forge.scripts.synth import SynthError

from .test_synth import liberty  # noqa: F401  (fixture)

# small formats keep the flat reference synthesis quick; the structure is the paper point's
IN_FMT, ACC_FMT = parse_format("e3m2"), parse_format("e5m4")


@pytest.fixture(scope="module")
def array_verilog() -> str:
    return generate_verilog(MacArray(IN_FMT, ACC_FMT, rows=2, cols=2, chunk=4), "unit")


def test_pe_port_maps_pair_the_generated_port_names(array_verilog):
    maps = pe_port_maps(array_verilog, 2, 2)
    assert sorted(maps) == [f"\\unit.core.pe_{i}_{j}" for i in range(2) for j in range(2)]
    rep = maps["\\unit.core.pe_1_1"]
    assert rep and all(own == to for own, to in rep.items())  # the representative is itself
    for module, names in maps.items():
        header = re.search(rf"^module {re.escape(module)} \((.*?)\);", array_verilog,
                           re.M | re.S)
        assert header is not None
        for own, to in names.items():  # each PE's own generated port, mapped onto the last's
            assert own in header.group(1) and to in rep.values()
    others = [own for m, names in maps.items() if m != "\\unit.core.pe_1_1" for own in names]
    assert not set(others) & set(rep)  # the names really differ between PEs


def test_a_pe_that_differs_is_refused(array_verilog):
    """One PE's logic changed (an adder turned into a subtractor somewhere in its body):
    the hierarchical estimate must not treat it as a copy of the last PE."""
    start = array_verilog.index("module \\unit.core.pe_0_1 ")
    end = array_verilog.index("endmodule", start)
    body = array_verilog[start:end]
    changed = re.sub(r" \+ ", " - ", body, count=1)
    assert changed != body
    with pytest.raises(SynthError, match="pe_0_1 of the array is not a copy"):
        pe_port_maps(array_verilog[:start] + changed + array_verilog[end:], 2, 2)


def test_declarations_in_another_order_are_the_same_pe(array_verilog):
    """Yosys may write a module's declarations in another order (it did after an FPGA build in
    the same process): still a copy of the last PE, its generated port still matched."""
    start = array_verilog.index("module \\unit.core.pe_0_1 ")
    end = array_verilog.index("endmodule", start)
    head, body = array_verilog[start:end].split(";\n", 1)
    lines = body.splitlines(keepends=True)
    declarations = [i for i, line in enumerate(lines) if line.lstrip().startswith(("input ",
                                                                                   "wire "))]
    moved = [lines[i] for i in declarations][::-1]  # the declarations reversed, in place
    for i, line in zip(declarations, moved, strict=True):
        lines[i] = line
    shuffled = head + ";\n" + "".join(lines)
    assert shuffled != array_verilog[start:end]
    maps = pe_port_maps(array_verilog[:start] + shuffled + array_verilog[end:], 2, 2)
    assert maps == pe_port_maps(array_verilog, 2, 2)


def test_instantiate_pe_replaces_every_black_box():
    netlist = ("module unit(clk);\n"
               "  \\unit.core.pe_0_0  \\core.pe_0_0  (\n    .a(x),\n    .\\port$7$0 (f)\n  );\n"
               "  \\unit.core.pe_0_1  \\core.pe_0_1  (\n    .a(y),\n    .\\port$9$0 (g)\n  );\n"
               "endmodule\n")
    maps = {"\\unit.core.pe_0_0": {"\\port$7$0": "\\port$9$0"},
            "\\unit.core.pe_0_1": {"\\port$9$0": "\\port$9$0"}}
    out = instantiate_pe(netlist, maps)
    assert out.count("pe_rep ") == 2 and "unit.core.pe_0" not in out.replace("\\core.pe_0", "")
    assert ".\\port$7$0" not in out and out.count(".\\port$9$0 (") == 2
    # names are renamed all at once: two generated ports that trade names stay distinct
    swap = {"\\unit.core.pe_0_0": {"\\port$7$0": "\\port$9$0", "\\port$9$0": "\\port$7$0"}}
    two = ("  \\unit.core.pe_0_0  p (\n    .\\port$7$0 (f),\n    .\\port$9$0 (g)\n  );\n")
    assert ".\\port$9$0 (f)" in instantiate_pe(two, swap)
    assert ".\\port$7$0 (g)" in instantiate_pe(two, swap)
    with pytest.raises(SynthError, match="instantiates 2 of its 3 PEs"):
        instantiate_pe(netlist, {**maps, "\\unit.core.pe_1_0": {}})


@pytest.mark.eda
@pytest.mark.rtl_sim
def test_composed_array_matches_a_flat_synthesis(tmp_path, liberty, monkeypatch):  # noqa: F811
    """A 2x2 array, hierarchical (the PE synthesized once, the rest with PEs as black boxes,
    composed) against the same array synthesized flat, both timing-driven at 20 ns: area,
    whole-array critical path and energy per MAC agree within what optimisation across PE
    boundaries can change."""
    from fp8forge.golden.design import PAPER
    from fp8forge.scripts import compare
    from fp8forge.scripts.energy import estimate_energy
    from fp8forge.scripts.rowkeys import array_key
    from fp8forge.scripts.synth import synthesize

    small = replace(PAPER, in_fmt=IN_FMT, acc_fmt=ACC_FMT, chunk=4)
    key = array_key(small, 2)
    monkeypatch.setattr(compare, "ARRAYS", {key: (small, 2)})
    row = compare.array_row(key, liberty, tmp_path, 20.0, energy=True, energy_sides=(2,))
    assert row["label"] == "MacArray 2x2 e3m2->e5m4 chunk 4" and row["key"] == key.to_json()
    unit = MacArray(IN_FMT, ACC_FMT, rows=2, cols=2, chunk=4)
    verilog = generate_verilog(unit, "unit")
    flat = synthesize(verilog, "unit", liberty=liberty, cache_dir=tmp_path, clock_ns=20.0)
    flat_energy = estimate_energy(unit, verilog, "unit", liberty=liberty, cache_dir=tmp_path,
                                  clock_ns=20.0, cycles=compare.array_energy_cycles(2))
    assert row["per"] == 4
    assert 4 * row["area_um2"] == pytest.approx(flat.area_um2, rel=0.03)
    # skews, FIFO, control and, with a chunk length, one row-edge outer adder per row (a large
    # share of a 2x2 array: two adders for four PEs)
    assert 0.02 < row["array_overhead"] < 0.5
    assert row["energy_pj"] == pytest.approx(flat_energy.energy_pj_per_op, rel=0.05)
    assert "one beat per cycle (4 MACs)" in row["energy_stimulus"]
    # the split between the PEs and the rest of the array adds up, and neither is empty
    assert row["pe_energy_pj"] + row["rest_energy_pj"] == pytest.approx(row["energy_pj"])
    assert 0.2 < row["pe_energy_pj"] / row["energy_pj"] < 0.9
    # and so does the split by block: the chunked array has outer sums and no result registers
    blocks = row["energy_blocks_pj"]
    assert sum(blocks.values()) == pytest.approx(row["energy_pj"])
    assert blocks["PEs"] == row["pe_energy_pj"] and blocks["result registers"] == 0
    assert all(blocks[b] > 0 for b in ("outer sums and edge adders", "output FIFO",
                                       "operand registers", "control"))
    if tools.opensta():
        assert row["timing_source"] == "OpenSTA (whole array)"
        assert row["critical_path_ns"] == pytest.approx(flat.critical_path_ns, rel=0.05)
        assert row["critical_path_ns"] >= row["pe_critical_path_ns"] * 0.99
