"""Where a command's CPU time goes, by kind of process (Linux only; a diagnostic, not a test).

    python3 .ci/cpu_by_process.py -- make test

runs the command, samples /proc five times a second, and prints the CPU seconds (user + system)
of every process that started while it ran, grouped by what it was: the pytest-xdist workers
(the in-process tests: amaranth.sim, golden, cocotb's runner), C++ compiles of Verilator models,
Yosys runs, simulator processes, tool CLIs. A process that lives less than a sampling period may
be missed, and one sampled last as a zombie keeps the name it had; the total is a lower bound.
"""

from __future__ import annotations

import collections
import os
import re
import subprocess
import sys
import threading
import time

TICK = os.sysconf("SC_CLK_TCK")


def _processes() -> dict[tuple[str, str], tuple[str, float]]:
    """{(pid, start time): (command line, CPU seconds)} of every process now."""
    out = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        out[(pid, fields[19])] = (cmd, (int(fields[11]) + int(fields[12])) / TICK)
    return out


def kind(cmd: str) -> str:
    """A short name for what a process was, from its command line."""
    argv = cmd.split()
    exe = os.path.basename(argv[0]) if argv else ""
    if exe.startswith("python") and argv[1:3] == ["-u", "-c"]:
        return "pytest-xdist worker (in-process tests)"
    if exe in ("cc1plus", "c++", "g++", "ld", "as", "collect2", "ccache", "make"):
        return f"C++ build ({exe})"
    if exe.startswith("python"):
        module = re.search(r" -m (\S+)( \w+)?", cmd)
        if module:
            return "python -m " + module.group(1) + (module.group(2) or "")
        if "multiprocessing" in cmd:
            return "python multiprocessing worker"
        return "python " + " ".join(os.path.basename(a) for a in argv[1:2])
    return exe or "(no command line)"


def main(argv: list[str]) -> int:
    if not argv or argv[0] != "--":
        print(__doc__.strip(), file=sys.stderr)
        return 2
    before = set(_processes())
    seen: dict[tuple[str, str], tuple[str, float]] = {}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            for key, (cmd, cpu) in _processes().items():
                if key not in before:  # a zombie has no command line: keep the last one seen
                    seen[key] = (cmd or seen.get(key, ("", 0.0))[0], cpu)
            time.sleep(0.2)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    start = time.monotonic()
    status = subprocess.call(argv[1:])
    done.set()
    thread.join()
    totals: collections.Counter[str] = collections.Counter()
    counts: collections.Counter[str] = collections.Counter()
    for cmd, cpu in seen.values():
        totals[kind(cmd)] += cpu
        counts[kind(cmd)] += 1
    print(f"\n{time.monotonic() - start:.0f} s wall, {sum(totals.values()):.0f} s CPU seen in "
          f"{sum(counts.values())} processes (exit status {status})")
    for name, cpu in totals.most_common(25):
        print(f"{cpu:8.1f} s  {counts[name]:5d}  {name}")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
