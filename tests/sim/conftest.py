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
