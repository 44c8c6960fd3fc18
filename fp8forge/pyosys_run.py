"""``python -m fp8forge.pyosys_run``: the native Yosys of the ``pyosys`` wheel, called
like the ``yosys`` executable for the options the flows use.

Supported: ``-V`` (version line), ``-q`` (quiet), ``-l LOG`` (log file), ``-s SCRIPT`` and
``-p COMMANDS``. A failing command exits with status 1 and its error in the log, as ``yosys``
does. ABC runs as the ``yosys-abc`` binary the wheel ships, and its output reaches the log.
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pyosys_run")
    parser.add_argument("-V", action="store_true")
    parser.add_argument("-q", action="store_true")
    parser.add_argument("-l", dest="log")
    parser.add_argument("-s", dest="script")
    parser.add_argument("-p", dest="commands")
    args = parser.parse_args(argv)

    from pyosys import libyosys as ys

    if args.V:
        print(ys.yosys_maybe_version())
        return 0
    # tee applies to one command, so -p's commands run one by one, appending to the log
    commands = [f"script {args.script}"] if args.script else [
        c.strip() for c in (args.commands or "").split(";") if c.strip()]
    design = ys.Design()
    for i, command in enumerate(commands):
        if args.log:
            command = f"tee {'-q ' if args.q else ''}{'-a' if i else '-o'} {args.log} {command}"
        elif args.q:
            command = f"tee -q {command}"
        ys.run_pass(command, design)  # a Yosys error exits the process with status 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
