"""Automatic start on the real studies: the LV is found, the ED seed matches the expert ED contour of
its slice, and the landmark start from a centre and two insertions does too (skips without ../shared/data)."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from cardiacmotion.errors import InputError
from cardiacmotion.propagation.autostart import auto_seed, estimate_ed_es, find_lv

sunnybrook_io = pytest.importorskip("cardiacmotion.io.sunnybrook")
_CACHE: dict = {}


def _dice(a, b) -> float:
    return 2.0 * float((a & b).sum()) / max(float(a.sum() + b.sum()), 1.0)


def _study(name, sunnybrook, porcine):
    if name not in _CACHE:
        if name == "porcine":
            _CACHE[name] = sunnybrook_io.load_porcine(porcine)
        else:
            contours = {"SCD0000101": "SC-HF-I-1", "SCD0000201": "SC-HF-I-2"}[name]
            _CACHE[name] = sunnybrook_io.load_sunnybrook(sunnybrook / name, sunnybrook / "contours" / contours)
    return _CACHE[name]


# measured (README; 0.946/0.827, 0.960/0.764, 0.976/0.810): LV / myocardium Dice of the automatic ED seed against the expert ED contour
MEASURED = {"SCD0000101": (0.95, 0.83), "SCD0000201": (0.96, 0.76), "porcine": (0.98, 0.81)}


@pytest.mark.parametrize("name", sorted(MEASURED))
def test_automatic_seed_matches_the_expert_ed_contour(name, sunnybrook, porcine):
    cine, labels, endo, epi = _study(name, sunnybrook, porcine)
    # Sunnybrook: seed at the expert's ED phase (the estimate is within one phase of it, tested in cli)
    ed = int(np.flatnonzero(epi.any(axis=1))[-1]) if name != "porcine" else None
    seeds, landmarks, report = auto_seed(cine, ed)
    ph, k = report["seed_phase"], report["seed_slice"]
    assert epi[ph, k], "the seed slice must be one the expert contoured"
    s, e = seeds.labels[ph, k], labels[ph, k]
    lv, myo = _dice(s == 3, e == 3), _dice(s == 2, e == 2)
    want_lv, want_myo = MEASURED[name]
    assert lv >= want_lv - 0.02 and myo >= want_myo - 0.03, (name, round(lv, 3), round(myo, 3))
    assert lv >= 0.90 and myo >= 0.75, (name, round(lv, 3), round(myo, 3))  # the target
    assert 0.3 <= report["confidence"] <= 1.0
    # the LV centre landmark lies in the expert's cavity, the insertions outside it
    ijk = np.rint(cine.ras_to_ijk_points(np.array([landmarks[n] for n in ("LV center", "RV anterior insertion")]))).astype(int)
    assert e[ijk[0, 1], ijk[0, 0]] == 3 and e[ijk[1, 1], ijk[1, 0]] != 3


def test_landmark_start_on_scd0000101_reaches_the_targets(sunnybrook, porcine):
    """LV centre at the expert cavity's centroid, insertions from the automatic start (an RV the expert did not draw)."""
    from cardiacmotion.propagation.landmarks_init import mr_seed_from_landmarks

    cine, labels, endo, epi = _study("SCD0000101", sunnybrook, porcine)
    ed = 18
    _, landmarks, report = auto_seed(cine, ed)
    k = report["seed_slice"]
    cy, cx = ndi.center_of_mass(labels[ed, k] == 3)
    landmarks["LV center"] = cine.ijk_to_ras_points(np.array([[cx, cy, k]]))[0]
    s = mr_seed_from_landmarks(cine, landmarks, ed).labels[ed, k]
    e = labels[ed, k]
    assert _dice(s == 3, e == 3) >= 0.90 and _dice(s == 2, e == 2) >= 0.75


def test_ed_es_and_refusal_on_echo(sunnybrook, porcine):
    cine = _study("SCD0000101", sunnybrook, porcine)[0]
    lv = find_lv(cine)
    phases = estimate_ed_es(cine, lv)
    assert phases["ed_phase"] in (17, 18, 19, 0) and phases["es_phase"] in (6, 7, 8)
    echo = cine.with_array(np.asarray(cine.array)[:, :1], modality="US")
    with pytest.raises(InputError, match="short-axis MR stack"):
        find_lv(echo)
