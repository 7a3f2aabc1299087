"""MR disc summation against label maps whose volumes are known from their box sides."""
from __future__ import annotations

import numpy as np
import pytest

from cardiacmotion.cine import Cine
from cardiacmotion.errors import InputError
from cardiacmotion.function import compute_function
from cardiacmotion.function.volumes import slice_spacing_mm
from fn_helpers import mr_box_case


def _ef(edv, esv):
    return (edv - esv) / edv * 100.0


def test_mr_boxes_exact_volumes_ef_mass():
    seg, truth = mr_box_case()
    r = compute_function(seg)
    assert (r["ed_phase"], r["es_phase"]) == (truth["ed"], truth["es"])
    np.testing.assert_allclose(r["lv_volume_ml"], truth["lv"], atol=1e-3)
    np.testing.assert_allclose(r["rv_volume_ml"], truth["rv"], atol=1e-3)
    assert abs(r["lv_edv_ml"] - truth["lv"][0]) <= 0.5 and abs(r["lv_esv_ml"] - truth["lv"][4]) <= 0.5
    assert abs(r["lv_ef_pct"] - _ef(truth["lv"][0], truth["lv"][4])) <= 0.2
    assert abs(r["rv_ef_pct"] - _ef(truth["rv"][0], truth["rv"][4])) <= 0.2
    assert abs(r["lv_sv_ml"] - (truth["lv"][0] - truth["lv"][4])) <= 1e-3
    assert abs(r["rv_sv_ml"] - (truth["rv"][0] - truth["rv"][4])) <= 1e-3
    assert abs(r["lv_mass_g"] - truth["mass"]) <= 0.5
    assert r["ed_time_ms"] == 0.0 and r["es_time_ms"] == 4 * 85.0
    assert r["heart_rate_bpm"] == pytest.approx(60000 / 850.0, abs=0.01)
    assert r["warnings"] == []
    assert "disc summation" in r["method"] and "largest/smallest" in r["method"]


def test_slice_spacing_from_geometry_not_thickness():
    # a 6 mm slice spacing on an oblique grid: |k column| whatever the tags said
    seg, truth = mr_box_case(spacing=(1.25, 1.25, 6.0))
    seg.meta["SliceThickness"] = 10.0
    assert slice_spacing_mm(seg) == pytest.approx(6.0)
    r = compute_function(seg)
    np.testing.assert_allclose(r["lv_volume_ml"], truth["lv"], atol=1e-3)


def test_empty_slice_contributes_zero():
    seg, truth = mr_box_case()
    assert not seg.array[:, 0].any()  # slices 0, 1 and 9 are empty in every phase
    r = compute_function(seg)
    np.testing.assert_allclose(r["lv_volume_ml"], truth["lv"], atol=1e-3)


def test_missing_phase_is_interpolated_with_warning():
    seg, truth = mr_box_case()
    arr = seg.array.copy()
    arr[6] = 0  # a phase lost entirely
    r = compute_function(seg.with_array(arr))
    assert any("phase(s) 6" in w and "interpolated" in w for w in r["warnings"])
    assert r["lv_volume_ml"][6] == pytest.approx((truth["lv"][5] + truth["lv"][7]) / 2, abs=1e-3)
    assert (r["ed_phase"], r["es_phase"]) == (0, 4)


def test_missing_es_like_phase_is_never_chosen():
    seg, _ = mr_box_case()
    arr = seg.array.copy()
    arr[4] = 0  # the true ES phase is empty: ES must be the smallest *segmented* phase
    r = compute_function(seg.with_array(arr))
    assert r["es_phase"] == 5


def test_trigger_time_phases_override_and_are_stated():
    seg, truth = mr_box_case()
    r = compute_function(seg, ed_phase=1, es_phase=3)
    assert (r["ed_phase"], r["es_phase"]) == (1, 3)
    assert "trigger times" in r["method"]
    assert r["lv_edv_ml"] == pytest.approx(truth["lv"][1], abs=1e-3)


def test_single_frame_is_refused():
    seg, _ = mr_box_case()
    one = Cine(seg.array[:1], seg.ijk_to_ras, [0.0], modality="MR")
    with pytest.raises(InputError, match="at least 2 phases"):
        compute_function(one)


def test_no_lv_label_and_unknown_labels_are_refused():
    seg, _ = mr_box_case()
    arr = seg.array.copy()
    arr[arr == 3] = 0
    with pytest.raises(InputError, match="no LV cavity"):
        compute_function(seg.with_array(arr))
    arr = seg.array.copy()
    arr[0, 3, 0, 0] = 7
    with pytest.raises(InputError, match=r"unknown labels \[7\]"):
        compute_function(seg.with_array(arr))
    with pytest.raises(InputError, match="not a label map"):
        compute_function(seg.with_array(seg.array.astype(np.float32) + 0.5))


def test_no_rv_and_no_myocardium_are_reported_as_none():
    seg, _ = mr_box_case()
    arr = seg.array.copy()
    arr[(arr == 1) | (arr == 2)] = 0
    r = compute_function(seg.with_array(arr))
    assert r["rv_volume_ml"] is None and r["rv_ef_pct"] is None and r["lv_mass_g"] is None
    assert any("RV" in w for w in r["warnings"]) and any("mass" in w for w in r["warnings"])


def test_mostly_unsegmented_curve_has_no_rates():
    seg, truth = mr_box_case()
    arr = seg.array.copy()
    arr[[1, 2, 3, 5, 6, 7, 8, 9]] = 0  # contours at ED and ES only, like expert contours
    r = compute_function(seg.with_array(arr))
    assert (r["ed_phase"], r["es_phase"]) == (0, 4)
    assert abs(r["lv_ef_pct"] - (truth["lv"][0] - truth["lv"][4]) / truth["lv"][0] * 100) <= 0.2
    assert r["peak_ejection_rate_ml_s"] is None and r["peak_filling_rate_ml_s"] is None
    assert any("2 of 10 phases" in w for w in r["warnings"])


def test_heart_rate_from_dicom_rr_when_known():
    seg, _ = mr_box_case()
    seg.meta["rr_interval_ms"] = [800.0, None, 750.0, 760.0]
    assert compute_function(seg)["heart_rate_bpm"] == pytest.approx(60000 / 760.0, abs=0.01)
    # frame times that are only the reader's placeholder give no heart rate and say so
    from cardiacmotion.cine import default_frame_times

    seg2, _ = mr_box_case()
    seg2.frame_times_ms = default_frame_times(seg2.phases)
    r = compute_function(seg2)
    assert r["heart_rate_bpm"] is None and any("frame times unknown" in w for w in r["warnings"])


def test_given_phase_without_segmentation_is_flagged():
    seg, _ = mr_box_case()
    arr = seg.array.copy()
    arr[3] = 0
    r = compute_function(seg.with_array(arr), es_phase=3)
    assert r["es_phase"] == 3 and any("given ES phase 3" in w for w in r["warnings"])
    with pytest.raises(InputError, match="out of range"):
        compute_function(seg, ed_phase=10)


def test_rv_at_its_own_extremes_unless_phases_are_given():
    seg, truth = mr_box_case()
    arr = seg.array.copy()
    arr[5][arr[5] == 1] = 0  # shrink the RV at phase 5: its end-systole is one phase after the LV's
    for s in range(2, 9):
        arr[5, s, 12:17, 36:42] = 1  # 5 x 6 pixels per slice
    r = compute_function(seg.with_array(arr))
    rv_es = 5 * 6 * 7 * 1.25 * 1.25 * 10.0 / 1000.0
    assert r["es_phase"] == 4 and r["rv_esv_ml"] == pytest.approx(rv_es, abs=1e-3)
    assert r["rv_edv_ml"] == pytest.approx(truth["rv"][0], abs=1e-3)
    assert "largest/smallest RV volume" in r["method"]
    given = compute_function(seg.with_array(arr), ed_phase=0, es_phase=4)
    assert given["rv_esv_ml"] == pytest.approx(truth["rv"][4], abs=1e-3)
