"""Share the machine's cores between processes that compute side by side.

A process that is one of ``processes`` workers running at once (a training experiment's
worker, a pytest-xdist worker) should use its share of the cores, ``cpu_count // processes``
threads, for OpenBLAS (NumPy's matrix products, through threadpoolctl) and for the compiled
golden kernels (numba), not every core each. More threads than cores is not free: idle OpenBLAS
and OpenMP threads spin (``sched_yield``) waiting for work, on the cores the other workers
need. Measured on 2 cores, side by side: the golden-model and experiment tests on 2 pytest
workers took 90 s with the libraries' default threads and 71 s with one per worker.
"""

from __future__ import annotations

import os

__all__ = ["THREAD_VARIABLES", "limit_threads", "share"]


#: Read by OpenMP (numba's default threading layer loads GNU OpenMP on the first parallel
#: kernel), OpenBLAS and MKL when they load: for libraries loaded later and child processes.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def limit_threads(threads: int) -> None:
    """Run this process's BLAS, OpenMP and compiled golden kernels on ``threads`` threads (the
    kernels on at most the cores numba found): the libraries already loaded through
    threadpoolctl and numba, those loaded later and the processes this one starts through
    ``THREAD_VARIABLES`` in the environment."""
    from threadpoolctl import threadpool_limits

    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be a positive integer, not {threads!r}")
    os.environ.update(dict.fromkeys(THREAD_VARIABLES, str(threads)))
    threadpool_limits(threads)
    from . import compiled

    if compiled.AVAILABLE:
        compiled.set_threads(min(threads, compiled.cores()))


def share(processes: int) -> int:
    """Limit this process to its share of the cores when ``processes`` run at once (at least
    one thread); returns the thread count."""
    threads = max(1, (os.cpu_count() or 1) // max(1, processes))
    limit_threads(threads)
    return threads
