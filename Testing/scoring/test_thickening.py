"""Thickening measurements and classes on constructed rings of known thickness."""
from __future__ import annotations

import numpy as np
import pytest

from cardiacmotion.errors import InputError
from cardiacmotion.scoring.thickening import Thresholds, classify, classify_combined, ed_es_phases, motion_grade, score_thickening
from scoring_hearts import make_heart, rotation, truth_segment

# systolic thickening fraction of each segment (ED wall 8 mm, epicardium fixed)
FRACTION = dict(zip(range(1, 17), [0.5, 0.4, 0.2, 0.05, -0.15, 0.35, 0.5, 0.45, 0.25, 0.0, 0.6, 0.2, 0.5, 0.15, 0.02, 0.7]))
EXPECTED = {s: (4 if f < -0.05 else 1 if f > 0.3 else 2 if f >= 0.1 else 3) for s, f in FRACTION.items()}


def _wall(lvl, psi, t, septal_arc=120.0):
    out = np.full(psi.shape, 8.0)
    for level in range(3):
        ids = truth_segment(psi, level, septal_arc)
        for seg_id, f in FRACTION.items():
            out[(lvl == level) & (ids == seg_id)] = 8.0 * (1 + f)
    return out


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"direction": rotation([0.3, -0.5, 0.8], 57.0) @ np.diag([-1.0, 1, 1]), "spacing": (1.3, 1.6, 7.0), "anterior_deg": 140.0}],
)
def test_known_thickening_is_measured(kwargs):
    heart = make_heart(wall=_wall, phases=3, **kwargs)
    # phase 2 = ED again: ED/ES must come from the volumes (0 or 2 is ED, 1 is ES)
    heart.labels.array[2] = heart.labels.array[0]
    out = score_thickening(heart.image, heart.labels, heart.landmarks, thresholds=Thresholds(rule="thickening"))
    assert out["es_phase"] == 1 and out["ed_phase"] in (0, 2)
    assert len(out["segments"]) == 16 and out["method"] == "thickening"
    for s in out["segments"]:
        assert s["wall_thickness_ed_mm"] == pytest.approx(8.0, abs=0.35)
        assert s["thickening_pct"] == pytest.approx(100 * FRACTION[s["id"]], abs=7.0), s
        # the epicardium is fixed, so the endocardium moves in by the thickness gained
        assert s["endocardial_excursion_mm"] == pytest.approx(8.0 * FRACTION[s["id"]], abs=0.6), s
        assert s["score"] == EXPECTED[s["id"]], s
        assert s["abnormal"] == (s["score"] >= 2)
    assert out["motion_score_index"] == pytest.approx(np.mean(list(EXPECTED.values())))
    assert out["not_assessed"][0]["id"] == 17


def test_outward_motion_without_thinning_is_dyskinetic():
    # whole wall moves outward by 2.5 mm in the inferior (4, 10) and apical inferior (15) segments
    def shift(lvl, psi, t):
        out = np.zeros(psi.shape)
        for level, seg_id in ((0, 4), (1, 10), (2, 15)):
            out[(lvl == level) & (truth_segment(psi, level, 120.0) == seg_id)] = 2.5
        # the other walls contract: endocardium in by 3 mm
        return np.where(out > 0, out, -3.0)

    def wall(lvl, psi, t):
        base = np.full(psi.shape, 8.0 * 1.4)
        for level, seg_id in ((0, 4), (1, 10), (2, 15)):
            base[(lvl == level) & (truth_segment(psi, level, 120.0) == seg_id)] = 8.0
        return base

    heart = make_heart(wall=wall, endo_shift=shift, phases=2)
    out = score_thickening(heart.image, heart.labels, heart.landmarks, ed_phase=0, es_phase=1)
    by_id = {s["id"]: s for s in out["segments"]}
    for seg_id in (4, 10, 15):
        # 2.5 mm outward; the whole-LV centroid follows the bulge by about 0.8 (60 deg) to 1.1 mm (90 deg)
        assert -2.6 < by_id[seg_id]["endocardial_excursion_mm"] < -1.2
        assert by_id[seg_id]["score"] == 4
    assert by_id[7]["score"] == 1 and by_id[1]["endocardial_excursion_mm"] > 2.0


def test_classify_thresholds():
    t = Thresholds()
    assert classify(45.0, 3.0, t) == 1
    assert classify(30.0, 2.0, t) == 2
    assert classify(10.0, 1.0, t) == 2
    assert classify(9.9, 0.5, t) == 3
    assert classify(-4.0, -0.5, t) == 3
    assert classify(-6.0, 0.5, t) == 4
    assert classify(20.0, -1.5, t) == 4
    strict = Thresholds(normal_pct=40.0, akinetic_pct=15.0)
    assert classify(35.0, 2.0, strict) == 2
    with pytest.raises(InputError):
        Thresholds(normal_pct=10.0, akinetic_pct=20.0)


def test_same_ed_es_is_refused():
    heart = make_heart(phases=2)
    with pytest.raises(InputError, match="same phase"):
        score_thickening(heart.image, heart.labels, heart.landmarks, ed_phase=1, es_phase=1)


def test_motion_grade_and_combined_rule():
    # grades 1.5 / 2.5 / 3.5 at the normal / akinetic / dyskinetic boundaries, linear beyond
    assert motion_grade(np.array([30.0, 10.0, -5.0, 50.0, -20.0]), -5.0, 10.0, 30.0) == pytest.approx([1.5, 2.5, 3.5, 0.5, 4.5])
    t = Thresholds()
    # thickening under-read (18 %) but the endocardium moves in like a normal wall (30 %): normal
    cls, grade = classify_combined(np.array([18.0, 18.0, 0.0, -10.0]), np.array([30.0, 8.0, 1.0, -6.0]),
                                   np.array([False, False, False, True]), t)
    assert cls.tolist() == [1, 2, 3, 4]
    assert grade[0] < 1.5 < grade[1] < 2.5 < grade[2] < 3.5 < grade[3]


def test_combined_rule_scores_known_motion():
    # the constructed heart with the epicardium fixed: both measures agree on the clear segments
    heart = make_heart(wall=_wall, phases=2)
    out = score_thickening(heart.image, heart.labels, heart.landmarks, ed_phase=0, es_phase=1)
    assert out["rule"] == "combined" and set(out["heart_gains"]) == {"thickening", "shortening"}
    by_id = {s["id"]: s for s in out["segments"]}
    for seg_id in (1, 7, 11, 16):  # thickening 50-70 %
        assert by_id[seg_id]["score"] == 1, by_id[seg_id]
    assert by_id[5]["score"] == 4 and by_id[10]["score"] == 3 and by_id[15]["score"] == 3
    for s in out["segments"]:
        if abs(s["endocardial_excursion_mm"]) > 0.5:  # shortening is excursion over the ED endocardial radius
            assert 10.0 < s["endocardial_excursion_mm"] / s["endocardial_shortening_pct"] * 100 < 40.0


def test_ed_is_the_largest_cavity_before_es():
    # a diastolic phase made larger than the true ED (phase 0) by the segmentation is not ED
    heart = make_heart(wall=_wall, phases=2)
    arr = heart.labels.array
    ed, es = arr[0], arr[1]
    grown = ed.copy()
    grown[(grown == 2)] = 3  # bigger cavity
    seq = np.stack([ed, es, es, grown, ed, ed, ed, ed])  # ES at 1; phase 3 lies after ES
    from cardiacmotion.cine import Cine

    seg = Cine(seq, heart.labels.ijk_to_ras, frame_times_ms=np.arange(8) * 40.0, modality="MR")
    assert ed_es_phases(seg) == (0, 1)
