"""`cardiacmotion phantom independent-mr|independent-echo` write a case the product reads back."""
from __future__ import annotations

import json
import subprocess
import sys


def _run(*args):
    return subprocess.run([sys.executable, "-m", "cardiacmotion", *args], capture_output=True, text=True)


def test_independent_echo_cli_writes_a_readable_case(tmp_path):
    out = tmp_path / "case"
    proc = _run("phantom", "independent-echo", "-o", str(out), "--seed", "5", "--view", "A2C", "--progress", "none")
    assert proc.returncode == 0, proc.stderr
    for name in ("image.nii.gz", "labels.nii.gz", "seed.nii.gz", "landmarks.mrk.json", "truth.json"):
        assert (out / name).is_file(), name
    truth = json.loads((out / "truth.json").read_text())
    assert truth["generator"] == "cardiacmotion.independent" and truth["view"] == "A2C"
    fn = tmp_path / "function.json"
    proc = _run("function", str(out / "labels.nii.gz"), "-o", str(fn), "--progress", "none")
    assert proc.returncode == 0, proc.stderr
    # without landmarks the product finds the long axis from the mask: close to the landmark truth
    assert abs(json.loads(fn.read_text())["lv_ef_pct"] - truth["lv_ef_pct"]) < 8.0


def test_independent_cli_refuses_wall_motion(tmp_path):
    proc = _run("phantom", "independent-mr", "-o", str(tmp_path / "x"), "--wall-motion", "normal")
    assert proc.returncode == 2 and "wall-motion" in proc.stderr and not (tmp_path / "x" / "image.nii.gz").exists()
