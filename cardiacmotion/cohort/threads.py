"""CPU threads for one study among several running at once on the same machine.

``N`` worker processes share the cores the engine's thread policy (:mod:`cardiacmotion.threads`:
free cores, passive OpenMP waits) would give one process: each gets ``max(1, cores // N)``
threads, so the pool never oversubscribes the machine. The number travels to each worker as
``CARDIACMOTION_THREADS`` (which that policy obeys in every ``segment`` run) and the usual
OpenMP/MKL variables, and is applied to torch and OpenCV directly.
"""
from __future__ import annotations

import os
from typing import Optional

#: Environment variables the native thread pools (and the engine's policy) read.
THREAD_ENV = ("CARDIACMOTION_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def available_cores() -> int:
    """Cores the engine's policy would use now (affinity minus other runnable processes)."""
    try:
        from cardiacmotion.threads import choose_threads

        return choose_threads()
    except ImportError:  # pragma: no cover - a build without the policy
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:
            return max(1, os.cpu_count() or 1)


def threads_per_worker(workers: int, cores: Optional[int] = None) -> int:
    """``cores // workers``, at least one."""
    return max(1, (cores or available_cores()) // max(1, int(workers)))


def thread_env(threads: int) -> dict[str, str]:
    """The environment a new worker process should start with."""
    env = {name: str(int(threads)) for name in THREAD_ENV}
    env["OMP_WAIT_POLICY"] = "PASSIVE"  # an idle OpenMP thread yields its core to the other workers
    return env


def limit_threads(threads: int) -> None:
    """Limit this process's pools now (torch intra-op, OpenCV) and for what it starts later."""
    threads = max(1, int(threads))
    os.environ.update(thread_env(threads))
    try:
        from cardiacmotion.threads import apply_thread_policy

        apply_thread_policy(threads)
        return
    except ImportError:  # pragma: no cover - a build without the policy
        pass
    import torch

    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    try:
        import cv2

        cv2.setNumThreads(threads)
    except ImportError:  # pragma: no cover
        pass
