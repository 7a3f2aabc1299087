"""The independent MR generator: truth equals its labels, determinism, ranges, realism checks."""
from __future__ import annotations

import numpy as np
import pytest

from cardiacmotion.function.report import compute_function
from cardiacmotion.independent import generate_mr
from cardiacmotion.independent.mr import draw_mr
from cardiacmotion.io.markups import MR_LANDMARKS, read_markups
from cardiacmotion.io.nifti import read_nifti

# coarse pixels keep the rendering fast; the heart and the stack are the same as at full size
FAST = {"pixel_mm": 2.2, "fov_mm": 260.0}


@pytest.fixture(scope="module")
def cases():
    return {s: generate_mr(s, **FAST) for s in (0, 3)}


def _rel(a, b):
    return abs(a - b) / max(abs(b), 1e-9)


def test_truth_equals_labels(cases):
    for case in cases.values():
        f = compute_function(case.labels)
        t = case.truth
        assert f["ed_phase"] == t["ed_phase"] and f["es_phase"] == t["es_phase"]
        for key in ("lv_edv_ml", "lv_esv_ml", "lv_ef_pct", "lv_mass_g", "rv_edv_ml", "rv_esv_ml", "rv_ef_pct"):
            assert _rel(f[key], t[key]) <= 0.005, key
        assert np.allclose(f["lv_volume_ml"], t["lv_volume_ml"], rtol=0.005, atol=0.05)
        # disc summation written out by hand: cavity area x slice spacing
        lab = case.labels
        area = np.linalg.norm(np.cross(lab.ijk_to_ras[:3, 0], lab.ijk_to_ras[:3, 1]))
        edv = (lab.array[t["ed_phase"]] == 3).sum() * area * t["slice_spacing_mm"] / 1000.0
        assert _rel(edv, t["lv_edv_ml"]) < 1e-9


def test_case_content(cases):
    for case in cases.values():
        img, lab, t = case.image, case.labels, case.truth
        assert img.array.dtype == np.float32 and np.isfinite(img.array).all() and img.array.max() > 0
        assert lab.array.dtype == np.uint8 and set(np.unique(lab.array)) <= {0, 1, 2, 3}
        assert lab.array.shape == img.array.shape and img.modality == "MR" and img.view == "SAX"
        assert 20 <= img.phases <= 30
        # every phase labelled; the seed holds the mid ED slice only
        assert all((lab.array[p] == 3).any() for p in range(img.phases))
        seeded = np.flatnonzero(case.seed.array[0].any(axis=(1, 2)))
        assert seeded.tolist() == [t["seed_slice"]] and case.seed_phase == t["ed_phase"]
        ks = t["lv_cavity_slices"][t["ed_phase"]]
        assert ks[0] < t["seed_slice"] < ks[-1]
        assert np.array_equal(case.seed.array[0, t["seed_slice"]], lab.array[t["ed_phase"], t["seed_slice"]])
        # the landmarks lie on the seed slice, the insertions on either side of the LV centre
        assert set(case.landmarks) == set(MR_LANDMARKS)
        ijk = img.ras_to_ijk_points(np.array([case.landmarks[n] for n in MR_LANDMARKS]))
        assert np.allclose(ijk[:, 2], t["seed_slice"], atol=1e-6)
        lv = np.array(case.landmarks["LV center"])
        d = [np.linalg.norm(case.landmarks[n] - lv) for n in MR_LANDMARKS[:2]]
        assert all(15 < v < 70 for v in d)
        assert len(t["wall_motion"]) == 16 and set(t["wall_motion"].values()) <= {1, 2, 3, 4}
        assert 20 < t["lv_ef_pct"] < 85 and 60 < t["lv_edv_ml"] < 300


def test_base_descent_empties_basal_slice_at_es(cases):
    # seeds 0 and 3 have their first slice within the base descent: LV at ED, atrium/LVOT at ES
    emptied = [c for c in cases.values() if 0 in c.truth["lv_cavity_slices"][c.truth["ed_phase"]]
               and 0 not in c.truth["lv_cavity_slices"][c.truth["es_phase"]]]
    assert emptied
    # and the apical cavity shrinks: fewer cavity slices at ES than at ED somewhere
    assert any(len(c.truth["lv_cavity_slices"][c.truth["es_phase"]]) < len(c.truth["lv_cavity_slices"][c.truth["ed_phase"]])
               for c in cases.values())


def test_deterministic():
    a = generate_mr(3, pixel_mm=2.2, fov_mm=200.0, phases=20)
    b = generate_mr(3, pixel_mm=2.2, fov_mm=200.0, phases=20)
    assert np.array_equal(a.image.array, b.image.array) and np.array_equal(a.labels.array, b.labels.array)
    assert a.truth["lv_edv_ml"] == b.truth["lv_edv_ml"]
    c = generate_mr(5, pixel_mm=2.2, fov_mm=200.0, phases=20)
    assert not np.array_equal(a.labels.array[0], c.labels.array[0]) or a.labels.array.shape != c.labels.array.shape


def test_parameter_ranges_over_seeds():
    draws = [draw_mr(s) for s in range(12)]
    descent = [d.heart.base_descent_mm for d in draws]
    spacing = [d.scan.slice_spacing_mm for d in draws]
    assert 4.0 <= min(descent) and max(descent) <= 18.0 and max(descent) - min(descent) > 6.0
    assert 6.0 <= min(spacing) and max(spacing) <= 10.0 and max(spacing) - min(spacing) > 2.0
    assert all(5.0 <= d.scan.slice_thickness_mm <= 10.0 and 1.2 <= d.scan.pixel_mm <= 2.2 for d in draws)
    assert len({d.heart.pathology for d in draws}) >= 3
    for d in draws:
        direction = d.ijk_to_ras[:3, :3] / np.linalg.norm(d.ijk_to_ras[:3, :3], axis=0)
        # oblique: no axis of the grid is within 5 degrees of a RAS axis
        assert np.abs(direction).max() < np.cos(np.radians(5.0))
        assert np.abs(d.shifts).max() > 0.0


def test_overrides_and_refusals():
    d = draw_mr(2, pathology="dilated", base_descent_mm=5.0, slice_spacing_mm=7.0)
    assert d.heart.pathology == "dilated" and d.heart.base_descent_mm == 5.0 and d.scan.slice_spacing_mm == 7.0
    from cardiacmotion.errors import InputError

    with pytest.raises(InputError):
        draw_mr(2, no_such_parameter=1)
    with pytest.raises(InputError):
        draw_mr(2, pathology="broken")


def test_save_round_trip(cases, tmp_path):
    case = cases[3]
    case.save(tmp_path)
    img = read_nifti(tmp_path / "image.nii.gz")
    lab = read_nifti(tmp_path / "labels.nii.gz")
    assert img.array.shape == case.image.array.shape and np.allclose(img.ijk_to_ras, case.image.ijk_to_ras, atol=1e-4)
    assert np.array_equal(lab.array, case.labels.array)
    lm = read_markups(tmp_path / "landmarks.mrk.json")
    for n in MR_LANDMARKS:
        assert np.allclose(lm[n], case.landmarks[n], atol=1e-4)
    import json

    truth = json.loads((tmp_path / "truth.json").read_text())
    assert truth["generator"] == "cardiacmotion.independent" and abs(truth["lv_edv_ml"] - case.truth["lv_edv_ml"]) < 1e-9
