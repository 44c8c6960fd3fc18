"""cocotb entry points: every bench runs on each simulator; missing ones are reported."""

from __future__ import annotations

import os

import pytest

from fp8forge.sim.runner import SIMULATORS, available_simulators


def require_simulator(name: str) -> str:
    """``name`` if it is installed; else fail in CI and skip (saying why) elsewhere."""
    missing = available_simulators()[name]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is required in CI: {missing}")
        pytest.skip(f"{name} not available: {missing}")
    return name


@pytest.fixture(params=SIMULATORS)
def simulator(request) -> str:
    return require_simulator(request.param)


#: ``simulator`` for benches whose RTL other benches run on both simulators in make test:
#: Icarus there (a Verilator build costs about 6 s of CPU), Verilator too in make test-long.
icarus_in_make_test = pytest.mark.parametrize(
    "simulator", ["icarus", pytest.param("verilator", marks=pytest.mark.long)], indirect=True)


@pytest.fixture
def shared_ccache(tmp_path, request) -> None:
    """Point ``tmp_path/build/ccache`` at the suite's Verilator C++ cache (``build/ccache`` of
    the checkout), so a bench built below ``tmp_path`` reuses the compiled Verilator runtime
    instead of compiling it again (about 20 s of CPU)."""
    shared = request.config.rootpath / "build" / "ccache"
    shared.mkdir(parents=True, exist_ok=True)
    (tmp_path / "build").mkdir(exist_ok=True)
    (tmp_path / "build" / "ccache").symlink_to(shared, target_is_directory=True)
