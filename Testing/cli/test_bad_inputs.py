"""Every class of bad input gets a one-line reason, a non-zero exit, and leaves no file behind.

The CLI cases run ``cardiacmotion info`` in a subprocess (what a user or Slicer sees); seeds and
landmarks go through the python API until ``segment`` is built.
"""
from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from cardiacmotion.cine import Cine
from cardiacmotion.errors import InputError
from cardiacmotion.io import write_image
from cardiacmotion.io.markups import MR_LANDMARKS, write_markups
from cardiacmotion.io.seeds import load_seed, match_landmarks

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "Testing" / "io"))
from dicom_synth import write_mr_series  # noqa: E402


def _image() -> Cine:
    m = np.eye(4)
    m[:3, :3] = np.array([[0.8, -0.6, 0.0], [0.36, 0.48, -0.8], [0.48, 0.64, 0.6]]).T @ np.diag([1.5, 1.5, 8.0])
    m[:3, 3] = [3.0, -7.0, 11.0]
    return Cine(np.random.default_rng(0).random((4, 3, 16, 14)).astype(np.float32), m, np.arange(4) * 40.0)


# ---- inputs: each returns the argument list for `cardiacmotion info` -------------------------
def _missing(d: Path) -> list:
    return [str(d / "absent.nii.gz")]


def _text_as_nifti(d: Path) -> list:
    (d / "notes.nii.gz").write_text("this is not an image\n")
    return [str(d / "notes.nii.gz")]


def _random_binary(d: Path) -> list:
    (d / "blob.bin").write_bytes(np.random.default_rng(1).bytes(4096))
    return [str(d / "blob.bin")]


def _random_binary_dcm(d: Path) -> list:
    (d / "blob.dcm").write_bytes(np.random.default_rng(2).bytes(4096))
    return [str(d / "blob.dcm")]


def _corrupt_nifti(d: Path) -> list:
    write_image(_image(), d / "ok.nii.gz")
    raw = gzip.decompress((d / "ok.nii.gz").read_bytes())
    (d / "cut.nii.gz").write_bytes(gzip.compress(raw[: len(raw) // 2]))  # header fine, data truncated
    (d / "ok.nii.gz").unlink()
    return [str(d / "cut.nii.gz")]


def _garbage_gzip_nifti(d: Path) -> list:
    write_image(_image(), d / "ok.nii.gz")
    data = bytearray((d / "ok.nii.gz").read_bytes())
    data[40:400] = bytes(360)  # damage the deflate stream
    (d / "bad.nii.gz").write_bytes(bytes(data))
    (d / "ok.nii.gz").unlink()
    return [str(d / "bad.nii.gz")]


def _dicom_missing_image(d: Path) -> list:
    write_mr_series(d / "dcm", slices=3, phases=4, skip=[(1, 2)])
    return [str(d / "dcm")]


def _dicom_missing_slice(d: Path) -> list:
    write_mr_series(d / "dcm", slices=4, phases=3, skip=[(2, t) for t in range(3)])
    return [str(d / "dcm")]


def _dicom_two_series(d: Path) -> list:
    write_mr_series(d / "dcm", slices=3, phases=4, series_number=1, name_prefix="a_")
    write_mr_series(d / "dcm", slices=3, phases=4, series_number=2, name_prefix="b_", origin=(90.0, 0, 0))
    return [str(d / "dcm")]


def _empty_folder(d: Path) -> list:
    (d / "empty").mkdir()
    (d / "empty" / "readme.txt").write_text("nothing here")
    return [str(d / "empty")]


def _video_without_spacing(d: Path) -> list:
    from cardiacmotion.io.video import write_video

    echo = Cine(np.random.default_rng(0).random((3, 1, 16, 16)).astype(np.float32), np.eye(4), [0, 40, 80], modality="US")
    write_video(echo, d / "e.avi")
    return [str(d / "e.avi")]


def _corrupt_seqnrrd(d: Path) -> list:
    (d / "x.seq.nrrd").write_text("NRRD0005\ntype: float\ndimension: 4\nsizes: 2 2\n\n")
    return [str(d / "x.seq.nrrd")]


def _mhd_without_raw(d: Path) -> list:
    (d / "x.mhd").write_text(
        "ObjectType = Image\nNDims = 3\nDimSize = 4 4 3\nElementType = MET_FLOAT\nElementDataFile = x.raw\n"
    )
    return [str(d / "x.mhd")]


def _mhd_short_raw(d: Path) -> list:
    (d / "s.mhd").write_text(
        "ObjectType = Image\nNDims = 3\nDimSize = 40 40 3\nElementType = MET_FLOAT\nElementDataFile = s.raw\n"
    )
    (d / "s.raw").write_bytes(bytes(100))
    return [str(d / "s.mhd")]


CLI_CASES: list[tuple[str, Callable[[Path], list], str]] = [
    ("missing file", _missing, "no such file"),
    ("text file named .nii.gz", _text_as_nifti, "cannot read NIfTI"),
    ("random binary", _random_binary, "unrecognised image format"),
    ("random binary named .dcm", _random_binary_dcm, "not a readable DICOM"),
    ("truncated NIfTI", _corrupt_nifti, "cannot read NIfTI"),
    ("damaged gzip NIfTI", _garbage_gzip_nifti, "cannot read NIfTI"),
    ("DICOM slice missing a phase", _dicom_missing_image, "different numbers of phases"),
    ("DICOM stack missing a slice", _dicom_missing_slice, "uneven slice spacing"),
    ("two equal DICOM series", _dicom_two_series, "holds 2 cine series; choose one with --series"),
    ("folder without DICOM", _empty_folder, "no DICOM images"),
    ("video without --spacing", _video_without_spacing, "--spacing"),
    ("corrupt .seq.nrrd", _corrupt_seqnrrd, "cannot read NRRD"),
    ("MHD without its RAW", _mhd_without_raw, "data file x.raw is missing"),
    ("MHD with a short RAW", _mhd_short_raw, "the header needs 19200"),
]


def _listing(d: Path) -> set:
    return {str(p.relative_to(d)) for p in d.rglob("*")}


@pytest.mark.parametrize("make, reason", [c[1:] for c in CLI_CASES], ids=[c[0] for c in CLI_CASES])
def test_cli_info_bad_input(tmp_path, make, reason):
    args = make(tmp_path)
    before = _listing(tmp_path)
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run(
        [sys.executable, "-m", "cardiacmotion", "info", *args, "--json"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )
    assert proc.returncode != 0
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and proc.stderr.endswith("\n"), proc.stderr
    assert lines[0].startswith("cardiacmotion: error: ") and reason in lines[0], lines[0]
    assert "Traceback" not in proc.stderr
    assert _listing(tmp_path) == before  # nothing written, not even a temporary file


# ---- seeds and landmarks through the python API -------------------------------------------
def _seed_unknown_labels(d: Path, img: Cine):
    lab = np.zeros((1,) + img.array.shape[1:], np.uint8)
    lab[0, 1, 4:9, 4:9] = 5
    write_image(Cine(lab, img.ijk_to_ras, [0.0]), d / "seed.nii.gz")
    return lambda: load_seed(d / "seed.nii.gz", img)


def _seed_outside(d: Path, img: Cine):
    lab = np.zeros((1,) + img.array.shape[1:], np.uint8)
    lab[0, 1, 4:9, 4:9] = 3
    m = img.ijk_to_ras.copy()
    m[:3, 3] += 40.0 * img.direction[:, 0]  # shifted far along the rows: half the disc falls outside
    write_image(Cine(lab, m, [0.0]), d / "seed.nii.gz")
    return lambda: load_seed(d / "seed.nii.gz", img)


def _seed_empty(d: Path, img: Cine):
    write_image(Cine(np.zeros((1,) + img.array.shape[1:], np.uint8), img.ijk_to_ras, [0.0]), d / "seed.nii.gz")
    return lambda: load_seed(d / "seed.nii.gz", img)


def _seed_missing(d: Path, img: Cine):
    return lambda: load_seed(d / "nope.nii.gz", img)


def _landmark_outside(d: Path, img: Cine):
    pts = {n: img.ijk_to_ras_points([[4 + i, 5, 1]])[0] for i, n in enumerate(MR_LANDMARKS)}
    pts["LV center"] = img.ijk_to_ras_points([[6, 5, -2.0]])[0]
    write_markups(pts, d / "lm.mrk.json")
    return lambda: match_landmarks(d / "lm.mrk.json", img)


def _landmark_missing(d: Path, img: Cine):
    write_markups({"LV center": img.ijk_to_ras_points([[6, 5, 1]])[0]}, d / "lm.mrk.json")
    return lambda: match_landmarks(d / "lm.mrk.json", img)


def _markups_not_json(d: Path, img: Cine):
    (d / "lm.mrk.json").write_text("RV anterior insertion, 1, 2, 3\n")
    return lambda: match_landmarks(d / "lm.mrk.json", img)


API_CASES = [
    ("seed with unknown labels", _seed_unknown_labels, r"unknown labels \[5\]"),
    ("seed outside the image", _seed_outside, "outside the image"),
    ("empty seed", _seed_empty, "empty"),
    ("missing seed file", _seed_missing, "no such seed file"),
    ("landmark outside the image", _landmark_outside, "'LV center' lies outside the image"),
    ("landmark missing", _landmark_missing, "'RV anterior insertion' is missing"),
    ("markups not JSON", _markups_not_json, "not a Slicer markups JSON"),
]


@pytest.mark.parametrize("make, reason", [c[1:] for c in API_CASES], ids=[c[0] for c in API_CASES])
def test_api_seed_and_landmark_bad_input(tmp_path, make, reason):
    call = make(tmp_path, _image())
    before = _listing(tmp_path)
    with pytest.raises(InputError, match=reason) as info:
        call()
    assert "\n" not in str(info.value)
    assert _listing(tmp_path) == before


def test_markups_json_without_markups_key(tmp_path):
    (tmp_path / "lm.mrk.json").write_text(json.dumps({"points": []}))
    with pytest.raises(InputError, match="not a Slicer markups JSON"):
        match_landmarks(tmp_path / "lm.mrk.json", _image())
