"""Peak ejection / filling rates on curves whose derivative is known in closed form."""
from __future__ import annotations

import numpy as np
import pytest

from cardiacmotion.function.rates import peak_rates


def test_periodic_cosine_curve_exact_peaks():
    # V(t) = 100 + 40 cos(2 pi t / RR): |dV/dt| peaks at 40 * 2 pi / RR, in systole and diastole alike
    rr, n = 900.0, 25
    t = np.arange(n) * rr / n
    v = 100 + 40 * np.cos(2 * np.pi * t / rr)
    res = peak_rates(v, t, ed=0, es=int(np.argmin(v)))
    expected = 40 * 2 * np.pi / (rr / 1000.0)
    assert res.peak_ejection_ml_s == pytest.approx(expected, rel=1e-3)
    assert res.peak_filling_ml_s == pytest.approx(expected, rel=1e-3)
    assert "Fourier" in res.how
    np.testing.assert_allclose(res.smoothed_ml, v, atol=1e-6)


def test_asymmetric_cycle_separates_ejection_and_filling():
    # fast ejection (second harmonic adds to it) and slower filling: the two peaks differ
    rr, n = 1000.0, 30
    t = np.arange(n) * rr / n
    w = 2 * np.pi / rr
    v = 120 + 30 * np.cos(w * t) + 8 * np.sin(2 * w * t)
    fine = np.linspace(0, rr, 20000, endpoint=False)
    dv = (-30 * w * np.sin(w * fine) + 16 * w * np.cos(2 * w * fine)) * 1000
    vf = 120 + 30 * np.cos(w * fine) + 8 * np.sin(2 * w * fine)
    ed_t, es_t = fine[np.argmax(vf)], fine[np.argmin(vf)]
    systole = ((fine - ed_t) % rr) <= ((es_t - ed_t) % rr)
    ed, es = int(np.argmax(v)), int(np.argmin(v))
    res = peak_rates(v, t, ed, es)
    assert res.peak_ejection_ml_s == pytest.approx(np.max(-dv[systole]), rel=0.01)
    assert res.peak_filling_ml_s == pytest.approx(np.max(dv[~systole]), rel=0.01)
    assert res.peak_ejection_ml_s != pytest.approx(res.peak_filling_ml_s, rel=0.05)


def test_open_clip_uses_savitzky_golay():
    # an echo clip from ED to past ES, not closing: piecewise-linear volume with known slopes
    t = np.arange(12) * 50.0
    v = np.where(t <= 300, 150 - 0.2 * t, 90 + 0.1 * (t - 300))  # -200 ml/s then +100 ml/s
    res = peak_rates(v, t, ed=0, es=6)
    assert "Savitzky-Golay" in res.how
    assert res.peak_ejection_ml_s == pytest.approx(200.0, rel=1e-6)
    assert res.peak_filling_ml_s == pytest.approx(100.0, rel=1e-6)


def test_too_short_curve_gives_none():
    res = peak_rates(np.array([100.0, 60.0]), np.array([0.0, 300.0]), 0, 1)
    assert res.peak_ejection_ml_s is None and res.peak_filling_ml_s is None
