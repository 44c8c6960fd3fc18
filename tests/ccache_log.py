"""Reading ccache's per-compile log (``CCACHE_STATSLOG``): which files a build compiled, and
whether ccache served them from its cache."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

#: ccache counters of a compile served from the cache.
HITS = ("direct_cache_hit", "preprocessed_cache_hit")


def ccache_log(path: Path) -> dict[str, list[str]]:
    """{compiled file name: its ccache counters} from a ccache ``stats_log``."""
    results: dict[str, list[str]] = {}
    current = None
    for line in path.read_text().splitlines():
        if line.startswith("# "):
            current = results.setdefault(Path(line[2:]).name, [])
        elif current is not None and line:
            current.append(line)
    return results


def misses(compiled: dict[str, list[str]], names) -> set[str]:
    """Of the files ``names``, those a build compiled without a cache hit."""
    return {name for name in names if not any(c in HITS for c in compiled[name])}


def ccache_found() -> bool:
    """Whether ccache is installed; in CI, which installs it, its absence fails the test."""
    from fp8forge import tools

    if tools.ccache():
        return True
    if os.environ.get("CI"):
        pytest.fail("ccache is required in CI (apt-get install ccache)")
    return False
