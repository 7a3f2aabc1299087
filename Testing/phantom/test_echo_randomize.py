"""Echo domain randomisation: deterministic, labels unchanged by image-only changes, landmarks follow
geometric ones, values in range, fast; wired into the TAN and SSCF training data."""
from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np
import pytest
from scipy import ndimage

from cardiacmotion.echo.clips import phantom_clip
from cardiacmotion.phantom.echo_randomize import VERSION, EchoRandomizeConfig, randomize_clip, randomize_echo, selected

IMAGE_ONLY = EchoRandomizeConfig(geometry=0.0, half_rate=0.0)
ALL_ON = EchoRandomizeConfig(geometry=1.0, half_rate=0.0, contrast=1.0, valve=1.0, rim=1.0, speckle=1.0, blur=1.0, dropout=1.0, haze=1.0,
                             apical_haze=1.0, reverberation=1.0)


@pytest.fixture(scope="module")
def clip():
    return phantom_clip(31, "A4C", frames=12)


def test_same_seed_same_clip_other_seed_other_clip(clip):
    a = randomize_clip(clip, 5)
    b = randomize_clip(clip, 5)
    c = randomize_clip(clip, 6)
    assert np.array_equal(a.frames, b.frames) and np.array_equal(a.labels, b.labels)
    assert np.array_equal(a.landmarks, b.landmarks, equal_nan=True) and a.truth["randomized"] == b.truth["randomized"]
    assert not np.array_equal(a.frames, c.frames)


def test_image_only_changes_keep_labels_and_landmarks_exactly(clip):
    for seed in range(3):
        r = randomize_clip(clip, seed, ALL_ON.__class__(**{**dataclasses.asdict(ALL_ON), "geometry": 0.0}))
        assert np.array_equal(r.labels, clip.labels)
        assert np.array_equal(r.landmarks, clip.landmarks)
        assert (r.ed, r.es, r.length) == (clip.ed, clip.es, clip.length)
        # the image did change, and not by a constant factor
        assert np.corrcoef(r.frames[clip.labels > 0], clip.frames[clip.labels > 0])[0, 1] < 0.95


def test_values_stay_in_range_and_zero_outside_the_sector(clip):
    for seed in range(3):
        r = randomize_clip(clip, seed, ALL_ON)
        assert r.frames.dtype == np.float32 and np.isfinite(r.frames).all()
        assert r.frames.min() >= 0.0 and r.frames.max() <= 1.5
        assert 0.9 < np.percentile(r.frames[r.frames > 0], 99.5) <= 1.5
        outside = clip.frames.max(axis=0) == 0  # never imaged before: cannot be imaged now
        assert r.frames[:, outside].max() == 0.0
        assert set(np.unique(r.labels).tolist()) <= {0, 1, 2, 3}
        sector = ndimage.binary_fill_holes(r.frames.max(axis=0) > 0)  # black blood inside is still imaged
        assert not r.labels[:, ~sector].any()  # only what is imaged is labelled


def test_landmarks_move_with_the_geometry(clip):
    # paint a small disk (labels 1, 2, 3) at each landmark of every frame; after a geometric draw the
    # disk's centroid must lie at the moved landmark
    lab = np.zeros_like(clip.labels)
    yy, xx = np.mgrid[: lab.shape[1], : lab.shape[2]]
    for t in range(clip.length):
        for k in range(3):
            x, y = clip.landmarks[t, k]
            lab[t][(xx - x) ** 2 + (yy - y) ** 2 <= 16] = k + 1
    painted = dataclasses.replace(clip, labels=lab)
    cfg = dataclasses.replace(IMAGE_ONLY, geometry=1.0, sector_shrink=(1.0, 1.0))
    moved = 0
    for seed in range(4):
        r = randomize_clip(painted, seed, cfg)
        g = r.truth["randomized"]["geometry"]
        for t in (0, clip.length - 1):
            for k in range(3):
                m = r.labels[t] == k + 1
                if m.sum() < 30:  # cut by the sector
                    continue
                centroid = np.array([xx[m].mean(), yy[m].mean()])
                assert np.linalg.norm(centroid - r.landmarks[t, k]) < 1.0, (seed, t, k, g)
                moved += np.linalg.norm(r.landmarks[t, k] - clip.landmarks[t, k]) > 2.0
    assert moved >= 4


def test_half_frame_rate_keeps_ed_and_the_matching_labels(clip):
    long = phantom_clip(32, "A2C", frames=30)
    cfg = dataclasses.replace(IMAGE_ONLY, half_rate=1.0)
    r = randomize_clip(long, 1, cfg)
    assert r.length == len(range(long.ed % 2, 30, 2))
    idx = np.arange(long.ed % 2, 30, 2)
    assert np.array_equal(r.labels, long.labels[idx]) and np.array_equal(r.landmarks, long.landmarks[idx])
    assert idx[r.ed] == long.ed and r.es is not None
    assert r.cine.phases == r.length and np.allclose(r.cine.frame_times_ms, long.cine.frame_times_ms[idx])


def test_fraction_selection_is_deterministic_and_roughly_the_share():
    picks = [selected(s, v, 0.5) for s in range(100, 200) for v in ("A4C", "A2C")]
    assert picks == [selected(s, v, 0.5) for s in range(100, 200) for v in ("A4C", "A2C")]
    assert 70 <= sum(picks) <= 130
    assert not any(selected(s, "A4C", 0.0) for s in range(50)) and all(selected(s, "A4C", 1.0) for s in range(50))


def test_fast_enough(clip):
    t0 = time.perf_counter()
    randomize_clip(clip, 3, ALL_ON)
    per_frame = (time.perf_counter() - t0) / clip.length
    assert per_frame < 0.25  # ~0.03 s per 256 x 240 frame on an idle core; generous for a loaded machine


def test_shapes_are_checked():
    with pytest.raises(ValueError):
        randomize_echo(np.zeros((3, 8, 8)), np.zeros((3, 8, 9), np.uint8), np.zeros((3, 3, 2)), (0.5, 0.5), 0)


def test_tan_trainer_uses_the_randomised_clips(tmp_path, clip):
    from cardiacmotion.training import train_tan

    cache = tmp_path / "cache"
    cache.mkdir()
    for view in ("A4C", "A2C"):  # short clips in the trainer's cache format (full-length clips are slow to render)
        c = phantom_clip(40, view, frames=6)
        np.savez(cache / f"phantom-{view}-40.npz", frames=c.frames.astype(np.float16), labels=c.labels, labelled=c.labelled,
                 landmarks=c.landmarks, spacing=np.array(c.spacing), ed=c.ed, es=c.es)
    p = argparse.ArgumentParser()
    train_tan.add_arguments(p)
    out = tmp_path / "tan.pt"
    args = p.parse_args(["-o", str(out), "--phantom-per-view", "1", "--first-seed", "40", "--cache", str(cache),
                         "--iterations", "1", "--batch", "2", "--size", "32", "--widths", "4,4,4,4,4", "--randomize", "1"])
    assert train_tan.train(args) == 0
    plain = np.load(cache / "phantom-A4C-40.npz")
    rand = np.load(cache / f"phantom-A4C-40-rand{VERSION}.npz")
    assert not np.array_equal(plain["frames"], rand["frames"])
    from cardiacmotion.models.weights import load_checkpoint

    assert load_checkpoint(out)["meta"]["randomize"] == 1.0


def test_sscf_and_harness_helpers_take_the_switch(tmp_path):
    from cardiacmotion.echo import harness
    from cardiacmotion.echo.sscf_data import load_training_clips

    plain = harness.phantom_clips(41, 1, frames=8)
    rand = harness.phantom_clips(41, 1, randomize=1.0, frames=8)
    assert [c.name for c in rand] == [c.name + "-rand" for c in plain]
    assert all("randomized" in c.truth and not np.array_equal(c.frames, p.frames) for c, p in zip(rand, plain))
    sscf = load_training_clips(41, 1, 32, cache=str(tmp_path), randomize=1.0, log=lambda m: None, frames=8)
    assert len(sscf) == 2 and sorted(p.name for p in tmp_path.glob("*-rand*.npz")) == [f"sscf-A2C-41-32-rand{VERSION}.npz", f"sscf-A4C-41-32-rand{VERSION}.npz"]
