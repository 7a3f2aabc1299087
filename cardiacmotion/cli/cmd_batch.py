"""cardiacmotion batch INPUT -o OUTDIR [--workers N] [--scheduler ADDRESS]

Runs what ``analyze`` runs on every study of a cohort (a folder of studies or a CSV/JSON
manifest), one output folder per study, and writes the cohort table and a summary figure.
Exit 0 when every study finished (ok, or partial: a later step such as scoring skipped, as
``analyze`` exit 5), 1 when some failed (their rows say why), 2 on bad input.
"""
from __future__ import annotations

import argparse
import json
import sys

from cardiacmotion.cli.common import add_common, say
from cardiacmotion.errors import InputError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("batch", help="a cohort: analyze many studies, one table (cohort.csv / .parquet)",
                       description="Analyze every study of a folder or a CSV/JSON manifest into OUTDIR/studies/<id>, "
                       "with one row per study in OUTDIR/cohort.csv (and .jsonl, .parquet with pyarrow). "
                       "Finished studies are skipped on a rerun; a failed study is reported in its row.")
    p.add_argument("input", help="folder of studies (case folders, DICOM folders, image files) or a .csv/.json manifest")
    p.add_argument("-o", "--output", required=True, help="cohort output folder (created; reused to resume)")
    p.add_argument("--workers", type=int, default=1, help="local worker processes (default 1; each gets cores/N threads)")
    p.add_argument("--scheduler", help="Dask scheduler address (tcp://host:8786) or scheduler JSON file")
    p.add_argument("--method", default="auto", choices=["auto", "memory", "registration", "fusion"], help="propagation method")
    p.add_argument("--score-method", default="auto", choices=["auto", "learned", "thickening"])
    p.add_argument("--scene", action="store_true", help="also write each study's scene.mrb (slower)")
    p.add_argument("--reference-column", default="reference_ef", help="manifest column with reference EF values")
    p.add_argument("--threads", type=int, help="threads per worker (default: cores / workers)")
    p.add_argument("--batch-studies", type=int, default=1, metavar="K",
                   help="propagate K studies in one batch per task (GPU throughput; same results)")
    add_common(p)
    p.set_defaults(func=run)


class _StudyProgress:
    """Progress over studies: a bar on a terminal, or one JSON line per study."""

    def __init__(self, mode: str) -> None:
        from cardiacmotion.progress import Progress

        self.bar = Progress(mode)
        self.mode = self.bar.mode

    def __call__(self, done: int, total: int, row: dict, skipped: bool) -> None:
        state = "skipped (finished before)" if skipped else row.get("status", "?")
        message = f"{row['id']}: {state}" + (f" - {row['reason']}" if row.get("reason") else "")
        if self.mode == "json":
            line = {"progress": round(done / max(total, 1), 4), "message": message, "study": row["id"],
                    "status": "skipped" if skipped else row.get("status"), "done": done, "total": total}
            if row.get("lv_ef_pct") is not None:
                line["lv_ef_pct"] = row["lv_ef_pct"]
            sys.stdout.write(json.dumps(line) + "\n")
            sys.stdout.flush()
        else:
            self.bar(done / max(total, 1), f"{done}/{total} {message}")


def run(args: argparse.Namespace) -> int:
    from cardiacmotion.cohort import load_studies, run_cohort
    from cardiacmotion.device import resolve_device
    from cardiacmotion.io import check_not_input

    if args.workers < 1:
        raise InputError("--workers must be at least 1")
    if args.threads is not None and args.threads < 1:
        raise InputError("--threads must be at least 1")
    if args.batch_studies < 1:
        raise InputError("--batch-studies must be at least 1")
    studies = load_studies(args.input, reference_column=args.reference_column)
    check_not_input(args.output, [args.input] + [p for s in studies for p in s.input_paths()])
    resolve_device(args.device)  # a bad --device is bad input for the whole run, not per study
    options = {"method": args.method, "score_method": args.score_method, "device": args.device,
               "scene": bool(args.scene), "threads": args.threads, "batch_studies": args.batch_studies}
    result = run_cohort(studies, args.output, options, workers=args.workers, scheduler=args.scheduler,
                        on_study=_StudyProgress(args.progress))
    partial = sum(1 for r in result.rows if r.get("status") == "partial")
    ok = len(result.rows) - result.failed - partial
    say(args, f"{args.output}: {len(result.rows)} studies, {ok} ok, {partial} partial, {result.failed} failed, "
        f"{result.skipped} skipped as finished, {result.seconds:.1f} s ({result.backend})")
    for row in result.rows:
        if row.get("status") not in ("ok", "partial"):
            say(args, f"  {row['id']}: failed - {row.get('reason')}")
    say(args, "  table: " + ", ".join(str(p) for k, p in result.files.items() if k != "figure"))
    return 0 if result.failed == 0 else 1
