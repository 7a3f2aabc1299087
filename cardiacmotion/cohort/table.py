"""The cohort table: one row per study, written as ``cohort.csv``, ``cohort.jsonl`` and, when
pyarrow is installed, ``cohort.parquet`` (each file atomically)."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Iterable, Mapping, Optional

#: AHA segment score columns (1 normal .. 4 dyskinetic; empty when not scored).
SEGMENT_COLUMNS = tuple(f"seg{n:02d}" for n in range(1, 17))

#: Every column of the cohort table, in order.
COLUMNS = (
    "id", "status", "reason", "method", "modality", "phases", "slices", "ed_phase", "es_phase",
    "lv_edv_ml", "lv_esv_ml", "lv_sv_ml", "lv_ef_pct", "lv_mass_g",
    "rv_edv_ml", "rv_esv_ml", "rv_sv_ml", "rv_ef_pct", "heart_rate_bpm",
    "msi", "scoring_method", *SEGMENT_COLUMNS, "reference_ef", "qc_flags",
    "seconds", "attempts", "device", "worker", "seed_source", "version", "key", "path", "output",
)

_FLOATS = {"lv_edv_ml", "lv_esv_ml", "lv_sv_ml", "lv_ef_pct", "lv_mass_g", "rv_edv_ml", "rv_esv_ml", "rv_sv_ml",
           "rv_ef_pct", "heart_rate_bpm", "msi", "reference_ef", "seconds"}
_INTS = {"phases", "slices", "ed_phase", "es_phase", "attempts", *SEGMENT_COLUMNS}


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e-3 and value != 0 else f"{round(value, 4)}"
    return str(value)


def table_files(outdir: Path) -> dict[str, Path]:
    return {"csv": outdir / "cohort.csv", "jsonl": outdir / "cohort.jsonl", "parquet": outdir / "cohort.parquet"}


def write_table(rows: Iterable[Mapping], outdir: Path) -> dict[str, Path]:
    """Write the table files into ``outdir``; returns the ones written (Parquet only with pyarrow)."""
    from cardiacmotion.io.atomic import atomic_output

    rows = [{c: r.get(c) for c in COLUMNS} for r in rows]
    files = table_files(Path(outdir))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in rows:
        writer.writerow([_cell(r[c]) for c in COLUMNS])
    with atomic_output(files["csv"]) as tmp:
        Path(tmp).write_text(buf.getvalue())
    with atomic_output(files["jsonl"]) as tmp:
        Path(tmp).write_text("".join(json.dumps(r, default=str) + "\n" for r in rows))
    written = {"csv": files["csv"], "jsonl": files["jsonl"]}
    if _write_parquet(rows, files["parquet"]):
        written["parquet"] = files["parquet"]
    return written


def _write_parquet(rows: list[dict], path: Path) -> bool:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return False
    from cardiacmotion.io.atomic import atomic_output

    def kind(c):
        return pa.float64() if c in _FLOATS else pa.int64() if c in _INTS else pa.string()

    def value(c, v):
        if v is None or v == "":
            return None
        if c in _FLOATS:
            return float(v)
        if c in _INTS:
            return int(v)
        return str(v)

    schema = pa.schema([(c, kind(c)) for c in COLUMNS])
    table = pa.table({c: pa.array([value(c, r[c]) for r in rows], type=kind(c)) for c in COLUMNS}, schema=schema)
    with atomic_output(path) as tmp:
        pq.write_table(table, str(tmp))
    return True


def read_csv_table(path: Path) -> list[dict]:
    """Rows of a ``cohort.csv`` as strings (empty cells as None)."""
    with open(path, newline="") as f:
        return [{k: (v if v != "" else None) for k, v in row.items()} for row in csv.DictReader(f)]


def as_float(value) -> Optional[float]:
    try:
        return None if value in (None, "") else float(value)
    except (TypeError, ValueError):
        return None
