"""Each test's CPU time, as a pytest plugin (a diagnostic, not a test).

    PYTHONPATH=.ci python -m pytest -n auto --dist loadgroup -p cpu_per_test
    python3 .ci/cpu_per_test.py          # the summary, by file and by test

Every worker appends one JSON line per test to ``build/cpu_per_test/<pid>.jsonl``: its wall
time, the CPU of the worker itself (``self``: amaranth.sim, golden checks, in-process flows)
and of the child processes it waited for (``children``: simulators, compilers, tool runs; a
child still running, such as a Dask worker, is not counted).
"""

from __future__ import annotations

import collections
import json
import os
import resource
import sys
import time
from pathlib import Path

import pytest

OUT = Path("build") / "cpu_per_test"


def _cpu() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    wall, (own, children) = time.monotonic(), _cpu()
    yield
    own_after, children_after = _cpu()
    OUT.mkdir(parents=True, exist_ok=True)
    with open(OUT / f"{os.getpid()}.jsonl", "a") as f:
        f.write(json.dumps({"id": item.nodeid, "wall": time.monotonic() - wall,
                            "self": own_after - own, "children": children_after - children})
                + "\n")


def main() -> int:
    rows = [json.loads(line) for path in sorted(OUT.glob("*.jsonl"))
            for line in path.read_text().splitlines()]
    if not rows:
        print(f"no results in {OUT}/: run pytest with -p cpu_per_test first", file=sys.stderr)
        return 1
    by_file: dict[str, list[float]] = collections.defaultdict(lambda: [0.0, 0.0, 0.0])
    for r in rows:
        totals = by_file[r["id"].split("::")[0]]
        for i, key in enumerate(("wall", "self", "children")):
            totals[i] += r[key]
    wall, own, children = (sum(r[key] for r in rows) for key in ("wall", "self", "children"))
    print(f"{len(rows)} tests: wall {wall:.0f} s, own CPU {own:.0f} s, children {children:.0f} s")
    print("\n   wall    own  child  file")
    for name, (wall, own, children) in sorted(by_file.items(), key=lambda kv: -kv[1][1] - kv[1][2]):
        print(f"{wall:7.1f}{own:7.1f}{children:7.1f}  {name}")
    print("\n   wall    own  child  test (by own CPU, the 30 largest)")
    for r in sorted(rows, key=lambda r: -r["self"])[:30]:
        print(f"{r['wall']:7.1f}{r['self']:7.1f}{r['children']:7.1f}  {r['id']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
