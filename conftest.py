"""Root pytest configuration: the ``--long`` level of the suite (``make test-long``).

``make test`` runs every check at the volume that gives confidence in minutes; tests marked
``long`` (the same checks at full scale: 4x4 and 8x8 arrays on Icarus and Verilator, 10**5
stimuli per mode on Icarus, exhaustive runs in amaranth.sim) are deselected there and run,
with ten times the random stimulus volumes, under ``--long``.
"""


def pytest_addoption(parser):
    parser.addoption(
        "--long",
        action="store_true",
        default=False,
        help="also run the tests marked long, and ten times the random stimulus volumes "
             "(make test-long)",
    )


def pytest_collection_modifyitems(config, items):
    if config.getoption("--long"):
        return
    kept, long = [], []
    for item in items:
        (long if item.get_closest_marker("long") else kept).append(item)
    if long:
        config.hook.pytest_deselected(items=long)
        items[:] = kept
        config._fp8forge_long = len(long)


def pytest_terminal_summary(terminalreporter, config):
    skipped = getattr(config, "_fp8forge_long", 0)
    if skipped:
        terminalreporter.write_line(
            f"{skipped} long checks (full-scale repeats of checks above) not run: "
            f"make test-long runs them")
