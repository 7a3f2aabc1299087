"""The AHA segment map follows the anatomy, whatever the image axes say."""
from __future__ import annotations

import numpy as np
import pytest

from cardiacmotion.errors import InputError
from cardiacmotion.scoring.aha import orient, sector_spans, segment_map, segment_name
from scoring_hearts import make_heart, rotation, truth_segment


def _agreement(heart, phase: int = 0) -> float:
    ids = segment_map(heart.labels, heart.landmarks)
    myo = heart.labels.array[phase] == 2
    truth = np.zeros_like(ids[phase], dtype=int)
    for k, lev in enumerate(heart.z_rank_level):
        if lev >= 0:
            truth[k] = truth_segment(heart.psi[k], lev, heart.septal_arc)
    assessed = myo & (heart.z_rank_level[:, None, None] >= 0)
    # non-ring slices (LVOT, apical caps) must stay unlabelled
    assert not ids[phase][~assessed].any()
    return float((ids[phase][assessed] == truth[assessed]).mean())


def test_sector_spans_by_hand():
    spans = sector_spans(100.0)
    assert spans[2] == (0.0, 50.0) and spans[3] == (50.0, 100.0)
    assert spans[4] == (100.0, 165.0) and spans[1] == (295.0, 360.0)
    assert spans[8] == spans[2] and spans[7] == spans[1]
    assert spans[14] == (5.0, 95.0) and spans[13] == (275.0, 365.0)
    assert segment_name(1) == "basal anterior" and segment_name(14) == "apical septal"
    assert segment_name(17) == "apex"


OBLIQUE = rotation([0.3, -0.5, 0.8], 57.0)
MIRROR = np.diag([-1.0, 1.0, 1.0])


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("axis-aligned", {}),
        ("rotated in plane", {"anterior_deg": 73.0}),
        ("mirrored direction matrix", {"direction": MIRROR, "anterior_deg": 200.0}),
        ("mirrored anatomy", {"chirality": -1, "anterior_deg": 31.0}),
        ("oblique anisotropic", {"direction": OBLIQUE, "spacing": (1.3, 1.7, 7.0), "anterior_deg": 140.0}),
        ("oblique mirrored, base last", {"direction": OBLIQUE @ MIRROR, "base_at_slice0": False, "chirality": -1}),
        ("narrow septum", {"septal_arc": 80.0, "anterior_deg": 250.0}),
        ("wide septum, mirrored", {"septal_arc": 150.0, "direction": MIRROR, "chirality": -1}),
    ],
)
def test_segment_map_follows_anatomy(name, kwargs):
    heart = make_heart(**kwargs)
    assert _agreement(heart) > 0.97, name


def test_levels_and_base_end():
    for base0 in (True, False):
        heart = make_heart(base_at_slice0=base0, direction=OBLIQUE)
        frame = orient(heart.labels, heart.landmarks)
        np.testing.assert_array_equal(frame.slice_level, heart.z_rank_level)
        assert frame.base_at_slice0 == base0
        assert frame.septal_arc_deg == pytest.approx(120.0, abs=0.5)


def test_segment_map_follows_the_heart_through_time():
    heart = make_heart(phases=2)
    lab = heart.labels.array.copy()
    lab[1] = np.roll(lab[0], (3, -4), axis=(1, 2))  # the whole heart moves in phase 1
    moved = heart.labels.with_array(lab)
    ids = segment_map(moved, heart.landmarks, ed_phase=0)
    np.testing.assert_array_equal(np.roll(ids[0], (3, -4), axis=(1, 2)), ids[1])


def test_bad_landmarks():
    heart = make_heart()
    lm = dict(heart.landmarks)
    del lm["LV center"]
    with pytest.raises(InputError, match="LV center"):
        orient(heart.labels, lm)
    lm = dict(heart.landmarks)
    lm["RV inferior insertion"] = lm["RV anterior insertion"] + 0.1
    with pytest.raises(InputError, match="10 deg"):
        orient(heart.labels, lm)
    lm = dict(heart.landmarks)
    lm["LV center"] = lm["LV center"] + 1000.0
    with pytest.raises(InputError, match="outside"):
        orient(heart.labels, lm)


def test_region_all_covers_level_slices():
    heart = make_heart(anterior_deg=15.0)
    frame = orient(heart.labels, heart.landmarks)
    every = segment_map(heart.labels, heart.landmarks, region="all", frame=frame)
    myo = segment_map(heart.labels, heart.landmarks, frame=frame)
    level = frame.slice_level >= 0
    assert (every[:, level] > 0).all() and not every[:, ~level].any()
    on_myo = heart.labels.array == 2
    np.testing.assert_array_equal(every[on_myo & (myo > 0)], myo[on_myo & (myo > 0)])
    assert every.max() == 16 and every.dtype == np.int8
