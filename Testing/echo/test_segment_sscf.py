"""``segment --method sscf`` end to end (real subprocesses, the bundled weights): no seed needed, ED/ES
detected from the LV area curve, MR refused with exit 3, bad weights exit 4 with no output."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cardiacmotion.phantom.echo import make_echo_case

REPO = Path(__file__).resolve().parents[2]


def _cli(*args, check=True):
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    r = subprocess.run([sys.executable, "-m", "cardiacmotion", *map(str, args)], capture_output=True, text=True, env=env, timeout=300)
    if check and r.returncode != 0:
        raise AssertionError(r.stderr)
    return r


@pytest.fixture(scope="module")
def case_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("echo")
    case = make_echo_case(9031, "A2C", frames=16)
    case.save(d)
    return d


def test_segment_sscf_without_seed(case_dir, tmp_path):
    import SimpleITK as sitk

    seg, info = tmp_path / "seg.nii.gz", tmp_path / "info.json"
    _cli("segment", case_dir / "image.nii.gz", "--method", "sscf", "-o", seg, "--info-json", info)
    meta = json.loads(info.read_text())
    assert meta["method"] == "sscf" and meta["labels"] == [1, 2, 3]
    assert 0 <= meta["ed_phase"] < 16 and 0 <= meta["es_phase"] < 16 and meta["ed_phase"] != meta["es_phase"]
    out = sitk.GetArrayFromImage(sitk.ReadImage(str(seg)))
    truth = sitk.GetArrayFromImage(sitk.ReadImage(str(case_dir / "labels.nii.gz")))
    assert out.shape == truth.shape
    lv, lv_t = out == 1, truth == 1
    assert 2 * (lv & lv_t).sum() / (lv.sum() + lv_t.sum()) > 0.85  # held-out seed, every frame


def test_segment_sscf_refuses_mr_and_bad_weights(case_dir, tmp_path):
    from cardiacmotion.phantom import make_mr_case

    mr = make_mr_case(5, phases=2, slices=3, grid=64, image=False)
    mr.save(tmp_path / "mr")
    r = _cli("segment", tmp_path / "mr" / "image.nii.gz", "--method", "sscf", "-o", tmp_path / "m.nii.gz", check=False)
    assert r.returncode == 3 and "echo" in r.stderr and not (tmp_path / "m.nii.gz").exists()
    bad = tmp_path / "w.pt"
    bad.write_bytes(b"x")
    r = _cli("segment", case_dir / "image.nii.gz", "--method", "sscf", "--weights", bad, "-o", tmp_path / "b.nii.gz", check=False)
    assert r.returncode == 4 and not (tmp_path / "b.nii.gz").exists()


def test_evaluate_echo_has_the_sscf_row(tmp_path, capsys):
    from cardiacmotion.cli.main import main

    out = tmp_path / "e.json"
    assert main(["evaluate", "echo", "--phantom-per-view", "1", "--first-seed", "9040", "--frames", "8", "--methods", "sscf",
                 "--json-out", str(out)]) == 0
    s = json.loads(out.read_text())["held-out training-phantom clips"]["summary"]["sscf"]
    assert s["clips"] == 2 and s["errors"] == 0 and s["dice_LV"] > 0.9
    assert 0 <= s["ed_es_err_median"] <= 4  # detected ED/ES against the truth, frames
    assert "| sscf | 2 |" in capsys.readouterr().out
