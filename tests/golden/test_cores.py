"""``golden.cores``: a worker's share of the cores for BLAS and the compiled golden kernels."""

from __future__ import annotations

import os

import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from fp8forge.golden import compiled, cores


def _blas_threads() -> set[int]:
    """The thread counts of the BLAS libraries loaded in this process (NumPy's OpenBLAS)."""
    return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}


@pytest.fixture
def restore_threads(monkeypatch):
    """Every test here changes this process's thread counts and environment: put them back
    afterwards."""
    for var in cores.THREAD_VARIABLES:
        monkeypatch.setenv(var, "")  # restored when the test ends
    kernels = compiled.threads()
    with threadpool_limits(limits=None):  # restores the BLAS pools on exit
        yield
    if compiled.AVAILABLE:
        compiled.set_threads(kernels)


def test_share_splits_the_cores(restore_threads, monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert cores.share(2) == 4
    assert _blas_threads() == {4}
    # for the libraries loaded later and the processes started from here
    assert all(os.environ[var] == "4" for var in cores.THREAD_VARIABLES)
    if compiled.AVAILABLE:
        assert compiled.threads() == min(4, compiled.cores())
    assert cores.share(3) == 2
    assert cores.share(16) == 1 and _blas_threads() == {1}
    if compiled.AVAILABLE:
        assert compiled.threads() == 1
    monkeypatch.setattr(os, "cpu_count", lambda: None)  # unknown: one thread
    assert cores.share(2) == 1


def test_limit_threads_rejects_bad_counts(restore_threads):
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="threads must be a positive integer"):
            cores.limit_threads(bad)  # type: ignore[arg-type]


def test_pytest_workers_run_one_thread_each():
    """Under ``make test`` (2 pytest-xdist workers on 2 cores) each worker is one core."""
    workers = os.environ.get("PYTEST_XDIST_WORKER_COUNT")
    if not workers:
        pytest.skip("not a pytest-xdist worker: the suite runs on its own threads")
    expected = max(1, (os.cpu_count() or 1) // int(workers))
    assert _blas_threads() == {expected}
    assert os.environ["OMP_NUM_THREADS"] == str(expected)
