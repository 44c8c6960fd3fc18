"""``python -m fp8forge``: the command-line tool."""

import sys

from fp8forge.scripts.cli import main

sys.exit(main())
