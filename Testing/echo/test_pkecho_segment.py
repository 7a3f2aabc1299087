"""``segment --method pkecho``: sliding clips cover every frame once; end to end with the bundled weights
(real subprocesses): no seed, ED/ES from the area curve, MR refused with exit 3, bad weights exit 4."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cardiacmotion.echo.pkecho_segment import frame_step, sliding_clips
from cardiacmotion.phantom.echo import make_echo_case

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("n,step", [(69, 1), (69, 3), (7, 1), (25, 4), (10, 1), (11, 2)])
def test_sliding_clips_answer_for_every_frame_once(n, step):
    owned = []
    for idx, mine in sliding_clips(n, 10, step):
        assert len(idx) == min(10, len(np.arange(idx[0], n, step)))
        assert (np.diff(idx) == step).all()  # forward in time at the clip step
        assert set(mine.tolist()) <= set(idx.tolist())
        owned += mine.tolist()
    assert sorted(owned) == list(range(n))


def test_frame_step_spans_a_systole():
    assert frame_step(None) == 1
    assert frame_step(33.3) == 1
    assert frame_step(10.0) == 3  # 300 ms / 9 steps / 10 ms


def _cli(*args, check=True):
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    r = subprocess.run([sys.executable, "-m", "cardiacmotion", *map(str, args)], capture_output=True, text=True, env=env, timeout=300)
    if check and r.returncode != 0:
        raise AssertionError(r.stderr)
    return r


@pytest.fixture(scope="module")
def case_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("echo")
    make_echo_case(9033, "A4C", frames=24).save(d)
    return d


def test_segment_pkecho_without_seed(case_dir, tmp_path):
    import SimpleITK as sitk

    seg, info = tmp_path / "seg.nii.gz", tmp_path / "info.json"
    _cli("segment", case_dir / "image.nii.gz", "--method", "pkecho", "-o", seg, "--info-json", info)
    meta = json.loads(info.read_text())
    assert meta["method"] == "pkecho" and meta["labels"] == [1, 2, 3]
    assert 0 <= meta["ed_phase"] < 24 and 0 <= meta["es_phase"] < 24 and meta["ed_phase"] != meta["es_phase"]
    assert 0 < meta["model_seconds"] <= meta["seconds"]
    out = sitk.GetArrayFromImage(sitk.ReadImage(str(seg)))
    truth = sitk.GetArrayFromImage(sitk.ReadImage(str(case_dir / "labels.nii.gz")))
    assert out.shape == truth.shape
    lv, lv_t = out == 1, truth == 1
    assert 2 * (lv & lv_t).sum() / (lv.sum() + lv_t.sum()) > 0.85  # held-out seed, every frame


def test_segment_pkecho_refuses_mr_and_bad_weights(case_dir, tmp_path):
    from cardiacmotion.phantom import make_mr_case

    mr = make_mr_case(5, phases=2, slices=3, grid=64, image=False)
    mr.save(tmp_path / "mr")
    r = _cli("segment", tmp_path / "mr" / "image.nii.gz", "--method", "pkecho", "-o", tmp_path / "m.nii.gz", check=False)
    assert r.returncode == 3 and "echo" in r.stderr and not (tmp_path / "m.nii.gz").exists()
    bad = tmp_path / "w.pt"
    bad.write_bytes(b"x")
    r = _cli("segment", case_dir / "image.nii.gz", "--method", "pkecho", "--weights", bad, "-o", tmp_path / "b.nii.gz", check=False)
    assert r.returncode == 4 and not (tmp_path / "b.nii.gz").exists()


def test_evaluate_echo_has_the_pkecho_row(tmp_path, capsys):
    from cardiacmotion.cli.main import main

    out = tmp_path / "e.json"
    assert main(["evaluate", "echo", "--phantom-per-view", "1", "--first-seed", "9040", "--frames", "16", "--methods", "pkecho",
                 "--json-out", str(out)]) == 0
    s = json.loads(out.read_text())["held-out training-phantom clips"]["summary"]["pkecho"]
    assert s["clips"] == 2 and s["errors"] == 0 and s["dice_LV"] > 0.9 and s["dice_LV_unlabelled"] > 0.9
    assert "| pkecho | 2 |" in capsys.readouterr().out
