"""Root pytest configuration: the ``--long`` level of the suite (``make test-long``).

``make test`` runs every check at the volume that gives confidence in minutes; tests marked
``long`` (the same checks at full scale: 4x4 and 8x8 arrays on Icarus and Verilator, 10**5
stimuli per mode on Icarus, exhaustive runs in amaranth.sim, the paper's PE on an FPGA) are
deselected there and run,
with ten times the random stimulus volumes, under ``--long``.
"""

import os

import pytest

#: How much more random stimulus ``--long`` draws.
LONG_FACTOR = 10


def pytest_addoption(parser):
    parser.addoption(
        "--long",
        action="store_true",
        default=False,
        help="also run the tests marked long, and ten times the random stimulus volumes "
             "(make test-long)",
    )


def pytest_configure(config):
    # A pytest-xdist worker (``make test`` runs one per core) keeps to its share of the cores:
    # BLAS and kernel threads beyond it only spin against the other workers
    # (``fp8forge.golden.workers``). It does not keep freed memory for reuse: in the suite's
    # mix of work that made it slower (8 min 43 s against 7 min 42 s side by side).
    workers = os.environ.get("PYTEST_XDIST_WORKER_COUNT")
    if workers:
        from fp8forge.golden.workers import share_cores

        share_cores(int(workers))


def pytest_report_header(config):
    if config.getoption("--long"):
        return ["long checks: run, with ten times the random stimulus volumes (--long)"]
    return ["long checks (tests marked long): deselected; make test-long runs them"]


#: Tests that take seconds each (marked slow, or starting a tool) run before the rest (mostly
#: fractions of a second): pytest-xdist hands tests out in this order, so the run ends on short
#: tests and no core idles while the other finishes a synthesis.
HEAVY_FIRST = ("slow", "eda", "rtl_sim", "amaranth_sim")


def _weight(item) -> int:
    return next((i for i, mark in enumerate(HEAVY_FIRST) if item.get_closest_marker(mark)),
                len(HEAVY_FIRST))


def pytest_collection_modifyitems(config, items):
    if not config.getoption("--long"):
        long = [item for item in items if item.get_closest_marker("long")]
        if long:
            config.hook.pytest_deselected(items=long)
            items[:] = [item for item in items if not item.get_closest_marker("long")]
    items.sort(key=_weight)  # stable: within a weight, files and tests keep their order


@pytest.fixture
def volume(request):
    """``volume(n)``: ``n`` random stimuli, ``LONG_FACTOR`` times that under ``--long``."""
    factor = LONG_FACTOR if request.config.getoption("--long") else 1
    return lambda n: n * factor
