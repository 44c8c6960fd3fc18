"""cocotb entry points: every bench runs on each simulator; missing ones are reported."""

from __future__ import annotations

import os

import pytest

from fp8forge.sim.runner import SIMULATORS, available_simulators


@pytest.fixture(params=SIMULATORS)
def simulator(request) -> str:
    missing = available_simulators()[request.param]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"{request.param} is required in CI: {missing}")
        pytest.skip(f"{request.param} not available: {missing}")
    return request.param
