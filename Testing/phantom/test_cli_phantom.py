"""``cardiacmotion phantom``: files written, one-line errors."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

from cardiacmotion.cli.main import main
from cardiacmotion.io import read_image
from cardiacmotion.phantom import CASE_FILES


def test_phantom_echo_writes_a_case(tmp_path):
    out = tmp_path / "echo"
    assert main(["phantom", "echo", "-o", str(out), "--seed", "1", "--view", "A2C", "--progress", "none"]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(CASE_FILES)  # no temporary left-overs
    truth = json.loads((out / "truth.json").read_text())
    img = read_image(out / "image.nii.gz")
    assert img.modality == "US" and img.view == "A2C" and truth["view"] == "A2C"
    assert len(truth["lv_volume_ml"]) == img.phases
    assert set(truth["landmarks_per_frame"]) == {"Apex", "Mitral annulus septal", "Mitral annulus lateral"}


def test_phantom_mr_forced_pattern(tmp_path):
    out = tmp_path / "mr"
    scores = "1,1,3,3,1,1,1,1,3,3,1,1,1,1,3,1"
    assert main(["phantom", "mr", "-o", str(out), "--seed", "2", "--wall-motion", scores, "--progress", "none"]) == 0
    truth = json.loads((out / "truth.json").read_text())
    assert [s["score"] for s in truth["segments"]] == [int(v) for v in scores.split(",")]
    img = read_image(out / "image.nii.gz")
    assert img.modality == "MR" and np.isfinite(img.array).all()


def test_bad_input_is_one_line(tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    for args in (["phantom", "mr", "-o", str(blocker)],
                 ["phantom", "mr", "-o", str(tmp_path / "x"), "--wall-motion", "1,2,3"],
                 ["phantom", "echo", "-o", str(tmp_path / "y"), "--view", "PLAX"]):
        proc = subprocess.run([sys.executable, "-m", "cardiacmotion", *args], capture_output=True, text=True)
        assert proc.returncode == 2, (args, proc.stderr)
        assert proc.stderr.count("\n") == 1 and "error" in proc.stderr
