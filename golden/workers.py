"""Settings for a process that computes with the golden model beside others (a training
experiment's worker, a pytest-xdist worker).

Its share of the cores (``share_cores``): ``cpu_count // processes`` threads for OpenMP, OpenBLAS
(NumPy's matrix products, through threadpoolctl) and the compiled golden kernels (numba), not
every core each. More threads than cores is not free: idle OpenBLAS and OpenMP threads spin
waiting for work, on the cores the other workers need. Measured on 2 cores, side by side: the
golden-model and experiment tests on 2 pytest workers took 90 s with the libraries' default
threads and 71-77 s with one per worker.

Freed memory kept for reuse (``reuse_freed_memory``): the golden model's large temporary
arrays (an im2col of a batch, the products of a long reduction) are allocated and freed at
every layer of every step. glibc serves each of them with a fresh ``mmap`` and returns it with
``munmap``, so every step faults all those pages in again, zero-filled by the kernel. Measured:
the quick chunking experiment (in one process) took 19.3-19.8 s, 4.5-4.8 s of it in the
kernel; served from a heap that keeps freed memory, 15.0 s, 0.6 s in the kernel; the full one
on 2 workers 9 min 39 s (8 min of CPU in the kernel), then 5 min 53 s (9 s); the full
gradient-fidelity and weight-update experiments (one process each) 14.3 -> 11.4 s and
47.4 -> 36.3 s, which is why ``fp8forge experiment`` sets it for itself too. Not for every
process: the test suite's workers, with their mix of simulators, syntheses and small arrays,
ran slower with it (8 min 43 s against 7 min 42 s).
"""

from __future__ import annotations

import ctypes
import os
import sys

from threadpoolctl import threadpool_limits

from . import compiled

__all__ = ["THREAD_VARIABLES", "limit_threads", "reuse_freed_memory", "share_cores"]

#: glibc ``mallopt`` parameters (malloc.h).
_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4
#: Free memory at the top of the heap beyond this goes back to the system.
TRIM_THRESHOLD = 1 << 30


#: Read by OpenMP (numba's default threading layer loads GNU OpenMP on the first parallel
#: kernel), OpenBLAS and MKL when they load: for libraries loaded later and child processes.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def limit_threads(threads: int) -> None:
    """Run this process's BLAS, OpenMP and compiled golden kernels on ``threads`` threads (the
    kernels on at most the cores numba found): the libraries already loaded through
    threadpoolctl and numba, those loaded later and the processes this one starts through
    ``THREAD_VARIABLES`` in the environment."""
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be a positive integer, not {threads!r}")
    os.environ.update(dict.fromkeys(THREAD_VARIABLES, str(threads)))
    threadpool_limits(threads)
    if compiled.AVAILABLE:
        compiled.set_threads(min(threads, compiled.cores()))


def share_cores(processes: int) -> int:
    """Limit this process to its share of the cores when ``processes`` run at once (at least
    one thread); returns the thread count."""
    threads = max(1, (os.cpu_count() or 1) // max(1, processes))
    limit_threads(threads)
    return threads


def reuse_freed_memory() -> bool:
    """Have glibc serve every allocation from the heap and keep up to ``TRIM_THRESHOLD`` bytes
    of freed memory for the next ones (no ``mmap`` per large array). The process's peak memory
    is what it keeps. Returns whether it applied (False off Linux or without glibc's
    ``mallopt``: nothing changes)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library the process runs on
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(_M_MMAP_MAX, 0)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
