"""Root pytest configuration: command-line options shared by the whole suite."""


def pytest_addoption(parser):
    parser.addoption(
        "--long",
        action="store_true",
        default=False,
        help="run the long stimulus volumes (10**7 per operation and mode; hours)",
    )
