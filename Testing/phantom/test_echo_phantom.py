"""The echo phantom: geometry, labels, tracked landmarks and the method-of-discs truth."""
from __future__ import annotations

import time

import numpy as np
import pytest

from cardiacmotion.errors import InputError
from cardiacmotion.io import read_image, read_labels
from cardiacmotion.io.markups import ECHO_LANDMARKS, read_markups
from cardiacmotion.phantom import make_echo_case
from cardiacmotion.phantom.echo import discs_volume_ml


@pytest.fixture(scope="module", params=["A4C", "A2C"])
def case(request):
    t0 = time.perf_counter()
    c = make_echo_case(5, view=request.param)
    print(f"echo {request.param} case: {time.perf_counter() - t0:.2f} s, {c.image.phases} frames")
    return c


def test_shapes(case):
    img, lab = case.image, case.labels
    assert img.modality == "US" and img.view in ("A4C", "A2C") and img.slices == 1
    assert 30 <= img.phases <= 120
    assert 160 <= img.rows <= 256 and 160 <= img.columns <= 256
    assert 0.3 <= img.spacing[0] <= 0.5 and abs(img.spacing[0] - img.spacing[1]) < 1e-9
    assert img.array.dtype == np.float32 and lab.array.dtype == np.uint8
    for value in (1, 2, 3):  # every label on every frame
        assert np.all((lab.array == value).reshape(lab.phases, -1).any(axis=1))
    assert case.seed.phases == 1 and np.array_equal(case.seed.array[0], lab.array[0])


def test_landmarks_tracked_on_the_right_structures(case):
    lpf = case.truth["landmarks_per_frame"]
    assert set(lpf) == set(ECHO_LANDMARKS) == set(case.landmarks)
    lab = case.labels
    for name, pts in lpf.items():
        pts = np.asarray(pts)
        assert pts.shape == (lab.phases, 3)
        np.testing.assert_allclose(pts[0], case.landmarks[name], atol=1e-3)
        ijk = lab.ras_to_ijk_points(pts)
        assert np.all(lab.contains_ijk(ijk)) and np.allclose(ijk[:, 2], 0.0, atol=1e-6)
        for t in range(0, lab.phases, 7):
            i, j = np.rint(ijk[t, :2]).astype(int)
            near = lab.array[t, 0, max(j - 3, 0):j + 4, max(i - 3, 0):i + 4]
            assert (near == 1).any() and (near == 2).any(), (name, t)  # on the endocardial border
    # the annulus moves toward the apex in systole
    t = case.truth
    assert t["lv_length_mm"][t["es_phase"]] < t["lv_length_mm"][t["ed_phase"]] - 3.0


def test_truth_equals_labels(case):
    t, lab = case.truth, case.labels
    lpf = {k: np.asarray(v) for k, v in t["landmarks_per_frame"].items()}
    for f in (0, t["es_phase"], lab.phases - 1):
        mid = 0.5 * (lpf["Mitral annulus septal"][f] + lpf["Mitral annulus lateral"][f])
        v = discs_volume_ml(lab.array[f, 0] == 1, lab, lpf["Apex"][f], mid)
        assert t["lv_volume_ml"][f] == pytest.approx(v, abs=1e-3)
        area = (lab.array[f, 0] == 1).sum() * lab.spacing[0] * lab.spacing[1]
        assert t["lv_area_mm2"][f] == pytest.approx(area, abs=1e-3)
    vols = np.asarray(t["lv_volume_ml"])
    assert t["ed_phase"] == int(np.argmax(vols)) and t["es_phase"] == int(np.argmin(vols))
    assert t["lv_ef_pct"] == pytest.approx((vols.max() - vols.min()) / vols.max() * 100, abs=1e-2)
    assert "20 discs" in t["volume_method"]


def test_save_roundtrip(case, tmp_path):
    case.save(tmp_path)
    img = read_image(tmp_path / "image.nii.gz")
    assert img.modality == "US" and img.view == case.image.view and img.phases == case.image.phases
    np.testing.assert_allclose(img.ijk_to_ras, case.image.ijk_to_ras, atol=1e-5)
    np.testing.assert_array_equal(read_labels(tmp_path / "labels.nii.gz").array, case.labels.array)
    seed = read_labels(tmp_path / "seed.nii.gz")
    assert seed.phases == 1 and seed.slices == 1 and seed.same_grid(case.image)
    np.testing.assert_array_equal(seed.array, case.seed.array)
    lm = read_markups(tmp_path / "landmarks.mrk.json")
    for k in ECHO_LANDMARKS:
        np.testing.assert_allclose(lm[k], case.landmarks[k], atol=1e-4)


def test_deterministic_and_views_differ():
    a = make_echo_case(2, "A2C", frames=30)
    b = make_echo_case(2, "A2C", frames=30)
    np.testing.assert_array_equal(a.image.array, b.image.array)
    assert a.truth == b.truth
    c = make_echo_case(2, "A4C", frames=30, image=False)
    assert not np.array_equal(a.labels.array, c.labels.array)
    with pytest.raises(InputError):
        make_echo_case(2, "PLAX")


def test_ef_spread_over_seeds():
    efs = [make_echo_case(s, "A4C", frames=30, image=False).truth["lv_ef_pct"] for s in range(6)]
    print("echo EF over seeds:", np.round(efs, 1))
    assert all(10.0 <= e <= 80.0 for e in efs) and max(efs) - min(efs) > 15.0
