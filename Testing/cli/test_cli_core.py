"""The CLI's front door: one-line reasons and exit codes, info on a written NIfTI."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

from cardiacmotion.cine import Cine
from cardiacmotion.cli.main import main
from cardiacmotion.io import read_image, write_image


def _oblique_cine(phases: int = 3) -> Cine:
    rot = np.array([[0.8, -0.6, 0.0], [0.36, 0.48, -0.8], [0.48, 0.64, 0.6]]).T
    m = np.eye(4)
    m[:3, :3] = rot @ np.diag([1.4, 1.4, 8.0])
    m[:3, 3] = [-12.5, 40.0, 7.25]
    arr = np.random.default_rng(0).random((phases, 4, 6, 5)).astype(np.float32)
    return Cine(arr, m, np.arange(phases) * 33.0, modality="MR", view="SAX")


def test_info_json_reports_shape_and_geometry(tmp_path, capsys):
    cine = _oblique_cine()
    path = tmp_path / "cine.nii.gz"
    write_image(cine, path)
    assert main(["info", str(path), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["shape"] == {"phases": 3, "slices": 4, "rows": 6, "columns": 5}
    np.testing.assert_allclose(info["ijk_to_ras"], cine.ijk_to_ras, atol=1e-5)
    np.testing.assert_allclose(info["frame_times_ms"], [0, 33, 66])
    assert info["modality"] == "MR"


def test_nifti_roundtrip_exact_geometry(tmp_path):
    cine = _oblique_cine()
    path = tmp_path / "cine.nii.gz"
    write_image(cine, path)
    back = read_image(path)
    np.testing.assert_allclose(back.ijk_to_ras, cine.ijk_to_ras, atol=1e-5)
    np.testing.assert_array_equal(back.array, cine.array)
    np.testing.assert_allclose(back.frame_times_ms, cine.frame_times_ms)


def test_missing_file_is_one_line_nonzero(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "cardiacmotion", "info", str(tmp_path / "nope.nii.gz")],
        capture_output=True, text=True,
    )
    assert proc.returncode != 0
    assert proc.stderr.count("\n") == 1 and "no such file" in proc.stderr
