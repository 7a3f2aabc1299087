"""The bundled TAN weights: they load, and on held-out phantom clips they beat trivial baselines."""
from __future__ import annotations

import numpy as np
import pytest

from cardiacmotion.echo import harness
from cardiacmotion.echo.clips import phantom_clip
from cardiacmotion.echo.tan_track import TANTracker
from cardiacmotion.echo.tan_weights import bundled_tan, load_tan
from cardiacmotion.errors import WeightsError


@pytest.fixture(scope="module")
def tracker():
    return TANTracker.from_weights()


@pytest.fixture(scope="module")
def clips():
    # held out: training used seeds 100+
    return [phantom_clip(9020, "A4C", frames=14), phantom_clip(9021, "A2C", frames=14)]


def test_bundled_weights_are_in_the_manifest_and_small():
    path, sha = bundled_tan()
    assert path.is_file() and sha and path.stat().st_size < 25 * 2**20


def test_tan_beats_static_and_held_landmarks(tracker, clips):
    for c in clips:
        res = tracker.track(c.frames, {0: c.landmarks[0]})
        lv = [harness.dice(res.labels[t] == 1, c.labels[t] == 1) for t in range(c.length)]
        static = [harness.dice(c.labels[0] == 1, c.labels[t] == 1) for t in range(c.length)]
        assert np.mean(lv) > 0.9 and np.mean(lv[1:]) > np.mean(static[1:])
        sp = np.asarray(c.spacing)
        err = np.linalg.norm((res.landmarks - c.landmarks) * sp, axis=2)[1:].mean()
        held = np.linalg.norm((c.landmarks[:1] - c.landmarks) * sp, axis=2)[1:].mean()
        assert err < 3.0 and err < held + 1.0
        assert res.view == c.view


def test_automatic_start_finds_the_heart(tracker, clips):
    c = clips[0]
    res = tracker.track(c.frames)
    assert np.mean([harness.dice(res.labels[t] == 1, c.labels[t] == 1) for t in range(c.length)]) > 0.85


def test_a_correction_restarts_tracking_both_ways(tracker, clips):
    c = clips[0]
    k = c.length // 2
    res = tracker.track(c.frames, {0: c.landmarks[0], k: c.landmarks[k]})
    assert np.allclose(res.landmarks[k], c.landmarks[k])  # the anchor is the user's
    assert np.allclose(res.landmarks[0], c.landmarks[0])


def test_wrong_weights_are_refused(tmp_path):
    bad = tmp_path / "x.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(WeightsError):
        load_tan(str(bad))
