"""The independent echo generator: disc volumes equal the product's on its labels, views, landmarks."""
from __future__ import annotations

import numpy as np
import pytest

from cardiacmotion.function.report import compute_function
from cardiacmotion.independent import generate_echo
from cardiacmotion.io.markups import ECHO_LANDMARKS, read_markups
from cardiacmotion.io.nifti import read_nifti

FAST = {"pixel_mm": 0.8, "fps": 30.0, "cycles": 1.0, "beams": 96}


@pytest.fixture(scope="module")
def pair():
    return generate_echo(2, "A4C", **FAST), generate_echo(2, "A2C", **FAST)


def test_truth_equals_labels_by_the_products_method_of_discs(pair):
    for case in pair:
        t = case.truth
        f = compute_function(case.labels, landmarks_per_frame=t["landmarks_per_frame"])
        assert f["ed_phase"] == t["ed_phase"] and f["es_phase"] == t["es_phase"]
        for key in ("lv_edv_ml", "lv_esv_ml", "lv_ef_pct"):
            assert abs(f[key] - t[key]) <= 0.005 * abs(t[key]), key
        assert np.allclose(f["lv_volume_ml"], t["lv_volume_ml"], rtol=0.005)
        # the discs track the model's own 3D cavity volume roughly (a single plane is not the volume)
        assert 0.6 < t["lv_edv_ml"] / max(t["lv_volume_3d_ml"]) < 1.5
        assert abs(t["lv_ef_pct"] - t["lv_ef_3d_pct"]) < 15


def test_clip_content(pair):
    for case, view in zip(pair, ("A4C", "A2C")):
        img, lab, t = case.image, case.labels, case.truth
        assert img.modality == "US" and img.view == view and img.slices == 1
        assert img.array.dtype == np.float32 and np.isfinite(img.array).all() and 0 <= img.array.min() and img.array.max() <= 255
        assert set(np.unique(lab.array)) == {0, 1, 2, 3}
        # frame rate 30-60 fps and at least one cycle
        dt = np.diff(img.frame_times_ms)
        assert np.allclose(dt, dt[0]) and 1000 / 60 - 1e-6 <= dt[0] <= 1000 / 30 + 1e-6
        assert img.frame_times_ms[-1] + dt[0] >= t["rr_ms"]
        # landmarks on every frame, in the image plane, apex above (shallower than) the annulus
        for name in ECHO_LANDMARKS:
            pts = np.asarray(t["landmarks_per_frame"][name])
            assert pts.shape == (img.phases, 3)
            ijk = img.ras_to_ijk_points(pts)
            assert np.allclose(ijk[:, 2], 0, atol=1e-6) and img.contains_ijk(ijk).all()
        apex_j = img.ras_to_ijk_points(np.asarray(t["landmarks_per_frame"]["Apex"]))[:, 1]
        base_j = img.ras_to_ijk_points(np.asarray(t["landmarks_per_frame"]["Mitral annulus septal"]))[:, 1]
        assert (apex_j < base_j).all()
        # blood is dark and myocardium bright in the image
        ed = t["ed_phase"]
        frame, labels = img.array[ed, 0], lab.array[ed, 0]
        assert np.median(frame[labels == 2]) > 2 * np.median(frame[labels == 1]) + 10
        assert case.seed.array.shape[0] == 1 and np.array_equal(case.seed.array[0], lab.array[ed])
        assert set(case.landmarks) == set(ECHO_LANDMARKS)


def test_same_heart_in_both_views_and_deterministic(pair):
    a4c, a2c = pair
    assert a4c.truth["heart_parameters"] == a2c.truth["heart_parameters"]
    again = generate_echo(2, "A2C", **FAST)
    assert np.array_equal(again.image.array, a2c.image.array) and np.array_equal(again.labels.array, a2c.labels.array)
    # both views share the clip timing, so the pair is a biplane study the product accepts
    assert np.array_equal(a4c.image.frame_times_ms, a2c.image.frame_times_ms)
    f = compute_function(a4c.labels, landmarks_per_frame=a4c.truth["landmarks_per_frame"],
                         second_view=(a2c.labels, a2c.truth["landmarks_per_frame"]))
    assert 10 < f["lv_ef_pct"] < 90 and "biplane" in f["method"].lower()


def test_save_round_trip(pair, tmp_path):
    case = pair[0]
    case.save(tmp_path)
    img = read_nifti(tmp_path / "image.nii.gz")
    assert img.array.shape == case.image.array.shape and img.modality == "US" and img.view == "A4C"
    lm = read_markups(tmp_path / "landmarks.mrk.json")
    for n in ECHO_LANDMARKS:
        assert np.allclose(lm[n], case.landmarks[n], atol=1e-4)


def test_refusals():
    from cardiacmotion.errors import InputError

    with pytest.raises(InputError):
        generate_echo(1, "PLAX")
    with pytest.raises(InputError):
        generate_echo(1, "A4C", not_a_parameter=3)
