"""The MR phantom: determinism, truth equal to the labels, geometry and landmarks."""
from __future__ import annotations

import json
import time

import numpy as np
import pytest

from cardiacmotion.io import read_image, read_labels
from cardiacmotion.io.markups import MR_LANDMARKS, read_markups
from cardiacmotion.phantom import make_mr_case


@pytest.fixture(scope="module")
def case():
    t0 = time.perf_counter()
    c = make_mr_case(3)
    print(f"MR case: {time.perf_counter() - t0:.2f} s")
    return c


def test_shapes_and_ranges(case):
    img, lab = case.image, case.labels
    assert img.array.dtype == np.float32 and lab.array.dtype == np.uint8
    assert img.modality == "MR" and img.view == "SAX"
    assert 20 <= img.phases <= 30 and 8 <= img.slices <= 20
    assert 128 <= img.rows <= 192 and img.rows == img.columns
    sx, sy, sz = img.spacing
    assert 1.3 <= sx <= 1.8 and abs(sx - sy) < 1e-9 and 6.0 <= sz <= 10.0
    assert lab.array.shape == img.array.shape and set(np.unique(lab.array)) <= {0, 1, 2, 3}
    assert case.seed.phases == 1 and case.seed_phase == 0


def test_truth_equals_labels(case):
    t, lab = case.truth, case.labels
    vox = lab.voxel_volume_ml
    lv = [(lab.array[p] == 3).sum() * vox for p in range(lab.phases)]
    np.testing.assert_allclose(t["lv_volume_ml"], lv, atol=1e-3)
    assert t["ed_phase"] == int(np.argmax(lv)) == 0 and t["es_phase"] == int(np.argmin(lv))
    assert t["lv_edv_ml"] == pytest.approx(max(lv), abs=1e-3)
    assert t["lv_ef_pct"] == pytest.approx((max(lv) - min(lv)) / max(lv) * 100, abs=1e-2)
    assert t["lv_mass_g"] == pytest.approx((lab.array[0] == 2).sum() * vox * 1.05, abs=1e-3)
    assert len(t["segments"]) == 16 and all(s["score"] in (1, 2, 3, 4) for s in t["segments"])


def test_deterministic():
    a, b = make_mr_case(11, phases=20, slices=8, grid=128), make_mr_case(11, phases=20, slices=8, grid=128)
    np.testing.assert_array_equal(a.image.array, b.image.array)
    np.testing.assert_array_equal(a.labels.array, b.labels.array)
    assert a.truth == b.truth


def test_save_roundtrip(case, tmp_path):
    case.save(tmp_path)
    img = read_image(tmp_path / "image.nii.gz")
    np.testing.assert_allclose(img.ijk_to_ras, case.image.ijk_to_ras, atol=1e-4)
    lab = read_labels(tmp_path / "labels.nii.gz")
    np.testing.assert_array_equal(lab.array, case.labels.array)
    lm = read_markups(tmp_path / "landmarks.mrk.json")
    assert set(lm) == set(MR_LANDMARKS)
    for k in MR_LANDMARKS:
        np.testing.assert_allclose(lm[k], case.landmarks[k], atol=1e-4)
    seed = read_labels(tmp_path / "seed.nii.gz")
    assert seed.phases == 1 and seed.same_grid(case.image)
    np.testing.assert_array_equal(seed.array, case.seed.array)
    truth = json.loads((tmp_path / "truth.json").read_text())
    assert truth["lv_edv_ml"] == case.truth["lv_edv_ml"]
