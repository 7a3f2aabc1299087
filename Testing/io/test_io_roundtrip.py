"""Writers and readers agree, and every LPS<->RAS conversion is checked with an oblique direction."""
from __future__ import annotations

import json

import nrrd
import numpy as np
import pytest
import SimpleITK as sitk

from cardiacmotion.cine import Cine, lps_to_ras_points
from cardiacmotion.errors import InputError
from cardiacmotion.io import read_image, write_image
from cardiacmotion.io.markups import read_markups, write_markups


def _rotation(a: float, b: float, c: float) -> np.ndarray:
    ca, sa, cb, sb, cc, sc = np.cos(a), np.sin(a), np.cos(b), np.sin(b), np.cos(c), np.sin(c)
    rx = np.array([[1, 0, 0], [0, ca, -sa], [0, sa, ca]])
    ry = np.array([[cb, 0, sb], [0, 1, 0], [-sb, 0, cb]])
    rz = np.array([[cc, -sc, 0], [sc, cc, 0], [0, 0, 1]])
    return rz @ ry @ rx


def _oblique(phases=4, slices=3, rows=7, cols=6, dtype=np.float32) -> Cine:
    m = np.eye(4)
    m[:3, :3] = _rotation(0.3, -0.7, 1.1) @ np.diag([1.3, 1.45, 7.5])
    m[:3, 3] = [12.5, -40.25, 88.0]
    arr = np.random.default_rng(3).random((phases, slices, rows, cols)) * 100
    return Cine(arr.astype(dtype), m, np.arange(phases) * 37.5 + 5.0, modality="MR", view="SAX")


def test_nifti_memory_seqnrrd_chain_keeps_geometry(tmp_path):
    cine = _oblique()
    write_image(cine, tmp_path / "a.nii.gz")
    a = read_image(tmp_path / "a.nii.gz")
    write_image(a, tmp_path / "b.seq.nrrd")
    b = read_image(tmp_path / "b.seq.nrrd")
    write_image(b, tmp_path / "c.nii.gz")
    c = read_image(tmp_path / "c.nii.gz")
    for x in (a, b, c):
        np.testing.assert_allclose(x.ijk_to_ras, cine.ijk_to_ras, atol=1e-5)
        np.testing.assert_array_equal(x.array, cine.array)
        np.testing.assert_allclose(x.frame_times_ms, cine.frame_times_ms, atol=1e-6)
        assert x.modality == "MR" and x.view == "SAX"


def test_seqnrrd_header_is_slicer_sequence_in_lps(tmp_path):
    cine = _oblique()
    write_image(cine, tmp_path / "s.seq.nrrd")
    data, h = nrrd.read(str(tmp_path / "s.seq.nrrd"))
    assert h["kinds"] == ["list", "domain", "domain", "domain"]
    assert list(h["sizes"]) == [4, 6, 7, 3]  # list, I, J, K
    assert h["space"] == "left-posterior-superior"
    assert h["axis 0 index type"] == "numeric"
    np.testing.assert_allclose([float(v) for v in h["axis 0 index values"].split()], cine.frame_times_ms)
    assert np.all(np.isnan(h["space directions"][0]))
    # LPS on disk: the first two components flip sign relative to RAS
    np.testing.assert_allclose(h["space directions"][1], cine.ijk_to_ras[:3, 0] * [-1, -1, 1], atol=1e-9)
    np.testing.assert_allclose(h["space origin"], cine.ijk_to_ras[:3, 3] * [-1, -1, 1], atol=1e-9)
    # voxel (t, i, j, k) on disk equals array[t, k, j, i]
    assert data[2, 5, 1, 2] == cine.array[2, 2, 1, 5]


def test_seqnrrd_labels_are_labelmap_sequence(tmp_path):
    lab = _oblique().with_array(np.random.default_rng(0).integers(0, 4, (4, 3, 7, 6)).astype(np.uint8))
    write_image(lab, tmp_path / "l.seq.nrrd")
    _, h = nrrd.read(str(tmp_path / "l.seq.nrrd"))
    assert h["DataNodeClassName"] == "vtkMRMLLabelMapVolumeNode"
    back = read_image(tmp_path / "l.seq.nrrd")
    assert back.array.dtype == np.uint8 and np.array_equal(back.array, lab.array)


def test_plain_nrrd_ras_list_axis_last_and_3d(tmp_path):
    cine = _oblique()
    data = np.transpose(cine.array, (3, 2, 1, 0))  # i, j, k, t
    header = {
        "space": "right-anterior-superior",
        "space directions": np.vstack([cine.ijk_to_ras[:3, :3].T, np.full(3, np.nan)]),
        "space origin": cine.ijk_to_ras[:3, 3],
        "kinds": ["domain", "domain", "domain", "list"],
        "axis 3 index type": "numeric",
        "axis 3 index values": " ".join(str(v / 1000) for v in np.arange(4) * 40.0),  # seconds
    }
    nrrd.write(str(tmp_path / "t.nrrd"), data, header)
    back = read_image(tmp_path / "t.nrrd")
    np.testing.assert_allclose(back.ijk_to_ras, cine.ijk_to_ras, atol=1e-9)
    np.testing.assert_array_equal(back.array, cine.array)
    np.testing.assert_allclose(back.frame_times_ms, np.arange(4) * 40.0)
    h3 = dict(header, kinds=["domain"] * 3, **{"space directions": cine.ijk_to_ras[:3, :3].T})
    del h3["axis 3 index type"], h3["axis 3 index values"]
    nrrd.write(str(tmp_path / "v.nrrd"), data[..., 0], h3)
    vol = read_image(tmp_path / "v.nrrd")
    assert vol.array.shape == (1, 3, 7, 6)
    np.testing.assert_allclose(vol.ijk_to_ras, cine.ijk_to_ras, atol=1e-9)


def test_markups_lps_on_disk_ras_in_memory(tmp_path):
    pts = {"RV anterior insertion": np.array([10.5, -20.0, 33.0]), "LV center": np.array([-1.0, 2.0, -3.0])}
    write_markups(pts, tmp_path / "lm.mrk.json")
    doc = json.loads((tmp_path / "lm.mrk.json").read_text())
    node = doc["markups"][0]
    assert node["coordinateSystem"] == "LPS"
    assert node["controlPoints"][0]["position"] == [-10.5, 20.0, 33.0]
    back = read_markups(tmp_path / "lm.mrk.json")
    for k, v in pts.items():
        np.testing.assert_allclose(back[k], v)
    # a file written in RAS is taken as RAS
    node["coordinateSystem"] = "RAS"
    (tmp_path / "ras.mrk.json").write_text(json.dumps(doc))
    np.testing.assert_allclose(read_markups(tmp_path / "ras.mrk.json")["RV anterior insertion"], [-10.5, 20.0, 33.0])


def test_mhd_4d_and_echo_3d(tmp_path):
    cine = _oblique()
    img = sitk.GetImageFromArray(cine.array.astype(np.float32), isVector=False)  # x,y,z,t
    lps = np.diag([-1.0, -1.0, 1.0]) @ cine.ijk_to_ras[:3, :3]
    spacing = np.linalg.norm(lps, axis=0)
    direction = np.eye(4)
    direction[:3, :3] = lps / spacing
    img.SetSpacing([*spacing, 37.5])
    img.SetDirection(direction.ravel().tolist())
    img.SetOrigin([*lps_to_ras_points(cine.ijk_to_ras[:3, 3]), 0.0])
    sitk.WriteImage(img, str(tmp_path / "c.mhd"))
    back = read_image(tmp_path / "c.mhd")
    np.testing.assert_allclose(back.ijk_to_ras, cine.ijk_to_ras, atol=1e-5)
    np.testing.assert_array_equal(back.array, cine.array)
    np.testing.assert_allclose(back.frame_times_ms, np.arange(4) * 37.5)
    echo = sitk.GetImageFromArray(np.random.default_rng(0).random((9, 20, 16)).astype(np.float32))
    echo.SetSpacing([0.3, 0.35, 1.0])  # CAMUS-like: x, y, t with a unit time spacing
    sitk.WriteImage(echo, str(tmp_path / "e.mhd"))
    e = read_image(tmp_path / "e.mhd")
    assert e.array.shape == (9, 1, 20, 16) and e.modality == "US"
    np.testing.assert_allclose(e.spacing[:2], [0.3, 0.35])
    assert e.meta["frame_times_reliable"] is False
    (tmp_path / "e.raw").unlink()
    with pytest.raises(InputError, match="cannot read"):
        read_image(tmp_path / "e.mhd")


def test_avi_reads_back_with_given_spacing(tmp_path):
    from cardiacmotion.io.video import write_video

    t, rows, cols = 8, 48, 64
    yy, xx = np.mgrid[0:rows, 0:cols]
    frames = np.stack([((xx + 4 * f) % 32 < 16) * 200.0 + 20 for f in range(t)])[:, None].astype(np.float32)
    echo = Cine(frames, np.eye(4), np.arange(t) * 40.0, modality="US", view="A4C")
    write_video(echo, tmp_path / "e.avi")
    with pytest.raises(InputError, match="--spacing"):
        read_image(tmp_path / "e.avi")
    back = read_image(tmp_path / "e.avi", spacing=[0.25, 0.3])
    assert back.array.shape == (t, 1, rows, cols) and back.modality == "US"
    np.testing.assert_allclose(back.spacing[:2], [0.25, 0.3])
    np.testing.assert_allclose(back.frame_times_ms, np.arange(t) * 40.0, atol=1e-6)
    # MJPG is lossy: the stripes survive, each frame correlates with the frame it came from
    for f in range(t):
        r = np.corrcoef(back.array[f, 0].ravel(), frames[f, 0].ravel())[0, 1]
        assert r > 0.95
