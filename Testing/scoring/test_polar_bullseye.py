"""Polar transform / segment sequences, bullseye figures and geometry."""
from __future__ import annotations

import numpy as np
import pytest

from cardiacmotion.scoring.aha import orient
from cardiacmotion.scoring.bullseye import bullseye_geometry, write_score_bullseye, write_thickening_bullseye
from cardiacmotion.scoring.polar import polar_transform, segment_sequences
from cardiacmotion.scoring.thickening import score_thickening
from scoring_hearts import make_heart, rotation


def test_polar_transform_unrolls_the_ring():
    heart = make_heart(direction=rotation([0.2, 0.9, 0.1], 33.0), anterior_deg=50.0)
    frame = orient(heart.labels, heart.landmarks)
    k = frame.levels()["mid"][0]

    def polar_of(label):
        ind = heart.labels.with_array((heart.labels.array == label).astype(np.float32))
        return polar_transform(ind, frame, n_radius=60, n_angle=72, r_max_mm=60.0, slices=[k])

    cav, myo, rv = polar_of(3), polar_of(2), polar_of(1)
    assert cav.shape == (1, heart.labels.phases, 60, 72)
    # radius is the row: cavity near the centre, myocardium in a band at every angle
    assert np.all(cav[0, 0, :5] > 0.5)
    assert (myo[0, 0] > 0.5).any(axis=0).all()
    # the RV lies outside the wall in the septal arc only (0-120 deg from the anterior insertion)
    angles = np.flatnonzero((rv[0, 0] > 0.5).any(axis=0)) * 5 + 2.5
    assert angles.size > 10 and angles.min() > 0 and angles.max() < 120


def test_segment_sequences_shape_and_order():
    heart = make_heart(septal_arc=100.0, phases=3, anterior_deg=210.0, chirality=-1)
    heart.labels.array[1] = heart.labels.array[0]
    heart.labels.array[2] = heart.labels.array[0]
    rv_image = heart.labels.with_array((heart.labels.array == 1).astype(np.float32))
    seqs = segment_sequences(rv_image, heart.labels, heart.landmarks, size=(24, 16), normalise=False)
    assert seqs.array.shape == (16, 3, 24, 16) and seqs.array.dtype == np.float32
    assert set(seqs.slices) == {"basal", "mid", "apical"}
    # septal segments (2, 3, 8, 9, 14) see the RV (label 1) outside the wall; free-wall ones never do
    outer = seqs.array[:, 0, 18:, :]
    sees_rv = (outer > 0.5).any(axis=(1, 2))
    assert all(sees_rv[s - 1] for s in (2, 3, 8, 9, 14))
    assert not any(sees_rv[s - 1] for s in (1, 4, 5, 6, 7, 10, 11, 12, 15, 16))
    assert seqs.spans_deg[2] == (0.0, 50.0)


def test_bullseye_geometry_convention():
    geo = {s["id"]: s for s in bullseye_geometry()}
    assert len(geo) == 17
    mid = lambda s: np.mod((geo[s]["theta_start_deg"] + geo[s]["theta_end_deg"]) / 2, 360)  # noqa: E731
    assert mid(1) == pytest.approx(90.0) and mid(7) == pytest.approx(90.0) and mid(13) == pytest.approx(90.0)
    assert 90 < mid(2) < 270 and 90 < mid(3) < 270 and mid(14) == pytest.approx(180.0)  # septum on the left
    assert geo[1]["r_outer"] == 1.0 and geo[7]["r_outer"] == geo[1]["r_inner"] and geo[17]["r_inner"] == 0.0
    # sectors of a ring tile it exactly
    for ids in ((1, 2, 3, 4, 5, 6), (13, 14, 15, 16)):
        assert sum(geo[i]["theta_end_deg"] - geo[i]["theta_start_deg"] for i in ids) == pytest.approx(360.0)


def test_bullseye_pngs_written(tmp_path):
    heart = make_heart(phases=2)
    heart.labels.array[1] = heart.labels.array[0]
    arr = heart.labels.array
    # contract phase 1 a little: erode the cavity by moving myo inward
    arr[1][(arr[0] == 3) & np.roll(arr[0] == 2, 1, axis=2)] = 2
    scores = score_thickening(heart.image, heart.labels, heart.landmarks, ed_phase=0, es_phase=1)
    p1, p2 = tmp_path / "b.png", tmp_path / "t.png"
    write_score_bullseye(scores, p1)
    write_thickening_bullseye(scores, p2)
    for p in (p1, p2):
        data = p.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    assert sorted(x.name for x in tmp_path.iterdir()) == ["b.png", "t.png"]  # no temp files left
