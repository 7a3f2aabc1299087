"""Cardiac motion ingredients shared by the MR and echo phantoms.

- a normalised contraction curve ``s(t)`` (0 at end-diastole, 1 at end-systole) with ejection,
  rapid filling, diastasis and atrial kick;
- the 16 AHA segments (Cerqueira 2002), their coronary territories and wall-motion patterns;
- per-class radial endocardial motion and wall thickening.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from cardiacmotion.errors import InputError

#: AHA segment names, id 1..16 (17, the apex, has no short-axis slice).
AHA_NAMES = (
    "basal anterior", "basal anteroseptal", "basal inferoseptal", "basal inferior",
    "basal inferolateral", "basal anterolateral",
    "mid anterior", "mid anteroseptal", "mid inferoseptal", "mid inferior",
    "mid inferolateral", "mid anterolateral",
    "apical anterior", "apical septal", "apical inferior", "apical lateral",
)

#: Segments supplied by each coronary artery (the usual dominance; 17 omitted).
TERRITORIES = {
    "LAD": (1, 2, 7, 8, 13, 14),
    "RCA": (3, 4, 9, 10, 15),
    "LCX": (5, 6, 11, 12, 16),
}

#: Wall-motion classes: 1 normal, 2 hypokinetic, 3 akinetic, 4 dyskinetic.
CLASS_NAMES = {1: "normal", 2: "hypokinetic", 3: "akinetic", 4: "dyskinetic"}

#: Per class: (radial endocardial shortening fraction range, wall thickening fraction range) at ES.
#: Negative radial shortening = outward systolic motion; negative thickening = thinning.
CLASS_MOTION = {
    1: ((0.30, 0.45), (0.40, 0.60)),
    2: ((0.05, 0.15), (0.12, 0.28)),
    3: ((-0.01, 0.02), (0.00, 0.06)),
    4: ((-0.12, -0.06), (-0.20, -0.10)),
}


def contraction_curve(phases: int, rng: np.random.Generator, t_es: Optional[float] = None) -> np.ndarray:
    """Normalised contraction ``s`` per phase: 0 at ED (phase 0), 1 at ES.

    Knots (fraction of the RR interval): ejection to ES, rapid filling (about 70 % of the
    refill), slow diastasis, atrial kick back to ED. Cosine ramps between knots.
    """
    if t_es is None:
        t_es = float(rng.uniform(0.30, 0.40))
    t_rf = t_es + float(rng.uniform(0.14, 0.20))
    t_ak = float(rng.uniform(0.78, 0.84))
    s_rf = float(rng.uniform(0.22, 0.35))  # residual contraction after rapid filling
    s_ak = s_rf * float(rng.uniform(0.55, 0.8))  # after diastasis, before the atrial kick
    knots_t = np.array([0.0, t_es, t_rf, t_ak, 0.97, 1.0])
    knots_s = np.array([0.0, 1.0, s_rf, s_ak, 0.0, 0.0])
    t = np.arange(phases) / phases
    out = np.empty(phases)
    for n, x in enumerate(t):
        m = int(np.searchsorted(knots_t, x, side="right") - 1)
        m = min(m, len(knots_t) - 2)
        f = (x - knots_t[m]) / (knots_t[m + 1] - knots_t[m])
        w = 0.5 - 0.5 * np.cos(np.pi * np.clip(f, 0.0, 1.0))
        out[n] = knots_s[m] + (knots_s[m + 1] - knots_s[m]) * w
    # the frame nearest ES is exactly ES; the last frame keeps a trace of contraction so ED is unique
    out[int(np.argmax(out))] = 1.0
    out[-1] = max(out[-1], 0.02)
    return out


def random_pattern(rng: np.random.Generator) -> list[int]:
    """A wall-motion pattern: normal, one or two coronary territories, or diffuse hypokinesis."""
    scores = [1] * 16
    kind = rng.uniform()
    if kind < 0.3:
        return scores
    if kind < 0.42:  # diffuse (dilated-cardiomyopathy-like) hypokinesis, some segments worse
        scores = [2] * 16
        for sid in rng.choice(16, size=int(rng.integers(0, 7)), replace=False):
            scores[int(sid)] = 3
        return scores
    names = list(TERRITORIES)
    n_terr = 1 if kind < 0.78 else 2
    for name in rng.choice(names, size=n_terr, replace=False):
        segs = list(TERRITORIES[str(name)])
        # an infarct core (akinetic / dyskinetic) with a hypokinetic border zone
        core_n = int(rng.integers(1, len(segs) + 1))
        start = int(rng.integers(0, len(segs)))
        order = segs[start:] + segs[:start]
        core_class = int(rng.choice([2, 3, 3, 4]))
        for n, sid in enumerate(order):
            if n < core_n:
                scores[sid - 1] = max(scores[sid - 1], core_class)
            elif rng.uniform() < 0.5:
                scores[sid - 1] = max(scores[sid - 1], 2)
    return scores


def check_pattern(scores: Sequence[int]) -> list[int]:
    """Validate a forced pattern: 16 ints in 1..4."""
    s = [int(v) for v in scores]
    if len(s) != 16 or any(v not in (1, 2, 3, 4) for v in s):
        raise InputError("wall_motion must be 16 scores in 1..4 (AHA segments 1-16)")
    return s


def pattern_from_options(rng: np.random.Generator, wall_motion) -> list[int]:
    """``wall_motion``: None (random), 'normal', a class int/name for every segment, 'balanced'
    (each segment a random class, for class-balanced training), or 16 explicit scores."""
    if wall_motion is None or wall_motion == "random":
        return random_pattern(rng)
    if isinstance(wall_motion, str):
        key = wall_motion.lower()
        if key == "balanced":
            return [int(v) for v in rng.integers(1, 5, size=16)]
        for cls, name in CLASS_NAMES.items():
            if key == name:
                return [cls] * 16
        raise InputError(f"unknown wall_motion {wall_motion!r} (random, balanced, normal, hypokinetic, akinetic, dyskinetic or 16 scores)")
    if isinstance(wall_motion, (int, np.integer)):
        return check_pattern([int(wall_motion)] * 16)
    return check_pattern(wall_motion)


#: Extra radial shortening of normal segments in the most vigorous (hyperdynamic) hearts: a
#: normal segment's range moves up by ``vigour`` times this, so EF reaches ~75 %.
NORMAL_VIGOUR_SHIFT = (0.14, 0.07)


def class_parameters(scores: Sequence[int], rng: np.random.Generator, vigour: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Per segment (16,) radial endocardial shortening and wall thickening fractions at ES.

    ``vigour`` (0..1, per case) shifts the radial range of normal segments up toward a
    hyperdynamic heart; it never changes the random draws, so the other segments keep their values.
    """
    radial = np.empty(16)
    thick = np.empty(16)
    for n, c in enumerate(scores):
        (r0, r1), (t0, t1) = CLASS_MOTION[int(c)]
        if int(c) == 1:
            r0, r1 = r0 + vigour * NORMAL_VIGOUR_SHIFT[0], r1 + vigour * NORMAL_VIGOUR_SHIFT[1]
        radial[n] = rng.uniform(r0, r1)
        thick[n] = rng.uniform(t0, t1)
    return radial, thick


def sector_index(phi_deg: np.ndarray, phi_ant: float, phi_inf: float, level: str) -> np.ndarray:
    """AHA segment id (1..16) of in-plane angles on a slice of ``level``.

    Angles in degrees, counter-clockwise with anterior at 90 and septum near 180 (a short-axis
    view seen from the apex, anterior up, septum left). ``phi_ant`` < ``phi_inf`` bound the septal arc.
    """
    phi = np.mod(np.asarray(phi_deg, dtype=np.float64), 360.0)
    septal = phi_inf - phi_ant
    if level in ("basal", "mid"):
        base_id = 1 if level == "basal" else 7
        rel = np.mod(phi - phi_ant, 360.0)
        rest = (360.0 - septal) / 4.0
        out = np.empty(phi.shape, dtype=np.int64)
        in_sept = rel < septal
        out[in_sept] = np.where(rel[in_sept] < septal / 2, 1, 2)  # anteroseptal, inferoseptal (offsets)
        r2 = rel[~in_sept] - septal
        # inferior, inferolateral, anterolateral, anterior
        out[~in_sept] = np.array([3, 4, 5, 0])[np.clip((r2 // rest).astype(int), 0, 3)]
        return out + base_id
    mid_sept = 0.5 * (phi_ant + phi_inf)
    rel = np.mod(phi - (mid_sept - 45.0), 360.0)
    # septal, inferior, lateral, anterior counter-clockwise
    idx = np.array([1, 2, 3, 0])[np.clip((rel // 90.0).astype(int), 0, 3)]
    return idx + 13


def angular_profile(values16: np.ndarray, phi_ant: float, phi_inf: float, level: str,
                    n_bins: int = 360, blend_deg: float = 12.0) -> np.ndarray:
    """A per-degree profile of a per-segment quantity on one level, smoothed across borders."""
    phi = (np.arange(n_bins) + 0.5) * 360.0 / n_bins
    seg = sector_index(phi, phi_ant, phi_inf, level)
    prof = np.asarray(values16, dtype=np.float64)[seg - 1]
    if blend_deg > 0:
        half = int(round(blend_deg * n_bins / 360.0))
        kernel = np.ones(2 * half + 1) / (2 * half + 1)
        ext = np.concatenate([prof[-half:], prof, prof[:half]])
        prof = np.convolve(ext, kernel, mode="valid")
    return prof
