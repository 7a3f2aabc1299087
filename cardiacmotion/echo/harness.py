"""The echo evaluation harness: every echo method on the same clips, one table.

Methods are pluggable (:data:`RUNNERS`: name -> ``run(clip, weights) -> MethodOutput``); today:

- ``memory`` / ``registration``: the product's propagation from the painted first frame (the truth
  labels of frame 0, as a user's seed);
- ``tan``: TAN started from the three landmarks of frame 0; ``tan-auto``: TAN fully automatic.
- ``sscf``: SSCF, automatic (no seed); the bundled weights, or ``weights`` when its path names ``sscf``.
- ``pkecho``: PKEcho-Net, automatic (no seed); the bundled weights, or ``weights`` when its path names ``pkecho``.

Per clip and method: Dice per label over all frames and at ED / ES, HD95 of the LV cavity (mm, mean
over frames), landmark error (mm; methods that track landmarks), EF by the method of discs from the
method's own segmentation (single-plane; biplane where a clip's truth names its heart and both views
are present) against the same computation on the truth, ED/ES detection error (frames, cyclic), view
accuracy (methods that classify), frames/s; the summary adds the median ED/ES detection error (frames).
Clips come from held-out seeds of the training phantom (seeds 9000+; training uses 100+) and from the independent echo generator when it is installed.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Callable, Optional, Sequence

import numpy as np
from scipy import ndimage

from cardiacmotion.echo.clips import EchoClip, clip_from_case, phantom_clip
from cardiacmotion.io.markups import ECHO_LANDMARKS

LABELS = {"LV": 1, "myocardium": 2, "LA": 3}


@dataclass
class MethodOutput:
    labels: np.ndarray  # [T, H, W]
    seconds: float
    landmarks: Optional[np.ndarray] = None  # [T, 3, 2] px
    view: Optional[str] = None
    produced: tuple = (1, 2, 3)  # labels the method segments


def _seedset(clip: EchoClip):
    from cardiacmotion.propagation.order import SeedSet

    lab = np.zeros((clip.length, 1) + clip.frames.shape[1:], np.uint8)
    lab[0, 0] = clip.labels[0]
    seeded = np.zeros((clip.length, 1), bool)
    seeded[0, 0] = True
    return SeedSet(labels=lab, seeded=seeded)


def _propagation(method: str) -> Callable:
    def run(clip: EchoClip, weights: Optional[str] = None) -> MethodOutput:
        from cardiacmotion.propagation.segment import segment_cine

        t0 = time.perf_counter()
        seg, _ = segment_cine(clip.cine, seeds=_seedset(clip), method=method, device="cpu")
        return MethodOutput(seg.array[:, 0], time.perf_counter() - t0)

    return run


def _tan(auto: bool) -> Callable:
    def run(clip: EchoClip, weights: Optional[str] = None) -> MethodOutput:
        from cardiacmotion.echo.tan_track import TANTracker

        tr = TANTracker.from_weights(weights)
        res = tr.track(clip.frames, None if auto else {0: clip.landmarks[0]})
        return MethodOutput(res.labels, res.seconds, res.landmarks, res.view)

    return run


def _sscf(clip: EchoClip, weights: Optional[str] = None) -> MethodOutput:
    from cardiacmotion.echo.sscf_segment import run_sscf
    from cardiacmotion.echo.sscf_weights import load_sscf

    model, cfg = load_sscf(weights if weights and "sscf" in str(weights) else None)
    res = run_sscf(model, clip.frames, int(cfg["size"]), clip.spacing, mm_per_px=cfg.get("mm_per_px"))
    return MethodOutput(res.labels, res.seconds, produced=(1,) if cfg["num_classes"] == 1 else (1, 2, 3))


def _pkecho(clip: EchoClip, weights: Optional[str] = None) -> MethodOutput:
    from cardiacmotion.echo.pkecho_segment import run_pkecho
    from cardiacmotion.echo.pkecho_weights import load_pkecho

    model, cfg = load_pkecho(weights if weights and "pkecho" in str(weights) else None)
    times = getattr(clip.cine, "frame_times_ms", None)
    frame_ms = float(np.median(np.diff(times))) if times is not None and len(times) > 1 else None
    res = run_pkecho(model, clip.frames, int(cfg["size"]), clip.spacing, frame_ms=frame_ms)
    return MethodOutput(res.labels, res.seconds, produced=(1,) if cfg["num_classes"] == 1 else (1, 2, 3))


#: name -> runner; SSCF and PKEcho-Net register here when they exist
RUNNERS: dict[str, Callable] = {
    "memory": _propagation("memory"),
    "registration": _propagation("registration"),
    "fusion": _propagation("fusion"),
    "tan": _tan(False),
    "tan-auto": _tan(True),
    "sscf": _sscf,
    "pkecho": _pkecho,
}


def _nanmean(values) -> float:
    """Mean of the finite values (NaN when there are none), without numpy's empty-slice warning."""
    v = np.asarray(list(values), dtype=np.float64)
    v = v[np.isfinite(v)]
    return float(v.mean()) if v.size else float("nan")


def dice(a: np.ndarray, b: np.ndarray) -> float:
    s = int(a.sum()) + int(b.sum())
    return 1.0 if s == 0 else 2.0 * float((a & b).sum()) / s


def hd95_mm(a: np.ndarray, b: np.ndarray, spacing: tuple[float, float]) -> float:
    """95th percentile symmetric boundary distance (mm) of two 2D masks."""
    if not a.any() or not b.any():
        return float("nan")
    sp = (spacing[1], spacing[0])
    ea = a & ~ndimage.binary_erosion(a)
    eb = b & ~ndimage.binary_erosion(b)
    da = ndimage.distance_transform_edt(~ea, sampling=sp)
    db = ndimage.distance_transform_edt(~eb, sampling=sp)
    return float(np.percentile(np.concatenate([db[ea], da[eb]]), 95))


def asd_mm(a: np.ndarray, b: np.ndarray, spacing: tuple[float, float]) -> float:
    """Symmetric average surface distance (mm) of two 2D masks."""
    if not a.any() or not b.any():
        return float("nan")
    sp = (spacing[1], spacing[0])
    ea = a & ~ndimage.binary_erosion(a)
    eb = b & ~ndimage.binary_erosion(b)
    da = ndimage.distance_transform_edt(~ea, sampling=sp)
    db = ndimage.distance_transform_edt(~eb, sampling=sp)
    return float((db[ea].sum() + da[eb].sum()) / (ea.sum() + eb.sum()))


def smoothness_index_mm(labels: np.ndarray, spacing: tuple[float, float]) -> float:
    """The paper's SI (Eq. 9) for one clip: mean ASD (mm) between consecutive LV contours."""
    return _nanmean(asd_mm(labels[t - 1] == 1, labels[t] == 1, spacing) for t in range(1, labels.shape[0]))


def _function(clip: EchoClip, labels: np.ndarray, landmarks_px: Optional[np.ndarray]) -> dict:
    from cardiacmotion.function import compute_function

    seg = clip.cine.with_array(labels[:, None].astype(np.uint8))
    lm = None
    if landmarks_px is not None:
        lm = {}
        for k, n in enumerate(ECHO_LANDMARKS):
            ijk = np.column_stack([landmarks_px[:, k], np.zeros(clip.length)])
            lm[n] = clip.cine.ijk_to_ras_points(ijk)
    return compute_function(seg, landmarks_per_frame=lm)


def _cyclic(a: int, b: int, n: int) -> int:
    d = abs(int(a) - int(b)) % n
    return min(d, n - d)


def score(clip: EchoClip, out: MethodOutput) -> dict:
    """The per-clip metrics of one method (module doc)."""
    truth = clip.labels
    row: dict = {"clip": clip.name, "frames": clip.length}
    for name, v in LABELS.items():
        if v in out.produced:
            row[f"dice_{name}"] = dice(out.labels == v, truth == v)
    row["dice_LV_ED"] = dice(out.labels[clip.ed] == 1, truth[clip.ed] == 1)
    row["dice_LV_ES"] = dice(out.labels[clip.es] == 1, truth[clip.es] == 1)
    others = [t for t in range(clip.length) if t not in (clip.ed, clip.es)]  # frames an ED/ES-trained model never saw labelled
    row["dice_LV_unlabelled"] = _nanmean(dice(out.labels[t] == 1, truth[t] == 1) for t in others)
    row["dice_LV_min_frame"] = min(dice(out.labels[t] == 1, truth[t] == 1) for t in range(clip.length))
    row["si_mm"] = smoothness_index_mm(out.labels, clip.spacing)
    row["si_truth_mm"] = smoothness_index_mm(truth, clip.spacing)
    row["asd_LV_mm"] = _nanmean(asd_mm(out.labels[t] == 1, truth[t] == 1, clip.spacing) for t in range(clip.length))
    row["hd95_LV_mm"] = _nanmean(hd95_mm(out.labels[t] == 1, truth[t] == 1, clip.spacing) for t in range(clip.length))
    if out.landmarks is not None:
        err = np.linalg.norm((out.landmarks - clip.landmarks) * np.asarray(clip.spacing), axis=2)  # [T, 3]
        row["apex_err_mm"] = float(err[:, 0].mean())
        row["annulus_err_mm"] = float(err[:, 1:].mean())
        row["drift_ratio"] = float(err[-10:].mean() / max(err[1:11].mean(), 1e-6)) if clip.length > 20 else float("nan")
    if out.view is not None:
        row["view_correct"] = float(out.view == clip.view)
    try:
        f_pred = _function(clip, out.labels, out.landmarks)
        f_true = _function(clip, truth, clip.landmarks)
        row["ef_pred"] = f_pred["lv_ef_pct"]
        row["ef_true"] = f_true["lv_ef_pct"]
        row["ef_abs_err"] = abs(f_pred["lv_ef_pct"] - f_true["lv_ef_pct"])
        row["ed_err_frames"] = _cyclic(f_pred["ed_phase"], f_true["ed_phase"], clip.length)
        row["es_err_frames"] = _cyclic(f_pred["es_phase"], f_true["es_phase"], clip.length)
    except Exception as exc:  # noqa: BLE001 - a failed function computation is a result, not a crash
        row["function_error"] = f"{type(exc).__name__}: {exc}"
    row["fps"] = clip.length / max(out.seconds, 1e-9)
    return row


def _cached(name: str, make: Callable[[], EchoClip], cache: Optional[str]) -> EchoClip:
    """A clip from the pickle cache folder (a local, private cache of generated clips), else made and stored."""
    import pickle
    from pathlib import Path

    if not cache:
        return make()
    path = Path(cache) / f"{name}.pkl"
    if path.is_file():
        with open(path, "rb") as f:
            return pickle.load(f)
    clip = make()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        pickle.dump(clip, f)
    return clip


def phantom_clips(first_seed: int, per_view: int, cache: Optional[str] = None, randomize: float = 0.0,
                  **options) -> list[EchoClip]:
    """Held-out clips of the training phantom (both views); a ``randomize`` share of them re-imaged by the
    echo domain randomisation (:mod:`cardiacmotion.phantom.echo_randomize`, chosen per seed and view)."""
    from cardiacmotion.phantom.echo_randomize import VERSION, randomize_clip, selected

    tag = "".join(f"-{k}{v}" for k, v in sorted(options.items()))

    def make(s, v):
        clip = phantom_clip(s, v, **options)
        return replace(randomize_clip(clip, s), name=clip.name + "-rand") if selected(s, v, randomize) else clip

    return [_cached(f"phantom-{v}-{s}{tag}{f'-rand{VERSION}' if selected(s, v, randomize) else ''}", lambda s=s, v=v: make(s, v), cache)
            for v in ("A4C", "A2C") for s in range(first_seed, first_seed + per_view)]


def independent_clips(first_seed: int, per_view: int, cache: Optional[str] = None) -> list[EchoClip]:
    """Clips of the independent echo generator (``cardiacmotion.independent``), evaluation only; the A4C and
    A2C clips of one seed are the same heart (a biplane pair, ``truth['heart']``).

    Raises:
        ImportError: the generator is not installed in this build.
    """
    from cardiacmotion.independent import generate_echo  # type: ignore

    def make(s, v):
        clip = clip_from_case(generate_echo(s, v), f"independent-{v}-{s}")
        clip.truth["heart"] = f"independent-{s}"
        return clip

    return [_cached(f"independent-{v}-{s}", lambda s=s, v=v: make(s, v), cache)
            for v in ("A4C", "A2C") for s in range(first_seed, first_seed + per_view)]


def _ras_landmarks(clip: EchoClip, px: Optional[np.ndarray]) -> Optional[dict]:
    if px is None:
        return None
    return {n: clip.cine.ijk_to_ras_points(np.column_stack([px[:, k], np.zeros(clip.length)])) for k, n in enumerate(ECHO_LANDMARKS)}


def biplane_ef_error(a4c: EchoClip, a2c: EchoClip, out4: MethodOutput, out2: MethodOutput) -> float:
    """|biplane EF (method) - biplane EF (truth labels + truth landmarks)| for one heart seen in both views."""
    from cardiacmotion.function import compute_function

    def ef(c4, l4, p4, c2, l2, p2):
        seg4 = c4.cine.with_array(l4[:, None].astype(np.uint8))
        seg2 = c2.cine.with_array(l2[:, None].astype(np.uint8), view="A2C")
        return compute_function(seg4, _ras_landmarks(c4, p4), second_view=(seg2, _ras_landmarks(c2, p2)))["lv_ef_pct"]

    pred = ef(a4c, out4.labels, out4.landmarks, a2c, out2.labels, out2.landmarks)
    true = ef(a4c, a4c.labels, a4c.landmarks, a2c, a2c.labels, a2c.landmarks)
    return abs(pred - true)


def evaluate(clips: Sequence[EchoClip], methods: Sequence[str], weights: Optional[str] = None, log=None) -> dict:
    """Run every method on every clip; ``{"rows": [...], "summary": {method: {metric: mean}}}``.

    Clips whose truth names the same ``heart`` in A4C and A2C also give a biplane EF error per method
    (rows with ``clip`` = the heart)."""
    rows = []
    hearts: dict = {}
    for clip in clips:
        for m in methods:
            try:
                out = RUNNERS[m](clip, weights)
                r = score(clip, out)
                if clip.truth.get("heart"):
                    hearts.setdefault((clip.truth["heart"], m), {})[clip.view] = (clip, out)
            except Exception as exc:  # noqa: BLE001 - an unavailable method is reported, the others still run
                r = {"clip": clip.name, "error": f"{type(exc).__name__}: {exc}"}
            r["method"] = m
            rows.append(r)
            if log:
                log(f"{clip.name} {m}: " + ", ".join(f"{k} {v:.3f}" for k, v in r.items() if isinstance(v, float)))
    for (heart, m), views in hearts.items():
        if {"A4C", "A2C"} <= set(views):
            try:
                err = biplane_ef_error(views["A4C"][0], views["A2C"][0], views["A4C"][1], views["A2C"][1])
                rows.append({"clip": heart, "method": m, "biplane_ef_abs_err": err})
            except Exception as exc:  # noqa: BLE001
                rows.append({"clip": heart, "method": m, "biplane_error": f"{type(exc).__name__}: {exc}"})
    summary = {}
    for m in methods:
        mr = [r for r in rows if r["method"] == m and "error" not in r and "frames" in r]
        bi = [r["biplane_ef_abs_err"] for r in rows if r["method"] == m and "biplane_ef_abs_err" in r]
        keys = sorted({k for r in mr for k, v in r.items() if isinstance(v, (int, float)) and k != "frames"})
        s = {k: _nanmean(r[k] for r in mr if k in r) for k in keys}
        if mr:
            s["fps"] = float(sum(r["frames"] for r in mr) / sum(r["frames"] / r["fps"] for r in mr))
            s["worst10pct_clip_dice_LV"] = float(np.mean(sorted(r["dice_LV_min_frame"] for r in mr)[: max(1, len(mr) // 10)]))
            det = [r[k] for r in mr for k in ("ed_err_frames", "es_err_frames") if k in r]
            if det:  # the target is a median (a few clips with flat area curves dominate the mean)
                s["ed_es_err_median"] = float(np.median(det))
        if bi:
            s["biplane_ef_abs_err"] = float(np.mean(bi))
            s["biplane_hearts"] = len(bi)
        s["clips"] = len(mr)
        s["errors"] = len([r for r in rows if r["method"] == m and "error" in r])
        summary[m] = s
    return {"rows": rows, "summary": summary}


COLUMNS = ("dice_LV", "dice_myocardium", "dice_LA", "dice_LV_ED", "dice_LV_ES", "dice_LV_unlabelled", "asd_LV_mm", "hd95_LV_mm",
           "si_mm", "apex_err_mm", "annulus_err_mm", "ef_abs_err", "biplane_ef_abs_err", "ed_err_frames", "es_err_frames",
           "ed_es_err_median", "view_correct", "fps")


def table(summary: dict, title: str = "") -> str:
    """A markdown table of the summary (one row per method; '-' where a method does not give the metric)."""
    lines = [f"**{title}**" if title else "", "| method | clips | " + " | ".join(COLUMNS) + " |",
             "|---" * (len(COLUMNS) + 2) + "|"]
    for m, s in summary.items():
        cells = [f"{s[c]:.3f}" if c in s and np.isfinite(s[c]) else "-" for c in COLUMNS]
        lines.append(f"| {m} | {s.get('clips', 0)} | " + " | ".join(cells) + " |")
    return "\n".join(x for x in lines if x is not None)
