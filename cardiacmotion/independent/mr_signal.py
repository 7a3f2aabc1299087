"""MR image formation of the independent generator: body background, bSSFP tissue signal, coils, noise.

Signal: balanced SSFP steady state at TE = TR/2,
``S = PD sin(a) (1 - E1) sqrt(E2) / (1 - (E1 - E2) cos(a) - E1 E2)``, ``E = exp(-TR/T)``, with
per-heart jittered 1.5 T relaxation times, so blood and fat are bright and myocardium, liver and
muscle dark; through-plane inflow brightens blood near the valve planes while the blood moves.
Receive coils are an anterior and a posterior array whose root-sum-of-squares sensitivity shades
the image; the noise is Rician (complex Gaussian noise added before the magnitude).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cardiacmotion.independent import motion as mo

# body background classes continue the heart tissue codes of motion.py
B_AIR, B_LUNG, B_FAT, B_MUSCLE, B_LIVER, B_BONE, B_BLOOD, B_SOFT, B_MEDIASTINUM = range(9, 18)
N_TISSUES = 18

#: (T1 ms, T2 ms, proton density) at 1.5 T per tissue class.
RELAXATION = {
    mo.T_BODY: (1000.0, 50.0, 0.0),
    mo.T_LV_BLOOD: (1550.0, 250.0, 0.95),
    mo.T_MYO: (1000.0, 48.0, 0.8),
    mo.T_RV_BLOOD: (1550.0, 250.0, 0.95),
    mo.T_LA_BLOOD: (1550.0, 240.0, 0.95),
    mo.T_FAT: (280.0, 85.0, 0.8),
    mo.T_TRAB: (1000.0, 48.0, 0.8),
    mo.T_WALL: (1000.0, 45.0, 0.75),
    mo.T_OTHER_BLOOD: (1550.0, 230.0, 0.95),
    B_AIR: (1000.0, 50.0, 0.0),
    B_LUNG: (1200.0, 40.0, 0.12),
    B_FAT: (290.0, 80.0, 0.9),
    B_MUSCLE: (900.0, 35.0, 0.75),
    B_LIVER: (580.0, 45.0, 0.75),
    B_BONE: (550.0, 60.0, 0.55),
    B_BLOOD: (1550.0, 230.0, 0.95),
    B_SOFT: (1050.0, 65.0, 0.8),
    B_MEDIASTINUM: (450.0, 60.0, 0.6),  # fat, thymus remnant and vessels, mixed
}
BLOOD_CODES = (mo.T_LV_BLOOD, mo.T_RV_BLOOD, mo.T_LA_BLOOD, mo.T_OTHER_BLOOD, B_BLOOD)


def bssfp_signal(t1: np.ndarray, t2: np.ndarray, pd: np.ndarray, tr_ms: float, flip_deg: float) -> np.ndarray:
    """Balanced-SSFP steady-state magnitude at TE = TR/2."""
    a = np.radians(flip_deg)
    e1, e2 = np.exp(-tr_ms / t1), np.exp(-tr_ms / t2)
    return pd * np.sin(a) * (1 - e1) * np.sqrt(e2) / (1 - (e1 - e2) * np.cos(a) - e1 * e2)


def tissue_signals(rng: np.random.Generator, tr_ms: float, flip_deg: float) -> np.ndarray:
    """Signal per tissue code for one study (relaxation times jittered +-10 %)."""
    out = np.zeros(N_TISSUES, np.float32)
    jit = {}
    for code, (t1, t2, pd) in RELAXATION.items():
        key = (t1, t2, pd)  # same tissue type, same jitter (e.g. LV and RV blood)
        if key not in jit:
            jit[key] = rng.uniform(0.9, 1.1, size=3)
        j = jit[key]
        out[code] = bssfp_signal(t1 * j[0], t2 * j[1], pd * min(j[2], 1.05), tr_ms, flip_deg)
    return out


@dataclass
class Body:
    """The torso around the heart, in RAS (mm): an elliptic cylinder along S with layers."""

    centre: np.ndarray       # RAS of the torso axis at the heart level
    semi_r: float
    semi_a: float
    subcut_fat: float
    muscle: float
    dome_s: float            # diaphragm height (S) at the heart
    heart_ras: np.ndarray    # LV centre (RAS), to place the mediastinum
    stomach_gas: bool

    def tissue(self, p: np.ndarray) -> np.ndarray:
        """Body class of RAS points ``p`` (..., 3)."""
        q = p - self.centre
        qr, qa, qs = q[..., 0], q[..., 1], q[..., 2]
        out = np.full(qr.shape, B_LUNG, np.uint8)
        e = (qr / self.semi_r) ** 2 + (qa / self.semi_a) ** 2
        e_fat = (qr / (self.semi_r - self.subcut_fat)) ** 2 + (qa / (self.semi_a - self.subcut_fat)) ** 2
        inner_r, inner_a = self.semi_r - self.subcut_fat - self.muscle, self.semi_a - self.subcut_fat - self.muscle
        e_mus = (qr / inner_r) ** 2 + (qa / inner_a) ** 2
        hr = self.heart_ras - self.centre
        # mediastinum: a soft-tissue/fat column from the sternum to the spine around the heart
        med = ((qr - 0.5 * hr[0]) / 32.0) ** 2 + ((qa - hr[1] - 45.0) / 24.0) ** 2 < 1
        out[med] = B_MEDIASTINUM
        dome = self.dome_s + 14.0 * np.tanh(qr / 70.0) - 0.002 * (qa - hr[1]) ** 2
        below = qs < dome
        out[below & (qr > -35)] = B_LIVER
        out[below & (qr <= -35)] = B_SOFT
        if self.stomach_gas:
            gas = below & (((qr + 70) / 35) ** 2 + ((qa - 10) / 25) ** 2 + ((qs - dome + 15) / 20) ** 2 < 1)
            out[gas] = B_AIR
        spine_a = -self.semi_a + 45.0
        out[(qr**2 + (qa - spine_a) ** 2) < 20.0**2] = B_BONE
        out[((qr + 22.0) ** 2 + (qa - spine_a - 24.0) ** 2) < 11.0**2] = B_BLOOD
        out[e_mus >= 1] = B_MUSCLE
        out[e_fat >= 1] = B_FAT
        out[e >= 1] = B_AIR
        return out


def coil_sensitivity(p: np.ndarray, coils: np.ndarray, reach_mm: float) -> np.ndarray:
    """Root-sum-of-squares sensitivity of coils at RAS ``coils`` (n, 3), evaluated at ``p`` (..., 3)."""
    total = np.zeros(p.shape[:-1], np.float32)
    for c in coils:
        d2 = ((p - c) ** 2).sum(-1)
        total += 1.0 / (1.0 + d2 / reach_mm**2) ** 2
    return np.sqrt(total)


def place_coils(body: Body, rng: np.random.Generator) -> np.ndarray:
    """An anterior and a posterior array of 3-4 elements each, on the skin."""
    out = []
    for side in (1.0, -1.0):
        n = int(rng.integers(3, 5))
        for r in np.linspace(-0.6, 0.6, n):
            ang = np.arcsin(r)
            pos = body.centre + np.array([body.semi_r * np.sin(ang) * 1.05, side * body.semi_a * np.cos(ang) * 1.08,
                                          rng.uniform(-60, 60)])
            out.append(pos)
    return np.array(out)


def rician(image: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Magnitude of the image plus complex Gaussian noise of standard deviation ``sigma``."""
    n1 = rng.standard_normal(image.shape, dtype=np.float32) * sigma
    n2 = rng.standard_normal(image.shape, dtype=np.float32) * sigma
    return np.sqrt((image + n1) ** 2 + n2**2)
