"""CPU thread policy: use the cores that are free, never more, and never spin on a busy machine.

Torch (OpenMP) with as many threads as cores collapses when other CPU-bound processes share the
cores: its threads busy-wait at every barrier for a sibling that is not scheduled (one Sunnybrook
``segment`` took 96 s instead of 8 s with two competitors on two cores). The policy:

- threads = the cores this process may run on (its CPU affinity) minus the other processes that
  are runnable right now (``/proc/loadavg``), at least 1; ``CARDIACMOTION_THREADS`` overrides it,
  and an ``OMP_NUM_THREADS`` the user set is kept;
- OpenMP waits passively (``OMP_WAIT_POLICY=PASSIVE``) so an idle thread yields its core;
- torch intra-op threads = that number, inter-op threads = 1 (the engine runs one model at a
  time); OpenCV the same number.

:func:`apply_thread_policy` is called by the command line before any library starts its thread
pool, and again by ``segment_cine`` so that a long-lived process (Slicer) follows the load.
"""
from __future__ import annotations

import os
import sys
from typing import Optional

_USER_OMP = "OMP_NUM_THREADS" in os.environ  # decided by the user before we touched anything
_APPLIED: dict = {}


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity; all cores where affinity is unknown)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def other_runnable() -> int:
    """Other processes runnable right now (Linux ``/proc/loadavg``; 0 where it cannot be read)."""
    try:
        with open("/proc/loadavg") as f:
            running = int(f.read().split()[3].split("/")[0])
    except (OSError, ValueError, IndexError):
        return 0
    return max(0, running - 1)  # this process is one of them


def choose_threads(requested: Optional[int] = None) -> int:
    """The number of compute threads to use now (see the module docstring)."""
    if requested:
        return max(1, int(requested))
    env = os.environ.get("CARDIACMOTION_THREADS")
    if env and env.strip().isdigit() and int(env) > 0:
        return int(env)
    if _USER_OMP:
        try:
            return max(1, int(os.environ["OMP_NUM_THREADS"]))
        except ValueError:
            pass
    cores = available_cores()
    return max(1, min(cores, cores - other_runnable()))


def apply_thread_policy(requested: Optional[int] = None) -> int:
    """Set the thread counts and the OpenMP wait policy; returns the number of threads chosen.

    Environment variables steer libraries not imported yet; torch and OpenCV, when already
    imported, are set directly.
    """
    n = choose_threads(requested)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    if not _USER_OMP:
        os.environ["OMP_NUM_THREADS"] = str(n)
    os.environ["MKL_NUM_THREADS"] = str(n)  # an inherited MKL count would override OMP's in torch
    torch = sys.modules.get("torch")
    if torch is not None:
        if torch.get_num_threads() != n:
            torch.set_num_threads(n)
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:  # only settable before the first inter-op work
            pass
    cv2 = sys.modules.get("cv2")
    if cv2 is not None and hasattr(cv2, "setNumThreads"):
        cv2.setNumThreads(n)
    _APPLIED["threads"] = n
    return n


def current_threads() -> Optional[int]:
    """What :func:`apply_thread_policy` last chose (None before it ran)."""
    return _APPLIED.get("threads")
