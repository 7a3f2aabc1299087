"""Seeds from where users have them: a Slicer .seg.nrrd, one 2D slice (--seed-slice), landmarks as voxel indices."""
from __future__ import annotations

import argparse

import numpy as np
import pytest

from cardiacmotion.cine import Cine, lps_to_ras_matrix
from cardiacmotion.errors import InputError
from cardiacmotion.io.seeds import load_seed_file, read_seg_nrrd


def _image(phases=4, slices=3, rows=20, cols=18) -> Cine:
    m = np.eye(4)
    c, s = np.cos(0.4), np.sin(0.4)
    m[:3, :3] = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]]) @ np.array([[1, 0, 0], [0, c, -s], [0, s, c]]) @ np.diag([1.5, 1.5, 8.0])
    m[:3, 3] = [5.0, -12.0, 30.0]
    return Cine(np.zeros((phases, slices, rows, cols), np.float32), m, np.arange(phases) * 40.0)


def _disc(rows, cols, ci, cj, r):
    jj, ii = np.mgrid[0:rows, 0:cols]
    return (ii - ci) ** 2 + (jj - cj) ** 2 <= r * r


def _write_seg_nrrd(path, img: Cine, layers: np.ndarray, segments: list[tuple[str, int, int]]):
    """A Slicer-style .seg.nrrd (LPS, layered: [layer, i, j, k]) with named segments."""
    import nrrd

    ras_to_lps = np.diag([-1.0, -1.0, 1.0, 1.0])
    lps = ras_to_lps @ img.ijk_to_ras
    header = {"type": "unsigned char", "dimension": 4, "space": "left-posterior-superior",
              "kinds": ["list", "domain", "domain", "domain"],
              "space directions": [[np.nan] * 3] + [list(lps[:3, c]) for c in range(3)],
              "space origin": list(lps[:3, 3])}
    for n, (name, layer, value) in enumerate(segments):
        header[f"Segment{n}_Name"] = name
        header[f"Segment{n}_Layer"] = str(layer)
        header[f"Segment{n}_LabelValue"] = str(value)
        header[f"Segment{n}_ID"] = f"Segment_{n}"
    nrrd.write(str(path), layers, header)


def test_seg_nrrd_segments_are_mapped_by_name_onto_the_grid(tmp_path):
    img = _image()
    vol = np.zeros((2, 18, 20, 3), np.uint8)  # [layer, i, j, k]
    cav = _disc(20, 18, 9, 10, 4).T  # [i, j]
    ring = _disc(20, 18, 9, 10, 6).T & ~cav
    vol[0, :, :, 1][cav] = 1
    vol[0, :, :, 1][ring] = 2
    vol[1, :, :, 1][_disc(20, 18, 1, 10, 1).T] = 1  # an RV on another layer
    _write_seg_nrrd(tmp_path / "s.seg.nrrd", img, vol,
                    [("LV cavity", 0, 1), ("Myocardium", 0, 2), ("Right ventricle", 1, 1)])
    seg = read_seg_nrrd(tmp_path / "s.seg.nrrd")
    np.testing.assert_allclose(seg.ijk_to_ras, img.ijk_to_ras, atol=1e-6)
    seeds = load_seed_file(tmp_path / "s.seg.nrrd", img, seed_phase=2)
    assert seeds.phases == [2] and seeds.slices(2) == [1]
    lab = seeds.labels[2, 1]
    assert (lab[cav.T] == 3).all() and (lab[ring.T] == 2).all() and (lab == 1).sum() == _disc(20, 18, 1, 10, 1).sum()
    _write_seg_nrrd(tmp_path / "bad.seg.nrrd", img, vol, [("Liver", 0, 1)])
    with pytest.raises(InputError, match="'Liver' is not LV cavity, myocardium or RV"):
        load_seed_file(tmp_path / "bad.seg.nrrd", img)


def test_seed_slice_keeps_one_slice_and_places_a_2d_file(tmp_path):
    import nibabel as nib

    img = _image()
    vol = np.zeros((3, 20, 18), np.uint8)
    vol[0][_disc(20, 18, 9, 10, 3)] = 3
    vol[2][_disc(20, 18, 9, 10, 4)] = 3
    nib.save(nib.Nifti1Image(np.transpose(vol, (2, 1, 0)), img.ijk_to_ras), str(tmp_path / "seed3d.nii.gz"))
    seeds = load_seed_file(tmp_path / "seed3d.nii.gz", img, seed_phase=1, seed_slice=2)
    assert seeds.phases == [1] and seeds.slices(1) == [2] and seeds.labels[1, 0].sum() == 0
    with pytest.raises(InputError, match="no label on slice 1"):
        load_seed_file(tmp_path / "seed3d.nii.gz", img, seed_phase=1, seed_slice=1)
    # a 2D label image (rows x columns, no slice position of its own) goes onto the chosen slice
    flat = np.zeros((18, 20, 1), np.uint8)
    flat[..., 0] = vol[2].T
    nib.save(nib.Nifti1Image(flat, np.eye(4)), str(tmp_path / "slice.nii.gz"))
    seeds = load_seed_file(tmp_path / "slice.nii.gz", img, seed_phase=0, seed_slice=1)
    assert seeds.slices(0) == [1]
    np.testing.assert_array_equal(seeds.labels[0, 1], vol[2])


def test_landmarks_ijk_are_voxel_indices_in_slice_row_column_order():
    from cardiacmotion.cli.cmd_segment import landmarks_from_ijk, resolve_start
    from cardiacmotion.io.markups import MR_LANDMARKS

    img = _image()
    img.modality = "MR"
    pts = landmarks_from_ijk("1,5,4;1,15,4;1,10,9", img)
    assert list(pts) == list(MR_LANDMARKS)
    np.testing.assert_allclose(img.ras_to_ijk_points(pts["LV center"][None])[0], [9, 10, 1], atol=1e-9)
    for bad in ("1,2;3,4,5;6,7,8", "a,b,c;1,2,3;1,2,3", "1,2,3;1,2,3"):
        with pytest.raises(InputError, match="--landmarks-ijk"):
            landmarks_from_ijk(bad, img)
    args = argparse.Namespace(seed=None, landmarks="x.mrk.json", landmarks_ijk="1,5,4;1,15,4;1,10,9", auto=False,
                              seed_phase=0, seed_slice=None)
    with pytest.raises(InputError, match="not both"):
        resolve_start(args, img)
    args.landmarks = None
    seeds, landmarks, phase, _ = resolve_start(args, img)
    assert seeds is None and phase == 0 and set(landmarks) == set(MR_LANDMARKS)
