"""Training-free wall-motion scoring from systolic wall thickening and endocardial excursion.

Per level slice and phase, rays are cast from an LV centre every ``360 / n_rays`` deg in the
anatomical frame. Along a ray the LV myocardium indicator is interpolated bilinearly and the
endocardial (entry) and epicardial (exit of the first myocardial run) radii are found at its 0.5
crossings, to a fraction of a pixel. Per segment (all rays of all slices of its level):

* wall thickness at ED and ES = interquantile (20-80 %) mean of ``epi - endo`` on rays from that
  phase's cavity centroid (closest to the wall normal);
* systolic wall thickening % = ``(thickness_ES - thickness_ED) / thickness_ED x 100``;
* endocardial radial excursion (mm, positive = inward) = the same mean of ``endo_ED - endo_ES`` on
  rays from the slice's ED cavity centroid carried along by the displacement of the whole-LV
  (epicardial) centroid: this follows the heart's systolic translation (a fixed centre reads a
  2 mm sway as 2 mm of outward motion on one side), while the floating cavity centroid is dragged
  towards a bulging wall and hides its outward motion;
* endocardial radial shortening % = excursion / ED endocardial radius x 100 (size-free excursion).

At ES only the slices whose myocardium still closes a full ring are measured: the base descends
4-18 mm in systole through the fixed basal slices, which then cut the valve plane or the atrium
and would read as thinning. ED is the largest LV cavity in the half cycle before ES (the
smallest): a later diastolic phase that a segmentation makes slightly larger is not ED.

Classes, two rules (:class:`Thresholds` ``rule``):

* ``'combined'`` (default): visual scoring reads both endocardial excursion and thickening, and so
  does this rule. Each measure is mapped to a continuous grade (1.5, 2.5 and 3.5 at its
  normal/hypokinetic, hypokinetic/akinetic and akinetic/dyskinetic boundaries, linear between and
  beyond), the two grades are averaged and rounded. Thickening needs the epicardium, the least
  reliable border of a segmentation (poor contrast to fat and lung, partial volume where apical
  slices cut the wall obliquely), so it weighs half at the base and mid level and a quarter at the
  apex. Before grading, each measure is normalised to the heart's own best-moving segments: when
  its 90th percentile over the 16 segments is below a typical normal value, all segments are
  scaled up by at most ``max_gain`` = 1.5 (a reader judges a segment against the remote myocardium;
  the cap keeps a diffusely hypokinetic heart hypokinetic, and corrects a propagated segmentation
  that under-follows the systolic epicardium everywhere). Weights (0.5 / 0.25), cap and quantile
  were chosen on 20 training-phantom cases (``cardiacmotion.phantom`` seeds 9000-9019) scored from
  their true labels and from the registration + extent segmentation.
* ``'thickening'``: thickening alone, normal > 30 %, hypokinetic 10-30 %, akinetic < 10 %,
  dyskinetic when the wall thins in systole beyond ``dyskinetic_thinning_pct`` or the endocardium
  moves outward beyond ``dyskinetic_outward_mm``. The two dyskinesis tolerances absorb
  segmentation noise: a pixel of boundary jitter on an 8 mm wall is about 2-4 % of thickness and a
  few tenths of a mm on the mean radius.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Mapping, Optional

import numpy as np

from cardiacmotion.cine import LV_MYO, Cine
from cardiacmotion.errors import InputError
from cardiacmotion.scoring.aha import (
    ASSESSED_IDS,
    LEVEL_IDS,
    LEVELS,
    AhaFrame,
    ed_es_of_volumes,
    lv_phase_volumes,
    orient,
    ring_slices,
    segment_level,
    segment_name,
    segment_of_angle,
)
from cardiacmotion.scoring.polar import default_radius_mm, polar_samples, sample_slice

SCORE_LABELS = {1: "normal", 2: "hypokinetic", 3: "akinetic", 4: "dyskinetic"}


RULES = ("combined", "thickening")


@dataclass
class Thresholds:
    """Class boundaries of the thickening method.

    Attributes:
        normal_pct: thickening above this is normal (score 1).
        akinetic_pct: thickening below this is akinetic (3); between the two, hypokinetic (2).
        dyskinetic_thinning_pct: thickening below ``-dyskinetic_thinning_pct`` is dyskinetic (4).
        dyskinetic_outward_mm: endocardial excursion below ``-dyskinetic_outward_mm`` is dyskinetic
            (rule ``'thickening'``).
        rule: ``'combined'`` (thickening and endocardial shortening, heart-normalised) or
            ``'thickening'`` (thickening and the outward-motion test alone).
        shortening_normal_pct, shortening_akinetic_pct: endocardial radial shortening boundaries
            normal/hypokinetic and hypokinetic/akinetic (rule ``'combined'``).
        shortening_dyskinetic_pct: outward shortening (as a positive %) at the akinetic/dyskinetic
            boundary.
        thickening_weight, apical_thickening_weight: weight of the thickening grade against the
            shortening grade at the basal and mid levels, and at the apical level.
        reference_thickening_pct, reference_shortening_pct: typical normal values the heart's
            best-moving segments are scaled towards.
        reference_quantile: the percentile over the 16 segments taken as the heart's reference.
        max_gain: largest scale factor (1 turns the normalisation off).
    """

    normal_pct: float = 30.0
    akinetic_pct: float = 10.0
    dyskinetic_thinning_pct: float = 5.0
    dyskinetic_outward_mm: float = 1.0
    rule: str = "combined"
    shortening_normal_pct: float = 20.0
    shortening_akinetic_pct: float = 4.0
    shortening_dyskinetic_pct: float = 3.0
    thickening_weight: float = 0.5
    apical_thickening_weight: float = 0.25
    reference_thickening_pct: float = 40.0
    reference_shortening_pct: float = 30.0
    reference_quantile: float = 90.0
    max_gain: float = 1.5

    def __post_init__(self) -> None:
        if not self.normal_pct > self.akinetic_pct:
            raise InputError("the normal thickening threshold must exceed the akinetic one")
        if self.dyskinetic_thinning_pct < 0 or self.dyskinetic_outward_mm < 0:
            raise InputError("dyskinesis tolerances must be >= 0")
        if self.rule not in RULES:
            raise InputError(f"unknown scoring rule {self.rule!r} (expected one of {', '.join(RULES)})")
        if not self.shortening_normal_pct > self.shortening_akinetic_pct > -self.shortening_dyskinetic_pct:
            raise InputError("shortening thresholds must decrease: normal > akinetic > -dyskinetic")
        if not (0 <= self.thickening_weight <= 1 and 0 <= self.apical_thickening_weight <= 1):
            raise InputError("thickening weights must be in 0..1")
        if self.max_gain < 1 or not 0 < self.reference_quantile <= 100:
            raise InputError("max_gain must be >= 1 and reference_quantile in (0, 100]")

    def to_dict(self) -> dict:
        return {k: (v if isinstance(v, str) else float(v)) for k, v in asdict(self).items()}


def classify(thickening_pct: float, excursion_mm: float, thresholds: Thresholds = Thresholds()) -> int:
    """Score 1-4 of one segment by the ``'thickening'`` rule."""
    if thickening_pct < -thresholds.dyskinetic_thinning_pct or excursion_mm < -thresholds.dyskinetic_outward_mm:
        return 4
    if thickening_pct > thresholds.normal_pct:
        return 1
    if thickening_pct >= thresholds.akinetic_pct:
        return 2
    return 3


def motion_grade(value: np.ndarray, dyskinetic: float, akinetic: float, normal: float) -> np.ndarray:
    """Continuous grade of a motion measure: 1.5 / 2.5 / 3.5 at its normal / akinetic / dyskinetic
    boundaries, linear between them and beyond (the end intervals' slopes), clipped to 0.5-4.5."""
    v = np.asarray(value, dtype=np.float64)
    g = np.interp(v, [dyskinetic, akinetic, normal], [3.5, 2.5, 1.5])
    g = np.where(v < dyskinetic, 3.5 + (dyskinetic - v) / (akinetic - dyskinetic), g)
    g = np.where(v > normal, 1.5 - (v - normal) / (normal - akinetic), g)
    return np.clip(g, 0.5, 4.5)


def heart_gain(values: np.ndarray, typical: float, thresholds: Thresholds) -> float:
    """Scale factor (1 to ``max_gain``) bringing the heart's reference percentile towards ``typical``."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return 1.0
    ref = float(np.percentile(v, thresholds.reference_quantile))
    return float(np.clip(typical / max(ref, 1e-6), 1.0, thresholds.max_gain))


def classify_combined(
    thickening_pct: np.ndarray, shortening_pct: np.ndarray, apical: np.ndarray, thresholds: Thresholds = Thresholds()
) -> tuple[np.ndarray, np.ndarray]:
    """Scores 1-4 and motion grades of segments by the ``'combined'`` rule (values already normalised).

    Args:
        thickening_pct, shortening_pct: per segment.
        apical: bool per segment (the apical weight applies).
    """
    t = thresholds
    g_t = motion_grade(thickening_pct, -t.dyskinetic_thinning_pct, t.akinetic_pct, t.normal_pct)
    g_s = motion_grade(shortening_pct, -t.shortening_dyskinetic_pct, t.shortening_akinetic_pct, t.shortening_normal_pct)
    w = np.where(np.asarray(apical, dtype=bool), t.apical_thickening_weight, t.thickening_weight)
    grade = w * g_t + (1 - w) * g_s
    return np.clip(np.rint(grade), 1, 4).astype(int), grade


def wall_profiles(
    seg: Cine,
    frame: AhaFrame,
    phase: int,
    n_rays: int = 360,
    step_mm: float = 0.2,
    r_max_mm: float = 80.0,
    reference: str = "wall",
) -> tuple[np.ndarray, np.ndarray]:
    """Endocardial and epicardial radii along rays, for every level slice of one phase.

    Args:
        seg: MR label map.
        frame: anatomical frame (:func:`orient`).
        phase: the phase to measure.
        n_rays: rays per slice; ray ``a`` points at anatomical angle ``(a + 0.5) * 360 / n_rays``.
        step_mm: sampling step along the rays.
        r_max_mm: ray length.
        reference: where the rays start (:meth:`AhaFrame.reference_centre`): ``'wall'`` (ED centre
            carried with the heart's translation, default), ``'fixed'`` or ``'cavity'``.
    Returns:
        ``(endo, epi)`` float ``[K, n_rays]`` in mm; NaN on slices outside the levels and on rays
        that cross no closed myocardial wall.
    """
    K = seg.slices
    endo = np.full((K, n_rays), np.nan)
    epi = np.full((K, n_rays), np.nan)
    radii = np.arange(0.0, r_max_mm + step_mm, step_mm)
    angles = (np.arange(n_rays) + 0.5) * (360.0 / n_rays)
    myo_label = LV_MYO["MR"]
    cols = np.arange(n_rays)
    for k in np.flatnonzero(frame.slice_level >= 0):
        c = frame.reference_centre(phase, int(k), reference)
        if not np.all(np.isfinite(c)):
            continue
        m = sample_slice((seg.array[phase, k] == myo_label).astype(np.float32), seg, int(k), polar_samples(frame, c, radii, angles))
        inside = m >= 0.5
        has_in = inside.any(axis=0)
        first_in = np.argmax(inside, axis=0)
        after = (~inside) & (np.arange(len(radii))[:, None] > first_in[None, :])
        has_out = after.any(axis=0)
        first_out = np.argmax(after, axis=0)
        ok = has_in & has_out

        def crossing(idx: np.ndarray) -> np.ndarray:
            lo = np.maximum(idx - 1, 0)
            m0, m1 = m[lo, cols], m[idx, cols]
            frac = np.where(np.abs(m1 - m0) > 1e-6, (0.5 - m0) / np.where(np.abs(m1 - m0) > 1e-6, m1 - m0, 1.0), 0.0)
            r = radii[lo] + np.clip(frac, 0.0, 1.0) * step_mm
            return np.where(idx == 0, 0.0, r)

        endo[k] = np.where(ok, crossing(first_in), np.nan)
        epi[k] = np.where(ok, crossing(first_out), np.nan)
    return endo, epi


def _robust_mean(values: np.ndarray, trim: float = 20.0) -> float:
    """Mean of the values between the ``trim`` and ``100 - trim`` percentiles.

    Rays grazing a step in the wall (segment borders, papillary muscles touching the wall, label
    noise) give a few wild thicknesses; the interquantile mean ignores them and stays smooth.
    """
    lo, hi = np.percentile(values, [trim, 100.0 - trim])
    keep = values[(values >= lo) & (values <= hi)]
    return float(keep.mean() if keep.size else np.median(values))


def segment_measurements(
    seg: Cine,
    frame: AhaFrame,
    ed_phase: int,
    es_phase: int,
    n_rays: int = 360,
    thickness_reference: str = "cavity",
    excursion_reference: str = "wall",
) -> dict[int, dict]:
    """Per segment: thickness at ED and ES (mm), thickening %, endocardial excursion (mm) and
    shortening %, ED endocardial radius (mm), ray count.

    Thickness is measured on rays from each phase's own cavity centroid (rays then cross the wall
    closest to its normal); excursion on rays from the ED centre carried with the heart
    (:meth:`AhaFrame.reference_centre`), so that it is a displacement in a frame that follows the
    heart's translation but not the cavity's deformation. ES values come from the level's slices
    that still hold a full myocardial ring at ES (all of the level's slices when none does).
    """
    r_max = 1.5 * default_radius_mm(seg, frame, margin=1.0) + 10.0
    # every reference coincides at ED (the ED cavity centroid): one ED profile serves both
    at_ed = wall_profiles(seg, frame, ed_phase, n_rays=n_rays, r_max_mm=r_max, reference="fixed")
    profiles = {
        ref: (at_ed, wall_profiles(seg, frame, es_phase, n_rays=n_rays, r_max_mm=r_max, reference=ref))
        for ref in {thickness_reference, excursion_reference}
    }
    (endo_d, epi_d), (endo_s, epi_s) = profiles[thickness_reference]
    (xendo_d, _), (xendo_s, _) = profiles[excursion_reference]
    ring_es = ring_slices(seg, frame, es_phase)
    angles = (np.arange(n_rays) + 0.5) * (360.0 / n_rays)
    out: dict[int, dict] = {}
    for li, level in enumerate(LEVELS):
        ks = np.flatnonzero(frame.slice_level == li)
        ks_es = ks[ring_es[ks]] if ring_es[ks].any() else ks
        ids = segment_of_angle(angles, level, frame.septal_arc_deg)
        for seg_id in LEVEL_IDS[level]:
            cols = ids == seg_id
            th_d = (epi_d[ks][:, cols] - endo_d[ks][:, cols]).ravel()
            th_s = (epi_s[ks_es][:, cols] - endo_s[ks_es][:, cols]).ravel()
            exc = (xendo_d[ks_es][:, cols] - xendo_s[ks_es][:, cols]).ravel()
            r_ed = xendo_d[ks_es][:, cols].ravel()
            th_d, th_s = th_d[np.isfinite(th_d)], th_s[np.isfinite(th_s)]
            moved = np.isfinite(exc)
            if th_d.size == 0 or th_s.size == 0 or moved.sum() == 0:
                out[seg_id] = {"rays": 0}
                continue
            ted, tes = _robust_mean(th_d), _robust_mean(th_s)
            excursion = _robust_mean(exc[moved])
            radius = _robust_mean(r_ed[moved])
            out[seg_id] = {
                "rays": int(th_d.size),
                "wall_thickness_ed_mm": ted,
                "wall_thickness_es_mm": tes,
                "thickening_pct": (tes - ted) / max(ted, 1e-6) * 100.0,
                "endocardial_excursion_mm": excursion,
                "endocardial_radius_ed_mm": radius,
                "endocardial_shortening_pct": excursion / max(radius, 1e-6) * 100.0,
            }
    return out


def ed_es_phases(seg: Cine) -> tuple[int, int]:
    """ED and ES of the segmentation's LV cavity voxel counts (:func:`~cardiacmotion.scoring.aha.ed_es_of_volumes`)."""
    vol = lv_phase_volumes(seg)
    if vol.max() == 0:
        raise InputError("the segmentation holds no LV cavity")
    return ed_es_of_volumes(vol)


def score_thickening(
    image: Optional[Cine],
    seg: Cine,
    landmarks: Mapping[str, np.ndarray],
    ed_phase: Optional[int] = None,
    es_phase: Optional[int] = None,
    thresholds: Optional[Thresholds] = None,
    n_rays: int = 360,
    thickness_reference: str = "cavity",
    excursion_reference: str = "wall",
) -> dict:
    """Score the 16 AHA segments from the segmentation's wall motion (SCORES.json shape; module doc).

    Args:
        image: the cine (only its grid is checked; ``None`` to skip).
        seg: MR label map ``[T, K, J, I]`` (ACDC labels) on the image grid.
        landmarks: the three MR landmarks (RAS).
        ed_phase, es_phase: default from the LV cavity volume curve (:func:`ed_es_phases`).
        thresholds: class boundaries (default :class:`Thresholds`).
        n_rays: rays per slice.
        thickness_reference, excursion_reference: ray origins per phase for the two measurements
            (:meth:`AhaFrame.reference_centre`: ``'cavity'``, ``'wall'`` or ``'fixed'``).
    Returns:
        dict with ``segments`` (16 objects: id, name, level, score, label, abnormal,
        thickening_pct, endocardial_excursion_mm, endocardial_shortening_pct, wall_thickness_ed_mm,
        wall_thickness_es_mm, motion_grade (rule 'combined'), rays), ``motion_score_index``,
        ``abnormal_segments``, ``method``, ``ed_phase``, ``es_phase``, ``thresholds``, ``rule``,
        ``heart_gains`` (the normalisation factors applied), ``not_assessed`` (segment 17), ``orientation``.
    """
    if image is not None and (not image.same_grid(seg) or image.phases != seg.phases):
        raise InputError("the segmentation is not on the image grid (shape, phases or geometry differ)")
    thresholds = thresholds or Thresholds()
    d_ed, d_es = ed_es_phases(seg)
    ed = d_ed if ed_phase is None else int(ed_phase)
    es = d_es if es_phase is None else int(es_phase)
    for name, p in (("ED", ed), ("ES", es)):
        if not 0 <= p < seg.phases:
            raise InputError(f"{name} phase {p} is outside 0..{seg.phases - 1}")
    if ed == es:
        raise InputError(f"ED and ES are the same phase ({ed}): the LV does not contract in this segmentation")
    frame = orient(seg, landmarks, ed)
    meas = segment_measurements(
        seg, frame, ed, es, n_rays=n_rays, thickness_reference=thickness_reference, excursion_reference=excursion_reference
    )
    measured = [i for i in ASSESSED_IDS if meas.get(i, {"rays": 0})["rays"] > 0]
    thick = np.array([meas[i]["thickening_pct"] for i in measured])
    short = np.array([meas[i]["endocardial_shortening_pct"] for i in measured])
    gains = {"thickening": 1.0, "shortening": 1.0}
    grades: dict[int, float] = {}
    scores: dict[int, int] = {}
    if thresholds.rule == "combined" and measured:
        gains = {"thickening": heart_gain(thick, thresholds.reference_thickening_pct, thresholds),
                 "shortening": heart_gain(short, thresholds.reference_shortening_pct, thresholds)}
        apical = np.array([segment_level(i) == "apical" for i in measured])
        cls, grade = classify_combined(thick * gains["thickening"], short * gains["shortening"], apical, thresholds)
        scores = {i: int(c) for i, c in zip(measured, cls)}
        grades = {i: float(g) for i, g in zip(measured, grade)}
    else:
        scores = {i: classify(meas[i]["thickening_pct"], meas[i]["endocardial_excursion_mm"], thresholds) for i in measured}
    segments = []
    for seg_id in ASSESSED_IDS:
        m = meas.get(seg_id, {"rays": 0})
        item = {"id": seg_id, "name": segment_name(seg_id), "level": segment_level(seg_id)}
        if m["rays"] == 0:
            item.update(score=None, label="not assessed", abnormal=None, thickening_pct=None,
                        endocardial_excursion_mm=None, endocardial_shortening_pct=None, wall_thickness_ed_mm=None,
                        wall_thickness_es_mm=None, motion_grade=None, rays=0)
        else:
            score = scores[seg_id]
            item.update(
                score=score,
                label=SCORE_LABELS[score],
                abnormal=score >= 2,
                thickening_pct=round(m["thickening_pct"], 2),
                endocardial_excursion_mm=round(m["endocardial_excursion_mm"], 3),
                endocardial_shortening_pct=round(m["endocardial_shortening_pct"], 2),
                wall_thickness_ed_mm=round(m["wall_thickness_ed_mm"], 3),
                wall_thickness_es_mm=round(m["wall_thickness_es_mm"], 3),
                motion_grade=round(grades[seg_id], 3) if seg_id in grades else None,
                rays=m["rays"],
            )
        segments.append(item)
    scored = [s["score"] for s in segments if s["score"] is not None]
    if not scored:
        raise InputError("no segment could be measured: check the segmentation and the landmarks")
    return {
        "method": "thickening",
        "segments": segments,
        "motion_score_index": round(float(np.mean(scored)), 4),
        "abnormal_segments": [s["id"] for s in segments if s["abnormal"]],
        "not_assessed": [{"id": 17, "name": "apex", "reason": "no short-axis slice with an LV cavity (AHA apex cap)"}]
        + [{"id": s["id"], "name": s["name"], "reason": "no measurable wall"} for s in segments if s["score"] is None],
        "ed_phase": ed,
        "es_phase": es,
        "thresholds": thresholds.to_dict(),
        "rule": thresholds.rule,
        "heart_gains": {k: round(v, 4) for k, v in gains.items()},
        "references": {"thickness": thickness_reference, "excursion": excursion_reference},
        "orientation": frame.describe(),
    }
