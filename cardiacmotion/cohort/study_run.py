"""Run one study of a cohort: what ``cardiacmotion analyze`` runs, isolated, into one table row.

:func:`run_study` is a plain top-level function of plain arguments, so it runs the same in this
process, in a process pool or as a Dask task. It never raises for a study's own problem: the
row says ``status = failed`` and gives the one-line reason.
"""
from __future__ import annotations

import inspect
import json
import os
import socket
import time
from pathlib import Path
from typing import Any, Mapping, Optional

from cardiacmotion import __version__
from cardiacmotion.cohort.table import COLUMNS, SEGMENT_COLUMNS

#: Folders inside the cohort output folder.
STUDIES_DIR, ROWS_DIR, ATTEMPTS_DIR = "studies", "rows", "attempts"


def one_line(exc: BaseException) -> str:
    """The user-facing one-line reason of an exception."""
    from cardiacmotion.errors import CardiacMotionError

    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, CardiacMotionError):
        return text or type(exc).__name__
    if isinstance(exc, MemoryError):
        return "out of memory"
    return f"internal error: {type(exc).__name__}: {text}".rstrip(": ")


def _record_attempt(outdir: Path, study_id: str) -> int:
    """Append this attempt (host, pid, time) to the study's attempt log; return the attempt number."""
    log = outdir / ATTEMPTS_DIR / f"{study_id}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a") as f:
        f.write(json.dumps({"host": socket.gethostname(), "pid": os.getpid(), "time": time.time()}) + "\n")
        f.flush()
        os.fsync(f.fileno())
    return sum(1 for line in log.read_text().splitlines() if line.strip())


def _remove_stale(folder: Path, study_id: str) -> None:
    """Remove what an earlier attempt killed mid-write left (its temporary output folder)."""
    import shutil

    for tmp in folder.glob(f".{study_id}.*.tmp*") if folder.is_dir() else []:
        shutil.rmtree(tmp, ignore_errors=True) if tmp.is_dir() else tmp.unlink(missing_ok=True)


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _load_inputs(study: Mapping[str, Any]):
    """``(image, seeds, landmarks, seed_phase, notes)`` the way ``analyze`` on the command line gets them."""
    import argparse

    from cardiacmotion.cine import optional_modality
    from cardiacmotion.io import read_image

    kwargs: dict = {"modality": optional_modality(study.get("modality") or "auto"), "spacing": study.get("spacing")}
    if study.get("series") is not None and "series" in inspect.signature(read_image).parameters:
        series = str(study["series"])
        kwargs["series"] = int(series) if series.isdigit() else series
    image = read_image(study["path"], **kwargs)
    try:
        from cardiacmotion.cli.cmd_segment import resolve_start
    except ImportError:  # pragma: no cover - a build without the automatic start
        resolve_start = None
    if resolve_start is not None:
        args = argparse.Namespace(seed=study.get("seed"), landmarks=study.get("landmarks"), landmarks_ijk=None,
                                  seed_phase=study.get("seed_phase"), seed_slice=None, auto=False)
        return (image, *resolve_start(args, image))
    from cardiacmotion.errors import InputError
    from cardiacmotion.io import load_seed, match_landmarks
    from cardiacmotion.io.markups import read_markups

    seeds = load_seed(study["seed"], image, seed_phase=study.get("seed_phase")) if study.get("seed") else None
    landmarks = match_landmarks(read_markups(study["landmarks"]), image) if study.get("landmarks") else None
    if seeds is None and landmarks is None:
        raise InputError("no seed and no landmarks for this study (give them beside the image or in the manifest)")
    return image, seeds, landmarks, study.get("seed_phase"), []


def _analyze_kwargs(study: Mapping[str, Any], options: Mapping[str, Any], seed_phase: Optional[int]) -> tuple[dict, list[str]]:
    """Options for :func:`cardiacmotion.analyze.analyze`, only those this version accepts."""
    from cardiacmotion.analyze import analyze

    params = inspect.signature(analyze).parameters
    kwargs = {"method": options.get("method", "auto"), "score_method": options.get("score_method", "auto"),
              "device": options.get("device", "auto"), "scene": bool(options.get("scene", False)),
              "renders": bool(options.get("renders", False)), "seed_phase": seed_phase}
    notes = []
    for name in ("ed_phase", "es_phase"):
        if study.get(name) is not None:
            if name in params:
                kwargs[name] = study[name]
            else:
                notes.append(f"{name} from the manifest not used (this version finds ED/ES itself)")
    return {k: v for k, v in kwargs.items() if k in params}, notes


def _row_from_outputs(row: dict, folder: Path, summary: dict) -> None:
    seg = summary.get("segmentation", {})
    function = _read_json(folder / "function.json")
    scores = _read_json(folder / "scores.json") if (folder / "scores.json").is_file() else {}
    row.update(method=seg.get("method"), device=seg.get("device"), seed_source=seg.get("seed"))
    auto = seg.get("auto_start") or {}
    if auto.get("confidence") is not None:
        row["seed_source"] = f"auto (confidence {float(auto['confidence']):.2f})"
    for key in ("ed_phase", "es_phase", "lv_edv_ml", "lv_esv_ml", "lv_sv_ml", "lv_ef_pct", "lv_mass_g",
                "rv_edv_ml", "rv_esv_ml", "rv_sv_ml", "rv_ef_pct", "heart_rate_bpm"):
        if key in COLUMNS:
            row[key] = function.get(key, summary.get("function", {}).get(key))
    row["msi"] = summary.get("motion_score_index")
    row["scoring_method"] = summary.get("scoring_method")
    by_id = {int(s["id"]): s.get("score") for s in scores.get("segments", []) if "id" in s}
    for n, col in enumerate(SEGMENT_COLUMNS, start=1):
        row[col] = by_id.get(n)
    flags = list(function.get("warnings", [])) + list(summary.get("notes", []))
    if seg.get("message"):
        flags.append(seg["message"])
    if scores.get("method_note"):
        flags.append(scores["method_note"])
    ef = row.get("lv_ef_pct")
    if ef is not None and not 5.0 <= float(ef) <= 90.0:
        flags.append(f"LV EF {float(ef):.1f} % outside 5-90 %: check the segmentation")
    row["qc_flags"] = "; ".join(dict.fromkeys(str(f) for f in flags))


def run_study(study: Mapping[str, Any], outdir: str, options: Mapping[str, Any], key: Optional[str],
              prepared: Optional[tuple] = None) -> dict:
    """Analyze one study into ``outdir/studies/<id>`` and return (and save) its table row.

    Args:
        study: a :class:`~cardiacmotion.cohort.studies.Study` as a dict.
        outdir: the cohort output folder.
        options: run options (method, score_method, device, scene, threads).
        key: the study's resume key (inputs + options + version); None: computed here, where the
            files are read anyway (the driver hashes only the studies it may skip).
        prepared: ``(image, seeds, landmarks, seed_phase, notes, (seg, info))`` when the inputs were
            read and the segmentation computed already (studies batched together).
    """
    from cardiacmotion.cohort.threads import limit_threads
    from cardiacmotion.io.atomic import atomic_output

    t0 = time.perf_counter()
    out = Path(outdir)
    if options.get("threads"):
        limit_threads(int(options["threads"]))
    attempt = _record_attempt(out, study["id"])
    _remove_stale(out / STUDIES_DIR, study["id"])
    if key is None:
        from cardiacmotion.cohort.runner import resume_key
        from cardiacmotion.cohort.studies import Study

        key = resume_key(Study(**study), options)
    row: dict = {c: None for c in COLUMNS}
    row.update(id=study["id"], path=study["path"], status="failed", reason="", attempts=attempt,
               reference_ef=study.get("reference_ef"), version=__version__, key=key,
               worker=f"{socket.gethostname()}:{os.getpid()}", output=f"{STUDIES_DIR}/{study['id']}")
    try:
        from cardiacmotion.analyze import analyze

        if prepared is None:
            image, seeds, landmarks, seed_phase, start_notes = _load_inputs(study)
            segmentation = None
        else:
            image, seeds, landmarks, seed_phase, start_notes, segmentation = prepared
        row.update(modality=image.modality, phases=image.phases, slices=image.slices)
        kwargs, notes = _analyze_kwargs(study, options, seed_phase)
        if segmentation is not None:
            kwargs["segmentation"] = segmentation
        notes = list(start_notes) + notes
        folder = out / STUDIES_DIR / study["id"]
        folder.parent.mkdir(parents=True, exist_ok=True)
        summary = analyze(image, folder, seeds=seeds, landmarks=landmarks, **kwargs)
        _row_from_outputs(row, folder, summary)
        if notes:
            row["qc_flags"] = "; ".join(filter(None, [row.get("qc_flags"), *notes]))
        skipped = summary.get("skipped") or {}
        row["status"] = "partial" if skipped else "ok"
        row["reason"] = "; ".join(f"{step} skipped: {why}" for step, why in skipped.items())
    except (Exception, MemoryError) as exc:  # noqa: BLE001 - one study's failure never stops the cohort
        row["reason"] = one_line(exc)
        row["output"] = None
    row["seconds"] = round(time.perf_counter() - t0, 2)
    rows = out / ROWS_DIR
    rows.mkdir(parents=True, exist_ok=True)
    with atomic_output(rows / f"{study['id']}.json") as tmp:
        Path(tmp).write_text(json.dumps(row, indent=1, default=_plain) + "\n")
    return row


def _plain(value: Any) -> Any:
    try:
        import numpy as np

        if isinstance(value, np.generic):
            return value.item()
    except ImportError:  # pragma: no cover
        pass
    return str(value)


def saved_row(outdir: str, study_id: str) -> Optional[dict]:
    """The row an earlier run saved for ``study_id``, or None."""
    row = _read_json(Path(outdir) / ROWS_DIR / f"{study_id}.json")
    return row or None
