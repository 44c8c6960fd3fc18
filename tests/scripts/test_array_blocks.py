"""The energy split of an array by block (``scripts/array_blocks.py``): registers by the
signal they hold, logic by the registers it feeds, shared logic as control; the register names
it relies on are the ones ``hdl/array.py`` generates; and the accumulator activity that explains
the PEs' share (``scripts/accumulator_activity.py``)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from fp8forge.golden import PRESETS, decode, parse_format, quantize
from fp8forge.hdl.array import MacArray
from fp8forge.hdl.generate import generate_verilog
from fp8forge.pdk import resolve_liberty
from fp8forge.scripts.accumulator_activity import accumulator_toggles_per_mac
from fp8forge.scripts.array_blocks import BLOCK_REGISTERS, BLOCKS, CONTROL, PES, array_blocks
from fp8forge.scripts.synth import _prepare_liberty

HD = "sky130_fd_sc_hd__"

#: A hand-made mapped netlist: an outer-sum register fed by a NAND (which reads a PE's output),
#: a FIFO register, a NOR enabling both (shared: control), an inverter after the FIFO register
#: that reaches no register (the read side: the FIFO's), and one PE cell.
NETLIST = f"""
module unit(clk, x, c_data);
  input clk; input x; output c_data;
  {HD}inv_1 \\core.pe_0_0._1_  (.A(x), .Y(\\core.pe_0_0.acc [0]));
  {HD}nand2_1 _10_ (.A(\\core.pe_0_0.acc [0]), .B(x), .Y(_n1_));
  {HD}nor2_1 _11_ (.A(x), .B(_n1_), .Y(_en_));
  {HD}edfxtp_1 _12_ (.CLK(clk), .D(_n1_), .DE(_en_), .Q(\\core.edge_0_0_outer0 [0]));
  {HD}edfxtp_1 _13_ (.CLK(clk), .D(\\core.edge_0_0_outer0 [0]), .DE(_en_),
      .Q(\\fifo.storage[0] [0]));
  {HD}inv_1 _14_ (.A(\\fifo.storage[0] [0]), .Y(c_data));
  {HD}dfxtp_1 _15_ (.CLK(clk), .D(x), .Q(\\core.a_0_0 [0]));
endmodule
"""


@pytest.fixture(scope="module")
def liberty_text(tmp_path_factory) -> str:
    return _prepare_liberty(resolve_liberty(), tmp_path_factory.mktemp("lib")).read_text(
        errors="replace")


def test_cells_go_to_the_block_they_serve(liberty_text):
    blocks = array_blocks(NETLIST, liberty_text)
    assert blocks == {
        "core.pe_0_0._1_": PES,
        "_12_": "outer sums and edge adders",
        "_13_": "output FIFO",
        "_15_": "operand registers",
        "_11_": CONTROL,  # enables registers of two blocks
        "_10_": CONTROL,  # feeds the outer sum and, through the NOR, the FIFO's enable
        "_14_": "output FIFO",  # reaches no register: the block driving it
    }
    assert set(blocks.values()) <= set(BLOCKS)


@pytest.mark.parametrize("chunk", [None, 4])
def test_register_names_match_the_generated_array(chunk):
    """Every register block of the split names registers the array really has (so a renamed
    signal in hdl/array.py cannot silently move energy into 'control')."""
    verilog = generate_verilog(MacArray(parse_format("e3m2"), parse_format("e5m4"), rows=2,
                                        cols=2, chunk=chunk), "unit")
    # each register as flattening names it: its module's path below the top, then its name
    names = set()
    for module, body in re.findall(r"^module \\?(\S+?)\s*\((.*?)^endmodule", verilog,
                                   re.M | re.S):
        path = module.removeprefix("unit").removeprefix(".")
        if path.startswith("core.pe_"):
            continue
        names |= {(path + "." if path else "") + name for name in re.findall(
            r"^\s*reg\s+(?:\[[^]]*\]\s*)?\\?([A-Za-z_][\w$]*)", body, re.M)}
    expected = {"outer sums and edge adders": chunk is not None,
                "result registers": chunk is None, "output FIFO": True,
                "operand registers": True}
    for block, prefixes in BLOCK_REGISTERS:
        found = any(n.startswith(prefixes) for n in names)
        assert found == expected[block], (block, sorted(names)[:40])


# -- the arithmetic behind the PEs' share -----------------------------------------------------

def test_accumulator_toggles_against_float32_sums():
    """e2m1 products and their short sums are exact in fp32, so numpy float32 gives every
    running sum; the flips are counted on their bit patterns."""
    fmt, fp32 = parse_format("e2m1"), PRESETS["fp32"]
    dots, length, chunk = 50, 8, 3
    rng = np.random.default_rng(7)
    a = decode(quantize(rng.standard_normal((dots, length)), fmt), fmt)
    b = decode(quantize(rng.standard_normal((dots, length)), fmt), fmt)
    products = (a * b).astype(np.float32)
    acc, flips = np.zeros(dots, np.float32), 0
    for k in range(length):
        new = products[:, k] if k % chunk == 0 else (acc + products[:, k]).astype(np.float32)
        flips += sum(bin(int(x)).count("1") for x in new.view(np.uint32) ^ acc.view(np.uint32))
        acc = new
    got = accumulator_toggles_per_mac(fmt, fp32, chunk, length, dots=dots, seed=7)
    assert got == flips / (dots * length)


def test_chunked_sums_flip_more_bits():
    """The paper's PE: restarted every 64 products, the e6m9 sum flips more bits per MAC than
    one that runs over the whole K = 256 (its small sums keep the products' low bits)."""
    e5m2, e6m9 = PRESETS["e5m2"], PRESETS["e6m9"]
    plain = accumulator_toggles_per_mac(e5m2, e6m9, None, 256, dots=500)
    chunked = accumulator_toggles_per_mac(e5m2, e6m9, 64, 256, dots=500)
    assert chunked > 1.05 * plain
    assert accumulator_toggles_per_mac(e5m2, e6m9, 256, 256, dots=500) == plain
    with pytest.raises(ValueError, match="at least 1"):
        accumulator_toggles_per_mac(e5m2, e6m9, 64, 0)


def test_compare_report_shows_the_split():
    from fp8forge.scripts.compare import array_energy_table, compare_markdown

    blocks = dict.fromkeys(BLOCKS, 0.5)
    row = {"label": "MacArray 4x4 e5m2->e6m9 chunk 64", "group": "MacArray", "area_um2": 8000.0,
           "ge": 2100.0, "transistors": 30000.0, "critical_path_ns": 18.0, "slack_ns": 6.7,
           "clock_ns": 24.7, "energy_pj": 0.5 * len(BLOCKS), "energy_blocks_pj": blocks,
           "energy_clock_ns": 24.7, "energy_simulator": "Icarus", "energy_stimulus": "beats",
           "energy_method": "toggles",
           "timing_source": "OpenSTA", "yosys": "Yosys 0.70"}
    table = array_energy_table([row])
    assert table.startswith("Array energy by block")
    [line] = [ln for ln in table.splitlines() if ln.startswith("| MacArray")]
    assert [c.strip() for c in line.strip("| ").split("|")][1:] == ["0.500"] * len(BLOCKS) + [
        "3.000"]
    assert re.search(r"flips \d\.\d\d bits per MAC without chunking and \d\.\d\d with chunk 64 "
                     r"\(\+\d+\.\d%\)", table)
    assert table in compare_markdown([row])
    assert array_energy_table([{k: v for k, v in row.items() if k != "energy_blocks_pj"}]) == ""
