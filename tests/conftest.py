"""Shared test fixtures: logged, settable seeds and bit-exact comparison with useful failures."""

from __future__ import annotations

import os

import numpy as np
import pytest

#: Base seed for every random stream in the tests; override with FP8FORGE_SEED=<int> to replay.
BASE_SEED = int(os.environ.get("FP8FORGE_SEED", "2018"))


@pytest.fixture
def seed(request) -> int:
    """A per-test seed derived from FP8FORGE_SEED and the test id (stable across runs)."""
    value = (BASE_SEED * 1_000_003 + sum(map(ord, request.node.nodeid))) % 2**32
    print(f"seed: FP8FORGE_SEED={BASE_SEED} -> {value} for {request.node.nodeid}")
    return value


@pytest.fixture
def rng(seed) -> np.random.Generator:
    return np.random.default_rng(seed)


def assert_bits_equal(got, expected, fmt, **inputs) -> None:
    """Compare bit patterns; on mismatch report the first failing inputs in hex."""
    got = np.asarray(got).astype(np.uint64)
    expected = np.asarray(expected).astype(np.uint64)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    bad = np.flatnonzero(got != expected)
    if bad.size:
        i = bad[0]
        width = (fmt.width + 3) // 4
        shown = ", ".join(
            f"{name}={int(np.broadcast_to(v, got.shape).flat[i]):#x}" for name, v in inputs.items()
        )
        from fp8forge.golden import decode

        got_v, want_v = decode(np.array([got.flat[i], expected.flat[i]]), fmt)
        raise AssertionError(
            f"{bad.size} of {got.size} results differ in {fmt.name}; first: {shown}: "
            f"got {int(got.flat[i]):#0{width + 2}x} ({got_v!r}), "
            f"expected {int(expected.flat[i]):#0{width + 2}x} ({want_v!r}) "
            f"(replay with FP8FORGE_SEED={BASE_SEED})"
        )


def pytest_report_header(config):
    """Say which simulators and synthesis tools were found (optional ones are skipped)."""
    from fp8forge import tools
    from fp8forge.sim.runner import available_simulators

    lines = []
    for name, missing in available_simulators().items():
        lines.append(f"simulator {name}: {'found' if missing is None else missing}")
    lines += [f"{job}: {tool}" for job, tool in tools.found_tools().items()]
    return lines


def _kept(i: int, config, values, per_config: int, full) -> set[int]:
    """Indices of the values configuration ``i`` meets in make test (see covering_params)."""
    if config in full:
        return set(range(len(values)))
    return {(i * per_config + j) % len(values) for j in range(per_config)}


def covering_params(configs, values, per_config=2, full=()):
    """The full product ``configs x values`` as pytest params for a grid test.

    ``make test`` runs a covering subset: each configuration with ``per_config`` of the
    values, chosen in rotation so that every value meets some configuration; the other pairs
    are marked ``long`` and run under ``make test-long``. Configurations in ``full`` (the
    paper's design point, say) run with every value in both. Each config is a tuple of
    arguments; each param is ``(*config, value)``.
    """
    params = []
    for i, config in enumerate(configs):
        kept = _kept(i, config, values, per_config, full)
        for j, value in enumerate(values):
            marks = [] if j in kept else [pytest.mark.long]
            params.append(pytest.param(*config, value, marks=marks))
    return params


def covering_groups(configs, values, per_config=2):
    """``covering_params`` with each configuration's values in one param, ``(*config,
    values)``: the values make test runs, and (marked ``long``) the rest. A test that builds
    something costly per configuration (a simulator) builds it once for all its values."""
    params = []
    for i, config in enumerate(configs):
        kept = _kept(i, config, values, per_config, ())
        for group, marks in (([v for j, v in enumerate(values) if j in kept], ()),
                             ([v for j, v in enumerate(values) if j not in kept],
                              pytest.mark.long)):
            if group:
                label = "-".join(map(str, config)) + "-" + "+".join(map(str, group))
                params.append(pytest.param(*config, tuple(group), marks=marks, id=label))
    return params
