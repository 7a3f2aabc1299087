"""Echo method of discs against the closed-form volume of ellipsoids of revolution."""
from __future__ import annotations

import numpy as np
import pytest

from cardiacmotion.cine import Cine
from cardiacmotion.errors import InputError
from cardiacmotion.function import compute_function
from cardiacmotion.function.discs import biplane_volume_ml, single_plane_volume_ml
from fn_helpers import echo_landmarks, echo_matrix, ellipse_frame

PX = 0.25
SHAPE = (300, 300)
CENTRE = (150.0, 140.0)
ANGLE = 0.6  # the long axis is oblique in the image


def _cine(frames, px=PX, view="A4C", m=None):
    arr = np.stack(frames)[:, None]
    return Cine(arr, echo_matrix(px) if m is None else m, np.arange(len(frames)) * 40.0, modality="US", view=view)


def test_disc_formulas():
    d = np.full(20, 10.0)
    assert single_plane_volume_ml(d, 50.0) == pytest.approx(np.pi / 4 * 100 * 50 / 1000)
    assert biplane_volume_ml(d, 2 * d, 50.0) == pytest.approx(2 * np.pi / 4 * 100 * 50 / 1000)


def test_full_ellipse_principal_axis_matches_ellipsoid():
    sizes = [(34.0, 16.0), (30.0, 13.0), (27.0, 11.0)]
    seg = _cine([ellipse_frame(SHAPE, PX, CENTRE, ANGLE, a, b) for a, b in sizes])
    r = compute_function(seg)
    truth = [4 / 3 * np.pi * a * b * b / 1000 for a, b in sizes]
    np.testing.assert_allclose(r["lv_volume_ml"], truth, rtol=0.015)
    assert "principal axis" in r["method"] and "single-plane" in r["method"]
    assert (r["ed_phase"], r["es_phase"]) == (0, 2)
    assert r["rv_volume_ml"] is None and r["lv_mass_g"] is None


def test_truncated_ellipsoid_with_la_border_rule():
    a, b = 36.0, 17.0
    seg = _cine([ellipse_frame(SHAPE, PX, CENTRE, ANGLE, a * s, b * s, half=True, la=True) for s in (1.0, 0.8)])
    r = compute_function(seg)
    truth = [2 / 3 * np.pi * a * b * b * s**3 / 1000 for s in (1.0, 0.8)]
    np.testing.assert_allclose(r["lv_volume_ml"], truth, rtol=0.02)
    assert "LV/LA border" in r["method"]


def test_tracked_landmarks_per_frame():
    sizes = [(36.0, 17.0), (33.0, 15.0), (29.0, 12.5), (32.0, 14.0)]
    m = echo_matrix(PX)
    seg = _cine([ellipse_frame(SHAPE, PX, CENTRE, ANGLE, a, b, half=True) for a, b in sizes], m=m)
    lms = [echo_landmarks(m, PX, CENTRE, ANGLE, a, b) for a, b in sizes]
    per_name = {n: np.array([lm[n] for lm in lms]) for n in lms[0]}  # the phantom's landmarks_per_frame layout
    r = compute_function(seg, landmarks_per_frame=per_name)
    truth = np.array([2 / 3 * np.pi * a * b * b / 1000 for a, b in sizes])
    np.testing.assert_allclose(r["lv_volume_ml"], truth, rtol=0.01)
    ef_truth = (truth[0] - truth[2]) / truth[0] * 100
    assert abs(r["lv_ef_pct"] - ef_truth) <= 0.5
    assert "tracked landmarks" in r["method"]
    # the list-of-dicts layout gives the same numbers
    assert compute_function(seg, landmarks_per_frame=lms)["lv_volume_ml"] == r["lv_volume_ml"]


def test_biplane_two_views_same_heart():
    a, b4, b2 = 34.0, 17.0, 13.0
    scales = (1.0, 0.85, 0.75)
    a4c = _cine([ellipse_frame(SHAPE, PX, CENTRE, ANGLE, a * s, b4 * s) for s in scales])
    a2c = _cine([ellipse_frame(SHAPE, PX, CENTRE, -0.2, a * s, b2 * s) for s in scales], view="A2C",
                m=echo_matrix(PX, angles=(0.4, 0.1, 1.2)))
    r = compute_function(a4c, second_view=a2c)
    truth = [4 / 3 * np.pi * a * b4 * b2 * s**3 / 1000 for s in scales]
    np.testing.assert_allclose(r["lv_volume_ml"], truth, rtol=0.015)
    assert "biplane" in r["method"] and "A4C + A2C" in r["method"]
    # different phase counts: the second view is resampled by cycle fraction, with a warning
    a2c_long = _cine([ellipse_frame(SHAPE, PX, CENTRE, -0.2, a * s, b2 * s) for s in (1.0, 0.925, 0.85, 0.8, 0.75)],
                     view="A2C")
    r2 = compute_function(a4c, second_view=(a2c_long, None))
    assert any("resampled" in w for w in r2["warnings"])
    np.testing.assert_allclose(r2["lv_volume_ml"], truth, rtol=0.015)


def test_echo_bad_inputs():
    frame = ellipse_frame(SHAPE, PX, CENTRE, ANGLE, 30.0, 14.0)
    seg = _cine([frame, frame])
    with pytest.raises(InputError, match="missing: Mitral annulus lateral"):
        compute_function(seg, landmarks_per_frame={"Apex": [0, 0, 0], "Mitral annulus septal": [0, 0, 0]})
    far = {"Apex": [900.0, 0, 0], "Mitral annulus septal": [0, 0, 0], "Mitral annulus lateral": [0, 0, 0]}
    with pytest.raises(InputError, match="outside the echo image"):
        compute_function(seg, landmarks_per_frame=far)
    two_slices = Cine(np.stack([np.stack([frame, frame])] * 2), echo_matrix(PX), [0, 40], modality="US")
    with pytest.raises(InputError, match="one slice"):
        compute_function(two_slices)
    with pytest.raises(InputError, match="at least 2 phases"):
        compute_function(_cine([frame]))


def test_echo_missing_phase_and_no_lv():
    sizes = [(34.0, 16.0), (31.0, 14.0), (29.0, 12.5), (27.0, 11.0), (30.0, 13.0)]
    frames = [ellipse_frame(SHAPE, PX, CENTRE, ANGLE, a, b) for a, b in sizes]
    frames[2] = np.zeros(SHAPE, np.uint8)  # lost in the middle of the clip
    r = compute_function(_cine(frames))
    assert any("phase(s) 2" in w for w in r["warnings"])
    assert r["lv_volume_ml"][2] == pytest.approx((r["lv_volume_ml"][1] + r["lv_volume_ml"][3]) / 2, abs=1e-3)
    assert (r["ed_phase"], r["es_phase"]) == (0, 3)
    only_la = [np.where(f == 1, 3, 0).astype(np.uint8) for f in frames]
    with pytest.raises(InputError, match="no LV cavity"):
        compute_function(_cine(only_la))
