"""Several studies of a cohort with their propagation batched (``batch --batch-studies K``).

The studies of a group are read, seeded (mask, or the landmark template), propagated together by
:func:`~cardiacmotion.propagation.batched.segment_many` (one batch per modality; on a GPU the
network is fed the phases of every study at once), then each goes through the rest of
``analyze`` on its own. A study that cannot join the batch (unreadable, automatic start, fusion,
a batch that fails) runs alone through :func:`~cardiacmotion.cohort.study_run.run_study`, so a
group gives the same rows as its studies one by one.
"""
from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence

from cardiacmotion.cohort.study_run import _load_inputs, run_study


def _seeded(image, seeds, landmarks, seed_phase) -> tuple[Optional[Any], str]:
    if seeds is not None:
        return seeds, "mask"
    if landmarks is None:
        return None, "auto"  # the automatic start runs inside segment_cine, study by study
    from cardiacmotion.propagation.landmarks_init import seed_from_landmarks

    return seed_from_landmarks(image, landmarks, seed_phase), "landmarks"


def _batched(members: list, options: Mapping[str, Any]) -> dict[str, tuple]:
    """``{study id: (seg, info)}`` for the members, propagated in one batch (empty when it fails)."""
    import numpy as np

    from cardiacmotion.propagation.batched import segment_many

    cases = [(image, seeds) for _, image, seeds, _ in members]
    try:
        segs, info = segment_many(cases, method=options.get("method", "auto"), device=options.get("device", "auto"))
    except Exception:  # noqa: BLE001 - the studies then run alone and report their own reasons
        return {}
    out = {}
    total = max(1, info.get("frames", 1))
    for (sid, image, _, source), seg in zip(members, segs):
        share = image.phases * image.slices / total
        out[sid] = (seg, {"device": info["device"], "method": info["method"], "seed": source,
                          "seconds": round(info["seconds"] * share, 3), "frames_per_second": info["frames_per_second"],
                          "labels": sorted(int(v) for v in np.unique(seg.array) if v), "batched_studies": len(members),
                          **({"message": info["message"]} if info.get("message") else {})})
    return out


def run_group(studies: Sequence[Mapping[str, Any]], outdir: str, options: Mapping[str, Any]) -> list[dict]:
    """Rows of ``studies`` (in order), their propagation batched where it can be."""
    from cardiacmotion.cohort.threads import limit_threads

    if len(studies) == 1 or options.get("method") == "fusion":
        return [run_study(s, outdir, options, None) for s in studies]
    if options.get("threads"):
        limit_threads(int(options["threads"]))
    loaded: dict[str, tuple] = {}
    by_modality: dict[str, list] = {}
    for study in studies:
        try:
            image, seeds, landmarks, seed_phase, notes = _load_inputs(study)
            seeds, source = _seeded(image, seeds, landmarks, seed_phase)
        except Exception:  # noqa: BLE001 - run_study reads it again and reports why
            continue
        if seeds is None:
            continue
        loaded[study["id"]] = (image, seeds, landmarks, seed_phase, notes)
        by_modality.setdefault(image.modality, []).append((study["id"], image, seeds, source))
    segmented: dict[str, tuple] = {}
    for members in by_modality.values():
        segmented.update(_batched(members, options))
    rows = []
    for study in studies:
        sid = study["id"]
        prepared = (*loaded[sid], segmented[sid]) if sid in segmented else None
        rows.append(run_study(study, outdir, options, None, prepared=prepared))
    return rows
