"""One call from an image to every result: segmentation, function, scores, figures and a Slicer scene.

``cardiacmotion analyze`` and ``cardiacmotion demo`` are thin wrappers around :func:`analyze`.
The whole output folder is built beside its destination and renamed into place at the end,
so a failed run never leaves a half-written result.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Mapping, Optional, Union

import numpy as np

from cardiacmotion.cine import Cine
from cardiacmotion.errors import CardiacMotionError, InputError, NotAvailableError
from cardiacmotion.progress import ProgressFn, silent, sub_progress

PathLike = Union[str, os.PathLike]


def score_segmentation(image: Cine, seg: Cine, landmarks: Mapping[str, np.ndarray], method: str = "auto",
                       ed_phase: Optional[int] = None, es_phase: Optional[int] = None, weights=None,
                       device="cpu", thresholds=None) -> dict:
    """Wall-motion scores: the learned MMSA scorer for 'learned', and for 'auto' when its weights load
    and the study fits it (else thickening, with a ``method_note`` saying why); 'thickening' always.

    ``weights``: an MMSA checkpoint (default: the bundled one); ``device``: where MMSA runs;
    ``thresholds``: the thickening rule's :class:`~cardiacmotion.scoring.thickening.Thresholds`.
    """
    from cardiacmotion.errors import NotAvailableError, WeightsError
    from cardiacmotion.scoring.thickening import score_thickening

    def thickening() -> dict:
        return score_thickening(image, seg, landmarks, ed_phase=ed_phase, es_phase=es_phase, thresholds=thresholds)

    if method == "auto":
        # auto scores with what held-out evidence found better (models.json, cardiacmotion.evaluation.evidence)
        from cardiacmotion.evaluation.evidence import auto_method

        if auto_method("scoring") == "thickening" and weights is None:  # a user checkpoint: learned first
            scores = thickening()
            scores["method_note"] = "auto: thickening (better than the learned scorer on held-out evidence, models.json)"
            return scores
    if method not in ("learned", "auto"):
        return thickening()
    from cardiacmotion.scoring.learned import score_learned

    try:
        return score_learned(image, seg, landmarks, weights=weights, device=device)
    except (WeightsError, NotAvailableError) as err:
        if method == "learned" or weights is not None:  # a user's checkpoint: an error, never a fallback
            raise
        scores = thickening()
        scores["method_note"] = f"auto: thickening (the learned scorer was unavailable: {err})"
        return scores


def analyze(
    image: Cine,
    outdir: PathLike,
    seeds=None,
    landmarks: Optional[Mapping[str, np.ndarray]] = None,
    method: str = "auto",
    score_method: str = "auto",
    device: str = "auto",
    progress: ProgressFn = silent,
    scene: bool = True,
    renders: bool = True,
    seed_phase: Optional[int] = None,
    extent: str = "plane",
    basal_limit=None,
    apical_limit=None,
    ed_phase: Optional[int] = None,
    es_phase: Optional[int] = None,
    segmentation: Optional[tuple] = None,
) -> dict:
    """Segment, measure, score and export one cine into ``outdir``.

    The run degrades instead of discarding: when a step after the function (wall-motion scoring,
    its figures, the scene or the snapshots) cannot run, the segmentation and the function are
    still written and ``summary["skipped"]`` says which step was skipped and why (the CLI then
    exits 5, "partial").

    Args:
        image: the cine (MR short-axis stack or echo video).
        outdir: output folder (created; replaced whole if it exists and is not an input).
        seeds: a :class:`~cardiacmotion.io.seeds.SeedSet`, or None to start from ``landmarks``.
        landmarks: ``{name: RAS}``; MR scoring needs the three MR landmarks.
        method: propagation method (auto|memory|registration).
        score_method: wall-motion method (auto|learned|thickening).
        device: auto|cpu|cuda.
        scene: write ``scene.mrb`` when slicer-core is installed.
        renders: write offscreen slice/bullseye snapshots when OpenGL is available.
        extent / basal_limit / apical_limit: MR per-phase LV extent step and user slice limits
            (see :func:`~cardiacmotion.propagation.segment.segment_cine`).
        seed_phase: phase of a landmark / automatic seed (default: the ED estimate).
        ed_phase, es_phase: override the volume curve's ED/ES for function and scoring.
        segmentation: ``(seg Cine, info)`` computed already (studies batched on a GPU by
            ``cardiacmotion batch --batch-studies``); the propagation is then skipped.

    Returns:
        The summary written to ``summary.json``: file names, function values, MSI, timings, notes,
        and ``skipped`` (``{step: reason}``) when a later step could not run.
    """
    from cardiacmotion.function.report import compute_function, write_function_outputs
    from cardiacmotion.io import write_image
    from cardiacmotion.io.atomic import atomic_output
    from cardiacmotion.io.markups import write_markups
    from cardiacmotion.propagation.segment import segment_cine

    outdir = Path(outdir)
    if outdir.exists() and (not outdir.is_dir() or (any(outdir.iterdir()) and not (outdir / "summary.json").is_file())):
        # the folder is replaced whole: only ever replace an earlier result of ours
        raise InputError(f"output {outdir} exists and is not an earlier cardiacmotion result: choose a new folder")
    summary: dict = {"files": {}, "notes": [], "seconds": {}, "skipped": {}}
    with atomic_output(outdir) as tmp:
        tmp.mkdir()
        t0 = time.perf_counter()
        seg, info = segmentation if segmentation is not None else segment_cine(
            image, seeds=seeds, landmarks=landmarks, method=method, device=device,
            progress=sub_progress(progress, 0.0, 0.7), seed_phase=seed_phase,
            extent=extent, basal_limit=basal_limit, apical_limit=apical_limit)
        if segmentation is not None and image.modality == "MR" and "extent" not in info and (
                extent != "off" or basal_limit is not None or apical_limit is not None):
            # a batched (precomputed) segmentation gets the same per-phase LV extent step as segment_cine's
            from cardiacmotion.propagation.extent import lv_extent

            arr, ext = lv_extent(image, np.asarray(seg.array), getattr(seeds, "seeded", None), mode=extent,
                                 basal=basal_limit, apical=apical_limit)
            seg, info = seg.with_array(arr.astype(np.uint8)), dict(info)
            info["extent"] = {k: v for k, v in ext.items() if k != "ring_score"}
        summary["seconds"]["segment"] = round(time.perf_counter() - t0, 2)
        summary["segmentation"] = {k: v for k, v in info.items() if isinstance(v, (str, int, float, list, bool, dict))}
        write_image(seg, tmp / "segmentation.nii.gz")
        summary["files"]["segmentation"] = "segmentation.nii.gz"
        if landmarks is None and info.get("landmarks"):
            # the automatic start's landmarks orient the scoring and are written for the user to check
            landmarks = {k: np.asarray(v, float) for k, v in info["landmarks"].items()}
            summary["notes"].append("landmarks from the automatic start (landmarks.mrk.json): check them in Slicer")
        if landmarks:
            write_markups(landmarks, tmp / "landmarks.mrk.json")
            summary["files"]["landmarks"] = "landmarks.mrk.json"

        progress(0.72, "cardiac function")
        function = compute_function(seg, ed_phase=ed_phase, es_phase=es_phase)
        summary["notes"].extend(_cross_check_phases(image, function, ed_phase, es_phase))
        write_function_outputs(function, tmp / "function.json", plot_path=tmp / "volume_curve.png")
        summary["files"].update(function="function.json", function_csv="function.csv", volume_curve="volume_curve.png")
        summary["function"] = {k: function.get(k) for k in ("ed_phase", "es_phase", "lv_edv_ml", "lv_esv_ml",
                                                             "lv_sv_ml", "lv_ef_pct", "lv_mass_g", "rv_ef_pct")}

        scores = None
        progress(0.8, "wall-motion scoring")
        if image.modality != "MR":
            summary["notes"].append("wall-motion scoring is for short-axis MR; not run on echo")
        elif not landmarks:
            summary["skipped"]["scoring"] = "no landmarks (it needs the RV insertions and LV centre)"
        else:
            try:
                scores = _score(tmp, image, seg, landmarks, score_method, info, (ed_phase, es_phase), summary)
            except Exception as exc:  # noqa: BLE001 - a later step never takes the segmentation down
                scores = None
                for name in ("scores.json", "bullseye.png", "thickening_bullseye.png"):
                    (tmp / name).unlink(missing_ok=True)
                    summary["files"] = {k: v for k, v in summary["files"].items() if v != name}
                summary["skipped"]["scoring"] = _reason(exc)

        if scene:
            progress(0.88, "Slicer scene")
            try:
                _export_scene(tmp, image, seg, landmarks, function, scores, summary, renders)
            except Exception as exc:  # noqa: BLE001
                (tmp / "scene.mrb").unlink(missing_ok=True)
                summary["files"].pop("scene", None)
                summary["skipped"]["scene"] = _reason(exc)
        if not summary["skipped"]:
            del summary["skipped"]
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2, default=_jsonable) + "\n")
        progress(1.0, "done")
    return summary


def _reason(exc: BaseException) -> str:
    first = str(exc).splitlines()[0] if str(exc) else ""
    return first if isinstance(exc, CardiacMotionError) else f"{type(exc).__name__}: {first}"


def _score(tmp: Path, image, seg, landmarks, score_method: str, info: dict, phases: tuple, summary: dict) -> dict:
    from cardiacmotion.scoring.bullseye import write_score_bullseye, write_thickening_bullseye

    # only the user's ED/ES reach the scorer: its own choice (ED = the largest cavity in the half cycle before
    # ES) differs from the volume curve's plain maximum when a diastolic phase is as large as ED
    scores = score_segmentation(image, seg, landmarks, method=score_method, device=info.get("device", "cpu"),
                                ed_phase=phases[0], es_phase=phases[1])
    from cardiacmotion.io.jsonout import finite_json  # NaN is not JSON (issue 19)

    (tmp / "scores.json").write_text(json.dumps(finite_json(scores), indent=2, allow_nan=False) + "\n")
    summary["files"]["scores"] = "scores.json"
    write_score_bullseye(scores, tmp / "bullseye.png")
    summary["files"]["bullseye"] = "bullseye.png"
    if any(s.get("thickening_pct") is not None for s in scores["segments"]):
        write_thickening_bullseye(scores, tmp / "thickening_bullseye.png")
        summary["files"]["thickening_bullseye"] = "thickening_bullseye.png"
    summary["motion_score_index"] = scores.get("motion_score_index")
    summary["scoring_method"] = scores.get("method")
    return scores


def _cross_check_phases(image: Cine, function: dict, ed_phase: Optional[int], es_phase: Optional[int]) -> list[str]:
    """Notes where the volume curve's ED/ES disagree with the image's own ED/ES estimate or the given ones."""
    notes: list[str] = []
    if image.modality != "MR" or image.slices < 2 or image.phases < 3:
        return notes
    from cardiacmotion.propagation.autostart import estimate_ed_es

    try:
        est = estimate_ed_es(image)
    except CardiacMotionError:
        return notes
    T = image.phases

    def apart(a: int, b: int) -> int:
        return min(abs(a - b), T - abs(a - b))

    vol = function.get("lv_volume_ml") or []
    for name, given, estimate in (("ED", ed_phase, est.get("ed_phase")), ("ES", es_phase, est.get("es_phase"))):
        used = function.get(f"{name.lower()}_phase")
        if used is None:
            continue
        if given is not None and vol:
            curve = int(np.nanargmax(vol)) if name == "ED" else int(np.nanargmin(vol))
            if apart(curve, given) > 1:
                notes.append(f"{name} phase {given} was given, but the LV volume curve has its "
                             f"{'maximum' if name == 'ED' else 'minimum'} at phase {curve}")
        elif estimate is not None and apart(int(estimate), int(used)) > 1:
            notes.append(f"{name} phase {used} from the volume curve disagrees with the image's estimate {estimate} "
                         f"({est.get(name.lower() + '_source')}); check the segmentation or give --{name.lower()}-phase")
    return notes


def _export_scene(tmp: Path, image, seg, landmarks, function, scores, summary: dict, renders: bool) -> None:
    try:
        from cardiacmotion.slicerbridge import headless
    except ImportError:
        summary["notes"].append("slicer-core is not installed: no scene.mrb (pip install slicer-core)")
        return
    ok, why = headless.available()
    if not ok:
        summary["notes"].append(f"no scene.mrb: {why}")
        return
    from cardiacmotion.slicerbridge.scene import write_analysis_scene

    write_analysis_scene(tmp / "scene.mrb", image, seg, landmarks, function, scores)
    summary["files"]["scene"] = "scene.mrb"
    if renders:
        try:
            from cardiacmotion.slicerbridge.render import render_analysis

            (tmp / "views").mkdir()
            written = render_analysis(tmp / "views", image, seg, landmarks, function, scores)
            summary["files"]["slicer_views"] = sorted(f"views/{name}.png" for name in written)
        except NotAvailableError as exc:
            summary["notes"].append(f"no offscreen renders: {exc}")


def _jsonable(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)
