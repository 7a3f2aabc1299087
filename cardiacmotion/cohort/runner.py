"""A cohort run: skip what is finished, run the rest where asked, keep the table current."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Sequence

from cardiacmotion import __version__
from cardiacmotion.cohort.hashing import hash_paths, study_key
from cardiacmotion.cohort.studies import Study
from cardiacmotion.cohort.study_run import ATTEMPTS_DIR, ROWS_DIR, saved_row
from cardiacmotion.cohort.table import write_table

#: ``on_study(done, total, row, skipped)`` after each study.
StudyCallback = Callable[[int, int, dict, bool], None]

#: Study fields that change a result (with the run options, they make the resume key).
_KEY_FIELDS = ("seed_phase", "series", "modality", "spacing", "ed_phase", "es_phase")
#: Run options that change a result (device and threads do not).
_KEY_OPTIONS = ("method", "score_method", "scene")


@dataclass
class CohortResult:
    """What a run did: every row (in study order), how many ran / were skipped / failed, the files."""

    rows: list[dict]
    ran: int = 0
    skipped: int = 0
    failed: int = 0
    files: dict[str, Path] = field(default_factory=dict)
    backend: str = "serial"
    seconds: float = 0.0


def resume_key(study: Study, options: Mapping[str, Any]) -> str:
    """Content hash of the study's inputs + the options that change its result + the version."""
    opts = {k: options.get(k) for k in _KEY_OPTIONS}
    opts.update({k: getattr(study, k) for k in _KEY_FIELDS})
    return study_key(hash_paths(study.input_paths()), opts, __version__)


def finished(study: Study, outdir: Path, options: Mapping[str, Any]) -> Optional[dict]:
    """The saved row when the study finished before with the same inputs, options and version."""
    row = saved_row(str(outdir), study.id)
    if not row or row.get("status") not in ("ok", "partial") or row.get("version") != __version__:
        return None
    if not (outdir / str(row.get("output") or "-") / "summary.json").is_file():
        return None
    return row if row.get("key") == resume_key(study, options) else None


def _backend(workers: int, scheduler: Optional[str]) -> str:
    from cardiacmotion.cohort.backends import dask_available

    if scheduler:
        return "dask"
    if workers <= 1:
        return "serial"
    return "dask-local" if dask_available() else "pool"


def run_cohort(
    studies: Sequence[Study],
    outdir: str | Path,
    options: Mapping[str, Any],
    workers: int = 1,
    scheduler: Optional[str] = None,
    on_study: Optional[StudyCallback] = None,
    on_client: Optional[Callable[[Any], None]] = None,
    table_every_s: float = 5.0,
) -> CohortResult:
    """Analyze every study not finished before; write the cohort table and the summary figure.

    Args:
        studies: the cohort.
        outdir: the cohort output folder (created); per-study results go to ``studies/<id>``.
        options: ``method``, ``score_method``, ``device``, ``scene`` (and ``threads``;
            ``batch_studies``: studies propagated in one batch per task, for a GPU).
        workers: local worker processes (>1: a Dask ``LocalCluster`` when Dask is installed,
            else a process pool); each gets ``cores // workers`` threads.
        scheduler: a Dask scheduler address (``tcp://host:8786``) or scheduler JSON file.
        on_study: progress callback after each study (skipped ones included).
        table_every_s: rewrite the table at most this often while running (and always at the end).
    """
    from cardiacmotion.cohort.backends import run_dask, run_pool, run_serial
    from cardiacmotion.cohort.summary import write_summary_figure
    from cardiacmotion.cohort.threads import available_cores, threads_per_worker

    t0 = time.perf_counter()
    out = Path(outdir)
    (out / ROWS_DIR).mkdir(parents=True, exist_ok=True)
    workers = max(1, int(workers))
    threads = int(options.get("threads") or threads_per_worker(workers, available_cores()))
    opts = dict(options, threads=threads)
    rows: dict[str, dict] = {}
    result = CohortResult(rows=[], backend=_backend(workers, scheduler))
    total = len(studies)
    todo = []
    for study in studies:
        row = finished(study, out, opts)
        if row is not None:
            rows[study.id] = row
            result.skipped += 1
            if on_study:
                on_study(len(rows), total, row, True)
        else:
            # attempts count the tries of this run
            (out / ATTEMPTS_DIR / f"{study.id}.log").unlink(missing_ok=True)
            todo.append(study.to_dict())

    size = max(1, int(options.get("batch_studies") or 1))
    todo = [(todo[i:i + size], str(out), opts) for i in range(0, len(todo), size)]
    if todo:
        if result.backend == "serial":
            stream = run_serial(todo)
        elif result.backend == "pool":
            stream = run_pool(todo, workers, threads)
        else:
            stream = run_dask(todo, scheduler=scheduler, workers=workers, threads=threads, on_client=on_client)
        last_table = time.monotonic()
        for row in stream:
            rows[row["id"]] = row
            _save_row(out, row)
            result.ran += 1
            if on_study:
                on_study(len(rows), total, row, False)
            if time.monotonic() - last_table >= table_every_s:
                write_table([rows[s.id] for s in studies if s.id in rows], out)
                last_table = time.monotonic()

    result.rows = [rows[s.id] for s in studies if s.id in rows]
    result.failed = sum(1 for r in result.rows if r.get("status") not in ("ok", "partial"))
    result.files = write_table(result.rows, out)
    figure = write_summary_figure(result.rows, out / "cohort_summary.png")
    if figure is not None:
        result.files["figure"] = figure
    result.seconds = round(time.perf_counter() - t0, 2)
    return result


def _save_row(out: Path, row: dict) -> None:
    """Keep the driver's copy of every row (a remote worker's own write may be elsewhere)."""
    from cardiacmotion.io.atomic import atomic_output

    with atomic_output(out / ROWS_DIR / f"{row['id']}.json") as tmp:
        Path(tmp).write_text(json.dumps(row, indent=1, default=str) + "\n")
