"""CPU threads for one study among several running at once on the same machine.

``N`` worker processes on ``C`` cores each get ``max(1, C // N)`` threads, so the pool never
oversubscribes the machine (torch, OpenMP/MKL and OpenCV each keep their own pool).
"""
from __future__ import annotations

import os
from typing import Optional

#: Environment variables the native thread pools read when they start.
THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS")


def available_cores() -> int:
    """Cores this process may use (the affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS / Windows
        return max(1, os.cpu_count() or 1)


def threads_per_worker(workers: int, cores: Optional[int] = None) -> int:
    """``cores // workers``, at least one."""
    return max(1, (cores or available_cores()) // max(1, int(workers)))


def thread_env(threads: int) -> dict[str, str]:
    """The environment a new worker process should start with."""
    return {name: str(int(threads)) for name in THREAD_ENV}


def limit_threads(threads: int) -> None:
    """Limit this process's pools now (torch intra-op, OpenCV) and for any child it starts."""
    threads = max(1, int(threads))
    os.environ.update(thread_env(threads))
    try:
        import torch

        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
    except ImportError:  # pragma: no cover - torch is a core dependency
        pass
    try:
        import cv2

        cv2.setNumThreads(threads)
    except ImportError:  # pragma: no cover
        pass
