"""Peak ejection and filling rates (ml/s) from a smoothed volume curve.

Smoothing (stated in the ``method`` string):

- a curve that closes on itself (a full cardiac cycle: the last volume is within a quarter of the
  stroke range of the first, as for gated cine MR) is fitted by least squares with a Fourier series
  of ``min(5, (t-1)//2)`` harmonics over the cycle length ``RR = t x median frame interval``, and
  differentiated analytically on a grid 20 times finer than the frames;
- any other curve (an echo clip that does not cover one cycle) is smoothed and differentiated with a
  Savitzky-Golay filter (window 5 frames, quadratic) on uniformly resampled frame times.

Peak ejection rate = largest ``-dV/dt`` from ED to ES, peak filling rate = largest ``dV/dt`` from
ES back to ED (both positive numbers, ml/s).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_HARMONICS = 5
FINE = 20


@dataclass
class RateResult:
    """Rates and the smoothed curve they come from.

    Attributes:
        peak_ejection_ml_s / peak_filling_ml_s: None when the curve is too short.
        smoothed_ml: ``(t,)`` smoothed volumes at the frame times.
        dvdt_ml_s: ``(t,)`` derivative at the frame times.
        how: the smoothing, in words.
    """

    peak_ejection_ml_s: float | None
    peak_filling_ml_s: float | None
    smoothed_ml: np.ndarray
    dvdt_ml_s: np.ndarray
    how: str


def cycle_length_ms(frame_times_ms: np.ndarray) -> float:
    """``t x median frame interval``: the RR interval when the frames cover one cycle."""
    ft = np.asarray(frame_times_ms, dtype=np.float64)
    if ft.size < 2:
        return 0.0
    return float(ft.size * np.median(np.diff(ft)))


def is_closed_cycle(volumes: np.ndarray) -> bool:
    """True when the last volume returns to within 25 % of the volume range of the first."""
    v = np.asarray(volumes, dtype=np.float64)
    rng = float(v.max() - v.min())
    return rng == 0.0 or abs(v[-1] - v[0]) <= 0.25 * rng


def _fourier(t: np.ndarray, v: np.ndarray, period: float, harmonics: int):
    w = 2 * np.pi / period
    k = np.arange(1, harmonics + 1)

    def design(x):
        return np.concatenate([np.ones((x.size, 1)), np.cos(np.outer(x, k) * w), np.sin(np.outer(x, k) * w)], axis=1)

    coef, *_ = np.linalg.lstsq(design(t), v, rcond=None)
    a, b = coef[1 : harmonics + 1], coef[harmonics + 1 :]

    def value(x):
        return design(x) @ coef

    def slope(x):  # d/dt of a cos(kwt) + b sin(kwt), per ms
        ang = np.outer(x, k) * w
        return (-np.sin(ang) * (a * k * w) + np.cos(ang) * (b * k * w)).sum(axis=1)

    return value, slope


def _between(t: np.ndarray, start: float, stop: float, period: float) -> np.ndarray:
    """Mask of times in the cyclic interval [start, stop] (mod period)."""
    return ((t - start) % period) <= ((stop - start) % period) + 1e-9


def peak_rates(volumes_ml: np.ndarray, frame_times_ms: np.ndarray, ed: int, es: int) -> RateResult:
    """Peak ejection and filling rates of a volume curve (see the module doc for the smoothing)."""
    v = np.asarray(volumes_ml, dtype=np.float64)
    ft = np.asarray(frame_times_ms, dtype=np.float64)
    n = v.size
    if n < 3 or not np.all(np.diff(ft) > 0):
        return RateResult(None, None, v.copy(), np.zeros(n), "rates: not computed (fewer than 3 phases or unordered frame times)")
    t0 = ft - ft[0]
    period = cycle_length_ms(ft)
    if is_closed_cycle(v):
        h = min(MAX_HARMONICS, (n - 1) // 2)
        value, slope = _fourier(t0, v, period, h)
        fine = np.arange(n * FINE) * (period / (n * FINE))
        d_fine = slope(fine) * 1000.0
        systole = _between(fine, t0[ed], t0[es], period)
        diastole = _between(fine, t0[es], t0[ed], period)
        how = f"rates: derivative of a {h}-harmonic Fourier fit over the cycle (RR {period:.0f} ms)"
        smoothed, dvdt = value(t0), slope(t0) * 1000.0
    else:
        from scipy.signal import savgol_filter

        dt = float(np.median(np.diff(t0)))
        grid = t0[0] + np.arange(n) * dt
        vu = np.interp(grid, t0, v)
        window = min(5, n if n % 2 else n - 1)
        order = min(2, window - 1)
        smoothed = savgol_filter(vu, window, order, mode="interp")
        dvdt = savgol_filter(vu, window, order, deriv=1, delta=dt / 1000.0, mode="interp")
        d_fine, fine = dvdt, grid
        span = grid[-1] + dt
        systole = _between(grid, grid[ed], grid[es], span)
        diastole = _between(grid, grid[es], grid[ed], span)
        how = "rates: Savitzky-Golay derivative (5 frames, quadratic; the clip is not one closed cycle)"
    eject = float(np.max(-d_fine[systole])) if systole.any() else None
    fill = float(np.max(d_fine[diastole])) if diastole.any() else None
    return RateResult(
        None if eject is None else max(eject, 0.0),
        None if fill is None else max(fill, 0.0),
        np.asarray(smoothed, dtype=np.float64),
        np.asarray(dvdt, dtype=np.float64),
        how,
    )
