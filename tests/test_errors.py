"""One error base class: every deliberate error is an Fp8forgeError whose exit status the CLI
returns, and the library's error types keep the standard bases callers catch."""

from __future__ import annotations

import pytest

from fp8forge.errors import Fp8forgeError, InputError, ToolError
from fp8forge.scripts import cli
from fp8forge.scripts.fpga import DoesNotFit
from fp8forge.scripts.liberty_cells import LibertyError
from fp8forge.scripts.project import DesignError
from fp8forge.scripts.synth import InputError as SynthInputError
from fp8forge.scripts.synth import SynthError
from fp8forge.sim.runner import BenchFailed
from fp8forge.tools import ToolMissing


@pytest.mark.parametrize("error, status, base", [
    (cli.UsageError, 2, ValueError), (LibertyError, 2, ValueError),
    (DesignError, 2, ValueError), (SynthInputError, 2, ValueError),
    (cli.ToolFailure, 1, RuntimeError), (ToolMissing, 1, RuntimeError),
    (SynthError, 1, RuntimeError), (DoesNotFit, 1, RuntimeError),
    (BenchFailed, 1, AssertionError)])
def test_every_error_has_the_base_and_its_exit_status(error, status, base):
    assert issubclass(error, Fp8forgeError) and issubclass(error, base)
    assert error("x").exit_status == status


@pytest.mark.parametrize("error, status", [(InputError, 2), (ToolError, 1), (DesignError, 2),
                                           (ToolMissing, 1)])
def test_main_maps_the_base_class_to_one_line_and_the_exit_status(error, status, monkeypatch,
                                                                 capsys):
    def fail(_args):
        raise error("something precise went wrong")

    monkeypatch.setattr(cli.cmd_formats, "run", fail)  # read when the parser is built
    assert cli.main(["formats"]) == status
    assert capsys.readouterr().err == "fp8forge: error: something precise went wrong\n"
