"""Synthetic DICOM written with pydicom: oblique cine series, series choice, ultrasound cine."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from cardiacmotion.cine import lps_to_ras_matrix
from cardiacmotion.errors import InputError
from cardiacmotion.io import read_image
from cardiacmotion.io.dicom import read_dicom

from dicom_synth import write_mr_series, write_us_cine


def test_oblique_shuffled_series_reads_back_exactly(tmp_path):
    expected, ijk_to_lps = write_mr_series(tmp_path / "cine", slices=4, phases=5)
    cine = read_image(tmp_path / "cine")
    np.testing.assert_array_equal(cine.array, expected)  # slices by position, phases by trigger time
    np.testing.assert_allclose(cine.ijk_to_ras, lps_to_ras_matrix(ijk_to_lps), atol=1e-5)
    np.testing.assert_allclose(cine.frame_times_ms, (np.arange(5) + 0.5) * 160.0, atol=1e-3)
    assert cine.meta["trigger_times_reliable"] is True
    np.testing.assert_allclose(cine.spacing, [1.5, 1.25, 8.0], atol=1e-5)


def test_reversed_slice_order_on_disk_is_sorted_along_normal(tmp_path):
    # slices written from the far end: k must still increase along the normal (row x column)
    from dicom_synth import mr_geometry

    m = mr_geometry()
    far = m[:3, 3] + 3 * m[:3, 2]
    expected, _ = write_mr_series(tmp_path / "a", slices=4, phases=3, origin=tuple(far), slice_spacing=-8.0)
    cine = read_dicom(tmp_path / "a")
    np.testing.assert_array_equal(cine.array, expected[:, ::-1])
    np.testing.assert_allclose(cine.origin, lps_to_ras_matrix(m)[:3, 3], atol=1e-4)


def test_folder_with_several_cine_series_is_refused_and_series_picks_one(tmp_path):
    from cardiacmotion.io.dicom import list_series

    folder = tmp_path / "study"
    expected, m = write_mr_series(folder, slices=4, phases=5, series_number=7, name_prefix="sax_")
    # a long-axis cine (one slice, more phases than a SAX slice but fewer images in all)
    lax, _ = write_mr_series(folder, slices=1, phases=8, iop=(1, 0, 0, 0, 0, -1), series_number=3,
                             description="4ch cine", name_prefix="lax_")
    # a localiser-like single-phase stack: listed, never a candidate
    write_mr_series(folder / "sub", slices=3, phases=1, iop=(1, 0, 0, 0, 1, 0), series_number=1,
                    description="loc", name_prefix="loc_")
    (folder / "notes.txt").write_text("not a DICOM file")
    # never resolved by size: both cines are named and the user chooses
    with pytest.raises(InputError, match=r"holds 2 cine series; choose one with --series.*series 3 '4ch cine'.*series 7"):
        read_dicom(folder)
    infos = list_series(folder)
    assert [(i.index, i.series_number, i.slices, i.phases) for i in infos] == [(0, "3", 1, 8), (1, "7", 4, 5), (None, "1", 3, 1)]
    assert "single phase" in infos[2].problem and infos[1].orientation == "oblique" or infos[1].orientation
    cine = read_dicom(folder, series=1)
    assert cine.array.shape == (5, 4, 12, 10)
    assert cine.meta["series_number"] == "7"
    np.testing.assert_array_equal(cine.array, expected)
    assert read_dicom(folder, series="0").array.shape[:2] == (8, 1)
    assert read_dicom(folder, series=infos[1].series_uid).meta["series_number"] == "7"
    with pytest.raises(InputError, match="holds 2 cine series"):
        read_dicom(folder, series=2)
    with pytest.raises(InputError, match="no cine series with that index or SeriesInstanceUID"):
        read_dicom(folder, series="1.2.3.4")


def test_one_cine_and_a_localiser_reads_the_cine(tmp_path):
    expected, _ = write_mr_series(tmp_path, slices=3, phases=4, series_number=7, name_prefix="sax_")
    write_mr_series(tmp_path / "loc", slices=3, phases=1, iop=(1, 0, 0, 0, 1, 0), series_number=1, name_prefix="loc_")
    np.testing.assert_array_equal(read_dicom(tmp_path).array, expected)


def test_two_equally_plausible_series_are_named(tmp_path):
    write_mr_series(tmp_path, slices=3, phases=4, series_number=10, description="cine A", name_prefix="a_")
    write_mr_series(tmp_path, slices=3, phases=4, series_number=11, description="cine B", name_prefix="b_",
                    origin=(100.0, 0.0, 0.0))
    with pytest.raises(InputError, match=r"series 10 'cine A'.*series 11 'cine B'"):
        read_dicom(tmp_path)


def test_missing_image_is_inconsistent_geometry(tmp_path):
    write_mr_series(tmp_path, slices=3, phases=4, skip=[(1, 2)])
    with pytest.raises(InputError, match="different numbers of phases"):
        read_dicom(tmp_path)


def test_missing_slice_gives_uneven_spacing(tmp_path):
    write_mr_series(tmp_path, slices=4, phases=3, skip=[(2, t) for t in range(3)])
    with pytest.raises(InputError, match="uneven slice spacing"):
        read_dicom(tmp_path)


def test_sheared_stack_is_refused(tmp_path):
    write_mr_series(tmp_path, slices=3, phases=2, position_jitter={(2, 0): (0.6, 0.8, 0.0), (2, 1): (0.6, 0.8, 0.0)})
    with pytest.raises(InputError, match="shifted in plane"):
        read_dicom(tmp_path)


def test_folder_without_dicom(tmp_path):
    (tmp_path / "a.txt").write_text("hello")
    with pytest.raises(InputError, match="no DICOM images"):
        read_dicom(tmp_path)


def test_single_file_reads_its_series_only(tmp_path):
    expected, _ = write_mr_series(tmp_path, slices=2, phases=3, series_number=4, name_prefix="a_")
    write_mr_series(tmp_path, slices=5, phases=6, series_number=9, name_prefix="b_", origin=(0, 0, 300.0))
    one = sorted(tmp_path.glob("a_*"))[0]
    cine = read_image(one)
    np.testing.assert_array_equal(cine.array, expected)


def test_ultrasound_multiframe_rgb(tmp_path):
    path = tmp_path / "echo.dcm"
    grey = write_us_cine(path, frames=6, delta_cm=(0.03, 0.04), frame_time_ms=25.0)
    cine = read_image(path)
    assert cine.modality == "US" and cine.array.shape == (6, 1, 20, 24)
    np.testing.assert_allclose(cine.array[:, 0], grey, atol=1.0)  # luma, up to codec rounding
    np.testing.assert_allclose(cine.spacing[:2], [0.3, 0.4], atol=1e-9)  # cm -> mm, tissue region only
    np.testing.assert_allclose(cine.frame_times_ms, np.arange(6) * 25.0)
    assert cine.meta["spacing_source"] == "ultrasound regions"
    # a folder holding the one file reads the same
    folder = tmp_path / "folder"
    folder.mkdir()
    shutil.copy(path, folder / "IM0001")
    np.testing.assert_array_equal(read_image(folder).array, cine.array)


def test_ultrasound_frame_time_vector_and_grey(tmp_path):
    path = tmp_path / "echo.dcm"
    write_us_cine(path, frames=4, frame_time_ms=None, frame_time_vector=[0, 20, 30, 20], rgb=False)
    cine = read_dicom(path)
    np.testing.assert_allclose(cine.frame_times_ms, [0, 20, 50, 70])
    assert cine.meta["frame_times_reliable"] is True


def test_ultrasound_without_calibration_needs_spacing(tmp_path):
    import pydicom

    path = tmp_path / "echo.dcm"
    write_us_cine(path, frames=3, rgb=False)
    ds = pydicom.dcmread(path)
    del ds.SequenceOfUltrasoundRegions
    ds.save_as(path)
    with pytest.raises(InputError, match="--spacing"):
        read_image(path)
    cine = read_image(path, spacing=[0.2])
    np.testing.assert_allclose(cine.spacing[:2], [0.2, 0.2])
    assert cine.meta["spacing_source"] == "given spacing"
