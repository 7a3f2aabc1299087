"""Real cine MR: the Sunnybrook studies and the porcine study load with the right geometry."""
from __future__ import annotations

import warnings

import numpy as np
import pydicom
import pytest

from cardiacmotion.cine import lps_to_ras_points
from cardiacmotion.io import read_image


def _dicom_lps(path, i, j):
    """The DICOM formula: IPP + i * row_dir * column_spacing + j * col_dir * row_spacing (LPS)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        iop = np.array(ds.ImageOrientationPatient, float)
        ipp = np.array(ds.ImagePositionPatient, float)
        dy, dx = (float(v) for v in ds.PixelSpacing)
    return ipp + i * iop[:3] * dx + j * iop[3:] * dy


@pytest.mark.parametrize("study", ["scd101", "scd201"])
def test_sunnybrook_shape_geometry_and_times(study, request):
    cine, _labels, _endo, _epi = request.getfixturevalue(study)
    slices = {"scd101": 12, "scd201": 13}[study]  # SCD0000201 really holds 13 slice positions
    assert cine.array.shape == (20, slices, 256, 256)
    assert cine.modality == "MR" and cine.view == "SAX"
    np.testing.assert_allclose(cine.spacing, [1.367188, 1.367188, 10.0], atol=1e-3)
    # oblique: no axis of the grid is aligned with a patient axis
    assert np.all(np.abs(cine.direction).max(axis=0) < 0.99)
    files = cine.meta["files"]
    for t, k, i, j in [(0, 0, 0, 0), (7, 3, 200, 17), (19, slices - 1, 255, 255), (12, 5, 31, 140)]:
        expected_ras = lps_to_ras_points(_dicom_lps(files[k][t], i, j))
        np.testing.assert_allclose(cine.ijk_to_ras_points([[i, j, k]])[0], expected_ras, atol=1e-3)
        # the pixel value at (t, k, j, i) is the one stored in that file
        ds = pydicom.dcmread(files[k][t])
        assert cine.array[t, k, j, i] == pytest.approx(float(ds.pixel_array[j, i]))
    # phases ordered by trigger time in every slice; frame times are their per-phase median
    trig = np.array(cine.meta["trigger_times_ms"])
    assert trig.shape == (20, slices) and np.all(np.diff(trig, axis=0) > 0)
    np.testing.assert_allclose(cine.frame_times_ms, np.median(trig, axis=1), atol=1e-3)
    assert cine.meta["trigger_times_reliable"] is True
    # the image number n of the data README: phase (n - 1) % 20 in trigger-time order
    numbers = np.array(cine.meta["instance_numbers"])
    assert np.all((numbers - 1) % 20 == np.arange(20)[None, :])


def test_sunnybrook_slice_spacing_ignores_slice_location(scd101):
    cine = scd101[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        locs = [float(pydicom.dcmread(cine.meta["files"][k][0], stop_before_pixels=True).SliceLocation) for k in range(2)]
    assert abs(abs(locs[1] - locs[0]) - 10.0) > 1.0  # the tag that must not be used
    assert cine.spacing[2] == pytest.approx(10.0, abs=1e-3)


def test_scd101_expert_ef_from_contours(scd101):
    cine, labels, endo, epi = scd101
    assert endo.sum() == 18 and epi.sum() == 9
    drawn_phases = np.flatnonzero(endo.any(axis=1))
    assert len(drawn_phases) == 2
    # area x 10 mm over the contoured slices
    vol = {int(t): float((labels[t] == 3).sum() * cine.voxel_volume_ml) for t in drawn_phases}
    ed = max(vol, key=vol.get)
    es = min(vol, key=vol.get)
    edv, esv = vol[ed], vol[es]
    assert edv == pytest.approx(191, abs=4)
    assert esv == pytest.approx(141, abs=4)
    assert (edv - esv) / edv * 100 == pytest.approx(26, abs=1.5)
    # ED near 721 ms and ES near 292 ms trigger time on the contoured slices
    trig = np.array(cine.meta["trigger_times_ms"])
    ks = np.flatnonzero(endo[ed])
    assert np.median(trig[ed, ks]) == pytest.approx(721, abs=25)
    assert np.median(trig[es, ks]) == pytest.approx(292, abs=25)
    # myocardium only where an epicardium was drawn; LV mass about 117 g
    assert not (labels[~epi] == 2).any()
    mass = (labels == 2).sum() * cine.voxel_volume_ml * 1.05
    assert mass == pytest.approx(117, abs=6)


def test_scd201_contours(scd201):
    cine, labels, endo, epi = scd201
    assert endo.sum() == 18 and epi.sum() == 9
    assert np.array_equal(epi.any(axis=1), endo.any(axis=1) & epi.any(axis=1))
    # the cavity is bright blood in bSSFP: brighter than the myocardium on every contoured slice
    for t, k in zip(*np.nonzero(epi)):
        assert cine.array[t, k][labels[t, k] == 3].mean() > 1.5 * cine.array[t, k][labels[t, k] == 2].mean()


def test_porcine_loads_with_contours_everywhere(porcine_study):
    cine, labels, endo, epi = porcine_study
    assert cine.array.shape == (20, 20, 256, 256)
    np.testing.assert_allclose(cine.spacing, [0.8203, 0.8203, 5.0], atol=1e-3)
    assert endo.all() and epi.all()
    # contour file numbers are instance numbers: slice (n-1)//20 and phase (n-1)%20 of the files;
    # with that mapping the blood pool is much brighter than the myocardium in mid slices
    mid = slice(3, 8)
    img, lab = cine.array[:, mid], labels[:, mid]
    assert img[lab == 3].mean() > 2 * img[lab == 2].mean()
    np.testing.assert_allclose(cine.frame_times_ms[:3], [10, 41, 73])


def test_read_image_dispatches_folder_and_single_file(sunnybrook):
    cine = read_image(sunnybrook / "SCD0000101" / "37.dcm")  # one file: its whole series
    assert cine.array.shape == (20, 12, 256, 256)
