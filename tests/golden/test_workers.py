"""``golden.workers``: a worker's share of the cores, and freed memory kept for reuse."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from fp8forge.golden import compiled, workers


def _blas_threads() -> set[int]:
    """The thread counts of the BLAS libraries loaded in this process (NumPy's OpenBLAS)."""
    return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}


@pytest.fixture
def restore_threads(monkeypatch):
    """Every test here changes this process's thread counts and environment: put them back
    afterwards."""
    for var in workers.THREAD_VARIABLES:
        monkeypatch.setenv(var, "")  # restored when the test ends
    kernels = compiled.threads()
    with threadpool_limits(limits=None):  # restores the BLAS pools on exit
        yield
    if compiled.AVAILABLE:
        compiled.set_threads(kernels)


def test_share_splits_the_cores(restore_threads, monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert workers.share_cores(2) == 4
    assert _blas_threads() == {4}
    # for the libraries loaded later and the processes started from here
    assert all(os.environ[var] == "4" for var in workers.THREAD_VARIABLES)
    if compiled.AVAILABLE:
        assert compiled.threads() == min(4, compiled.cores())
    assert workers.share_cores(3) == 2
    assert workers.share_cores(16) == 1 and _blas_threads() == {1}
    if compiled.AVAILABLE:
        assert compiled.threads() == 1
    monkeypatch.setattr(os, "cpu_count", lambda: None)  # unknown: one thread
    assert workers.share_cores(2) == 1


def test_limit_threads_rejects_bad_counts(restore_threads):
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="threads must be a positive integer"):
            workers.limit_threads(bad)  # type: ignore[arg-type]


def test_pytest_workers_run_one_thread_each():
    """Under ``make test`` (2 pytest-xdist workers on 2 cores) each worker is one core."""
    count = os.environ.get("PYTEST_XDIST_WORKER_COUNT")
    if not count:
        pytest.skip("not a pytest-xdist worker: the suite runs on its own threads")
    expected = max(1, (os.cpu_count() or 1) // int(count))
    assert _blas_threads() == {expected}
    assert os.environ["OMP_NUM_THREADS"] == str(expected)


_FAULTS = """
import resource, sys
import numpy as np
from fp8forge.golden.workers import reuse_freed_memory
applied = reuse_freed_memory() if sys.argv[1] == "reuse" else False
np.ones(1 << 23).sum()  # 64 MiB: the first one faults its pages in either way
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    np.ones(1 << 23).sum()
print(applied, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt: Linux only")
def test_freed_memory_is_reused_without_page_faults():
    """Ten 64 MiB arrays, one after another: without the setting each one faults its pages
    in again (fresh mmap); with it, the second and later reuse the first one's pages."""
    def faults(mode: str) -> tuple[str, int]:
        out = subprocess.run([sys.executable, "-c", _FAULTS, mode], capture_output=True,
                             text=True, check=True).stdout.split()
        return out[0], int(out[1])

    plain, reused = faults("plain"), faults("reuse")
    assert plain[0] == "False" and reused[0] == "True"
    assert plain[1] > 10 * 32  # every array faulted in (at least one fault per 2 MiB page)
    assert reused[1] < plain[1] / 10, (plain, reused)
