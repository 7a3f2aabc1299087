"""Where the studies of a cohort run: this process, a local Dask cluster, a remote Dask
scheduler, or (without Dask) a local process pool. Each backend yields finished rows as they
come, in completion order.

Dask runs one task per study (per group of studies with ``--batch-studies``). A worker that dies (killed, out of memory, node lost) has its
task rescheduled by the scheduler on another worker, up to ``distributed.scheduler.allowed-failures``
times (default 3); after that the study's row says so. Remote workers must see the input and
output folders at the same paths (a shared filesystem, as on any SLURM or Kubernetes cluster
with a shared volume).
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Iterator, Mapping, Optional, Sequence

from cardiacmotion.errors import NotAvailableError

#: ``(study dicts, outdir, options)`` of one job: one study, or a group batched together.
Job = tuple[Sequence[Mapping[str, Any]], str, Mapping[str, Any]]


def dask_available() -> bool:
    try:
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True


def _lost_row(study: Mapping[str, Any], reason: str) -> dict:
    from cardiacmotion import __version__

    return {"id": study["id"], "path": study["path"], "status": "failed", "reason": reason,
            "reference_ef": study.get("reference_ef"), "version": __version__}


def run_serial(jobs: Sequence[Job]) -> Iterator[dict]:
    """One study after the other in this process."""
    from cardiacmotion.cohort.group_run import run_group

    for studies, outdir, options in jobs:
        yield from run_group(studies, outdir, options)


def run_pool(jobs: Sequence[Job], workers: int, threads: int) -> Iterator[dict]:
    """A local pool of ``workers`` processes (spawned, each limited to ``threads`` threads)."""
    import concurrent.futures as cf
    import multiprocessing as mp

    from cardiacmotion.cohort.group_run import run_group
    from cardiacmotion.cohort.threads import limit_threads

    ctx = mp.get_context("spawn")  # a fresh interpreter: no inherited torch thread pools
    with cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=limit_threads, initargs=(threads,)) as pool:
        futures = {pool.submit(run_group, s, o, opts): s for s, o, opts in jobs}
        for fut in cf.as_completed(futures):
            try:
                yield from fut.result()
            except cf.process.BrokenProcessPool:
                for study in futures[fut]:
                    yield _lost_row(study, "the worker process died (killed or out of memory)")


def local_cluster(workers: int, threads: int):
    """An in-process Dask ``LocalCluster``: a scheduler and ``workers`` worker processes, one task each."""
    from distributed import LocalCluster

    from cardiacmotion.cohort.threads import thread_env

    return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                        silence_logs=logging.ERROR, env=thread_env(threads))


def run_dask(jobs: Sequence[Job], scheduler: Optional[str] = None, workers: int = 2, threads: int = 1,
             on_client: Optional[Callable[[Any], None]] = None) -> Iterator[dict]:
    """Run every study as one Dask task on ``scheduler`` (an address or a scheduler JSON file),
    or on a fresh ``LocalCluster`` of ``workers`` processes when ``scheduler`` is None.

    ``on_client(client)`` is called once the client is connected (tests use it to watch the workers).
    """
    if not dask_available():
        raise NotAvailableError("Dask is not installed: pip install 'cardiacmotion[cluster]' (or run without --scheduler)")
    from distributed import Client, as_completed
    from distributed.client import FutureCancelledError

    from cardiacmotion.cohort.group_run import run_group

    cluster = None
    try:
        if scheduler is None:
            cluster = local_cluster(workers, threads)
            client = Client(cluster)
        elif scheduler.endswith(".json"):
            client = Client(scheduler_file=scheduler)
        else:
            client = Client(scheduler, timeout="30s")
    except (OSError, TimeoutError) as exc:
        if cluster is not None:
            cluster.close()
        raise NotAvailableError(f"cannot reach the Dask scheduler {scheduler or 'LocalCluster'}: {exc}") from None
    try:
        if on_client is not None:
            on_client(client)
        # remote workers were started elsewhere: they get the thread limit with the task
        futures = {}
        for studies, outdir, options in jobs:
            opts = dict(options)
            opts.setdefault("threads", threads)
            fut = client.submit(run_group, list(studies), outdir, opts, pure=False, retries=1,
                                key=f"cardiacmotion-study-{studies[0]['id']}" + (f"+{len(studies) - 1}" if len(studies) > 1 else ""))
            futures[fut] = studies
        for fut in as_completed(list(futures)):
            try:
                yield from fut.result()
            except (FutureCancelledError, Exception) as exc:  # noqa: BLE001 - KilledWorker and friends
                name = type(exc).__name__
                if name == "KilledWorker":
                    reason = "the study's worker died on every try (killed or out of memory)"
                else:
                    reason = f"the task failed on the cluster: {name}: {str(exc).splitlines()[0] if str(exc) else ''}"
                for study in futures[fut]:
                    yield _lost_row(study, reason)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()

