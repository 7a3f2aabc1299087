"""Automatic start of an apical echo clip for the propagation methods (no landmarks, no seed).

Measured (README, Known limits) on held-out training-phantom clips and independent-generator clips;
here one development phantom clip keeps the default run short.
"""
from __future__ import annotations

import numpy as np
import pytest

from cardiacmotion.errors import InputError
from cardiacmotion.propagation.autostart import auto_seed
from cardiacmotion.propagation.evaluate import case


def _dice(a, b) -> float:
    return 2.0 * float((a & b).sum()) / max(float(a.sum() + b.sum()), 1.0)


@pytest.fixture(scope="module")
def clip():
    image, truth, _seeds, _landmarks, _source = case("echo", 0)
    return image, truth


def test_echo_automatic_seed_finds_the_lv_cavity(clip):
    image, truth = clip
    seeds, landmarks, report = auto_seed(image)  # dispatches to the echo start for a one-slice US clip
    ph = report["seed_phase"]
    assert seeds.seeded.sum() == 1 and seeds.seeded[ph, 0]
    s, t = seeds.labels[ph, 0], truth[ph, 0]
    assert _dice(s == 1, t == 1) >= 0.85 and _dice(s == 2, t == 2) >= 0.55
    # ED: the largest cavity of the clip is where the truth's cavity is (near) its largest
    areas = (truth[:, 0] == 1).sum(axis=(1, 2))
    assert areas[ph] >= 0.95 * areas.max()
    assert set(landmarks) == {"Apex", "Mitral annulus septal", "Mitral annulus lateral"}
    apex = np.rint(image.ras_to_ijk_points(np.asarray(landmarks["Apex"])[None])[0]).astype(int)
    near = truth[ph, 0, max(0, apex[1] - 6): apex[1] + 7, max(0, apex[0] - 6): apex[0] + 7]
    assert (near == 1).any() and (near == 2).any(), "the apex lies at the cavity's tip, next to the wall"
    assert 0.0 < report["confidence"] <= 1.0
    # four-chamber view: septal is the RV's side; each point within 8 mm of the phantom's own landmarks
    assert report["septal_side"] == "the RV's side"
    _img, _t, _s, true_lm, _src = case("echo", 0)
    for name, ras in true_lm.items():
        assert np.linalg.norm(np.asarray(landmarks[name]) - np.asarray(ras)) <= 8.0, name


def test_echo_automatic_start_refuses_a_still_frame(clip):
    image, _ = clip
    still = image.with_array(np.asarray(image.array)[:2], frame_times_ms=np.asarray(image.frame_times_ms)[:2])
    with pytest.raises(InputError, match="at least 4 frames"):
        auto_seed(still)


def test_landmarks_command_writes_the_echo_landmarks(clip, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    from cardiacmotion.io import write_image
    from cardiacmotion.io.markups import read_markups

    image, truth = clip
    write_image(image, tmp_path / "clip.nii.gz")
    repo = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, "-m", "cardiacmotion", "landmarks", str(tmp_path / "clip.nii.gz"),
                           "-o", str(tmp_path / "lm.mrk.json"), "--modality", "echo"], cwd=repo, capture_output=True,
                          text=True, timeout=600, env={"PYTHONPATH": str(repo), "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    points = read_markups(tmp_path / "lm.mrk.json")
    assert set(points) == {"Apex", "Mitral annulus septal", "Mitral annulus lateral"}
