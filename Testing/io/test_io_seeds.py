"""Seeds and landmarks are matched to the image in physical space."""
from __future__ import annotations

import numpy as np
import pytest

from cardiacmotion.cine import Cine
from cardiacmotion.errors import InputError
from cardiacmotion.io import write_image
from cardiacmotion.io.markups import MR_LANDMARKS, write_markups
from cardiacmotion.io.seeds import load_seed, match_landmarks, seed_from_cine


def _image(phases=5, slices=4, rows=20, cols=18) -> Cine:
    m = np.eye(4)
    c, s = np.cos(0.5), np.sin(0.5)
    m[:3, :3] = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]]) @ np.array([[1, 0, 0], [0, c, -s], [0, s, c]]) @ np.diag([1.5, 1.5, 8.0])
    m[:3, 3] = [5.0, -12.0, 30.0]
    arr = np.zeros((phases, slices, rows, cols), np.float32)
    return Cine(arr, m, np.arange(phases) * 40.0)


def _disc(rows, cols, ci, cj, r, label=3):
    jj, ii = np.mgrid[0:rows, 0:cols]
    return np.where((ii - ci) ** 2 + (jj - cj) ** 2 <= r * r, label, 0).astype(np.uint8)


def test_3d_seed_on_grid_goes_to_seed_phase(tmp_path):
    img = _image()
    vol = np.zeros((1, 4, 20, 18), np.uint8)
    vol[0, 2] = _disc(20, 18, 9, 10, 4)
    # a 3D NIfTI x,y,z file (the MR seed layout)
    import nibabel as nib

    nib.save(nib.Nifti1Image(np.transpose(vol[0], (2, 1, 0)), img.ijk_to_ras), str(tmp_path / "seed3d.nii.gz"))
    s = load_seed(tmp_path / "seed3d.nii.gz", img, seed_phase=3)
    assert s.labels.shape == img.array.shape and s.labels.dtype == np.uint8
    assert s.phases == [3] and s.slices(3) == [2]
    assert s.seeded.sum() == 1
    np.testing.assert_array_equal(s.labels[3, 2], vol[0, 2])
    assert load_seed(tmp_path / "seed3d.nii.gz", img).phases == [0]


def test_4d_seed_every_labelled_phase_counts(tmp_path):
    img = _image()
    lab = np.zeros(img.array.shape, np.uint8)
    lab[0, 1] = _disc(20, 18, 9, 9, 3)
    lab[3, 1] = _disc(20, 18, 9, 9, 2)
    lab[3, 2] = _disc(20, 18, 9, 9, 2, label=2)
    write_image(img.with_array(lab), tmp_path / "s4.nii.gz")
    s = load_seed(tmp_path / "s4.nii.gz", img)
    assert s.phases == [0, 3] and s.slices(3) == [1, 2]
    np.testing.assert_array_equal(s.labels, lab)


def test_seed_on_another_grid_is_resampled_nearest_in_ras():
    img = _image()
    # a finer grid: half the in-plane spacing, same orientation and slices, shifted by half a pixel
    m = img.ijk_to_ras.copy()
    m[:3, :2] = m[:3, :2] / 2
    m[:3, 3] = img.ijk_to_ras_points([[-0.25, -0.25, 0]])[0]
    fine = np.zeros((1, 4, 40, 36), np.uint8)
    fine[0, 1, 10:20, 8:16] = 3  # covers coarse pixels j 5..9, i 4..7
    s = seed_from_cine(Cine(fine, m, [0.0]), img)
    assert s.seeded.sum() == 1 and s.slices(0) == [1]
    got = np.argwhere(s.labels[0, 1] == 3)
    assert got[:, 0].min() == 5 and got[:, 0].max() == 9
    assert got[:, 1].min() == 4 and got[:, 1].max() == 7


def test_echo_2d_seed(tmp_path):
    img = Cine(np.zeros((6, 1, 20, 18), np.float32), np.diag([-0.3, -0.3, 1.0, 1.0]), np.arange(6) * 30.0, modality="US")
    import nibabel as nib

    frame = _disc(20, 18, 8, 8, 5, label=1)
    nib.save(nib.Nifti1Image(frame.T.copy(), img.ijk_to_ras), str(tmp_path / "f.nii.gz"))
    s = load_seed(tmp_path / "f.nii.gz", img, seed_phase=4)
    assert s.phases == [4] and s.slices(4) == [0]
    np.testing.assert_array_equal(s.labels[4, 0], frame)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda a: a * 0, "empty"),
        (lambda a: np.where(a > 0, 7, 0).astype(np.uint8), r"unknown labels \[7\]"),
    ],
)
def test_bad_seed_values(make, match):
    img = _image()
    lab = np.zeros((1, 4, 20, 18), np.uint8)
    lab[0, 1] = _disc(20, 18, 9, 9, 3)
    with pytest.raises(InputError, match=match):
        seed_from_cine(Cine(make(lab), img.ijk_to_ras, [0.0]), img)


def test_seed_outside_the_image():
    img = _image()
    m = img.ijk_to_ras.copy()
    m[:3, 3] += img.ijk_to_ras[:3, 2] * 10  # ten slices beyond the stack
    lab = np.zeros((1, 4, 20, 18), np.uint8)
    lab[0, 1] = _disc(20, 18, 9, 9, 3)
    with pytest.raises(InputError, match="outside the image"):
        seed_from_cine(Cine(lab, m, [0.0]), img)


def test_seed_with_wrong_phase_count_and_phase():
    img = _image()
    lab = np.zeros((2, 4, 20, 18), np.uint8)
    lab[:, 1] = _disc(20, 18, 9, 9, 3)
    with pytest.raises(InputError, match="2 phases"):
        seed_from_cine(img.with_array(lab, frame_times_ms=[0, 1]), img)
    with pytest.raises(InputError, match="seed phase 9"):
        seed_from_cine(img.with_array(lab[:1], frame_times_ms=[0]), img, seed_phase=9)


def test_landmarks_matched_inside_and_refused_outside(tmp_path):
    img = _image()
    pts = {n: img.ijk_to_ras_points([[5 + i, 6, 1.4]])[0] for i, n in enumerate(MR_LANDMARKS)}
    write_markups(pts, tmp_path / "lm.mrk.json")
    got = match_landmarks(tmp_path / "lm.mrk.json", img)
    assert list(got) == list(MR_LANDMARKS)
    for n in MR_LANDMARKS:
        np.testing.assert_allclose(got[n], pts[n], atol=1e-9)
    # half a slice out of plane is allowed, more is not
    ok = dict(pts, **{"LV center": img.ijk_to_ras_points([[7, 6, 3.45]])[0]})
    match_landmarks(ok, img)
    bad = dict(pts, **{"LV center": img.ijk_to_ras_points([[7, 6, 3.6]])[0]})
    with pytest.raises(InputError, match="'LV center' lies outside the image"):
        match_landmarks(bad, img)
    bad = dict(pts, **{"LV center": img.ijk_to_ras_points([[18.7, 6, 1]])[0]})
    with pytest.raises(InputError, match="outside the image"):
        match_landmarks(bad, img)
    missing = {k: v for k, v in pts.items() if k != "RV inferior insertion"}
    with pytest.raises(InputError, match="'RV inferior insertion' is missing"):
        match_landmarks(missing, img)
