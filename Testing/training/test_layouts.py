"""ACDC, M&Ms and CAMUS folder layouts read into training studies (tiny NIfTI files written here)."""
from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest

from cardiacmotion.errors import InputError
from cardiacmotion.training.layouts import acdc_studies, camus_studies, mnms_studies


def _disc(shape, r, label=3):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return ((yy - shape[0] / 2) ** 2 + (xx - shape[1] / 2) ** 2 < r * r).astype(np.uint8) * label


def _save(a, path):
    nib.save(nib.Nifti1Image(a, np.eye(4)), str(path))


def test_acdc_layout(tmp_path):
    p = tmp_path / "patient001"
    p.mkdir()
    vol = np.random.default_rng(0).random((40, 40, 3, 5)).astype(np.float32)  # x, y, z, t
    _save(vol, p / "patient001_4d.nii.gz")
    gt = np.stack([_disc((40, 40), 8)] * 3, axis=-1)  # x, y, z
    _save(gt, p / "patient001_frame01_gt.nii.gz")
    _save(gt, p / "patient001_frame04_gt.nii.gz")
    (st,) = acdc_studies(tmp_path)
    assert st.image.shape[:2] == (5, 3)
    assert st.full[:, 0].tolist() == [True, False, False, True, False]
    assert (st.labels[0] == 3).any() and not st.labels[1].any()


def test_mnms_labels_are_remapped(tmp_path):
    p = tmp_path / "A0S9V9"
    p.mkdir()
    _save(np.ones((30, 30, 2, 4), np.float32), p / "A0S9V9_sa.nii.gz")
    gt = np.zeros((30, 30, 2, 4), np.uint8)
    gt[..., 0] = np.stack([_disc((30, 30), 6, 1)] * 2, -1)  # M&Ms 1 = LV
    gt[..., 2] = np.stack([_disc((30, 30), 6, 3)] * 2, -1)  # M&Ms 3 = RV
    _save(gt, p / "A0S9V9_sa_gt.nii.gz")
    (st,) = mnms_studies(tmp_path)
    assert st.full[:, 0].tolist() == [True, False, True, False]
    assert set(np.unique(st.labels[0])) == {0, 3} and set(np.unique(st.labels[2])) == {0, 1}


def test_camus_layout_and_errors(tmp_path):
    p = tmp_path / "patient0001"
    p.mkdir()
    _save(np.ones((30, 40, 6), np.float32), p / "patient0001_4CH_half_sequence.nii.gz")
    _save(np.stack([_disc((30, 40), 7, 1)] * 6, -1), p / "patient0001_4CH_half_sequence_gt.nii.gz")
    (st,) = camus_studies(tmp_path)
    assert st.image.shape[:2] == (6, 1) and not st.through_stack and st.full.all()
    with pytest.raises(InputError, match="ACDC"):
        acdc_studies(tmp_path)
