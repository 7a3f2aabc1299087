"""Starting an apical echo clip without any user input, for the propagation methods.

The LV is the large dark cavity inside the ultrasound sector whose area changes most over the
cycle (the atrium and the right heart change less). :func:`find_echo_lv` picks it from the dark
components of the temporal-mean image; :func:`echo_auto_seed` takes the cavity on the seed frame
(by default the frame where it is largest: ED), reads the apex (the cavity's end toward the
transducer) and the two annulus points (its width at the far end) off it, and builds the seed with
the landmark start (:func:`~cardiacmotion.propagation.landmarks_init.echo_seed_from_landmarks`),
so that a user who corrects the landmarks gets what the automatic start would have built.
Nothing here is learned. (TAN has its own learned automatic start.)
"""
from __future__ import annotations

from typing import Optional

import numpy as np
from scipy import ndimage as ndi

from cardiacmotion.cine import Cine
from cardiacmotion.errors import InputError


def _otsu(values: np.ndarray) -> float:
    from cardiacmotion.propagation.autostart import _otsu as otsu

    return otsu(values)


def _sector(frames: np.ndarray, sp: float) -> tuple[np.ndarray, np.ndarray]:
    """The ultrasound sector (pixels ever above the noise floor), and the transducer point (i, j)."""
    peak = frames.max(axis=0)
    sector = ndi.binary_fill_holes(ndi.binary_closing(peak > 0.02 * float(peak.max()), iterations=3))
    lab, n = ndi.label(sector)
    if n > 1:
        sizes = ndi.sum(sector, lab, index=np.arange(1, n + 1))
        sector = lab == int(np.argmax(sizes)) + 1
    rows = np.flatnonzero(sector.any(axis=1))
    if rows.size == 0:
        raise InputError("automatic echo start: the clip is empty (no ultrasound sector)")
    top = rows[0]
    cols = np.flatnonzero(sector[top])
    return sector, np.array([float(cols.mean()), float(top)])


def find_echo_lv(image: Cine) -> dict:
    """The LV cavity region of an apical echo clip.

    Returns:
        ``{"region": bool [J, I] (dilated cavity over the cycle), "areas_mm2": per frame,
        "transducer_ij", "threshold", "frames" (normalised)}``.
    Raises:
        InputError: not a one-slice echo clip, or no moving dark cavity found.
    """
    from cardiacmotion.propagation.order import normalise

    if image.slices != 1:
        raise InputError("automatic echo start needs a one-slice echo clip")
    if image.phases < 4:
        raise InputError("automatic echo start needs a clip (at least 4 frames) to see the cavity move")
    sp = float(np.mean(image.spacing[:2]))
    frames = normalise(np.asarray(image.array[:, 0], np.float32))
    sector, probe = _sector(frames, sp)
    inner = ndi.binary_erosion(sector, iterations=max(1, int(round(4.0 / sp))))
    sigma = max(1.0, 2.0 / sp)
    smooth = np.stack([ndi.gaussian_filter(f, sigma) for f in frames])
    mean = smooth.mean(axis=0)
    thr = _otsu(mean[inner])
    dark = ndi.binary_opening((mean < thr) & inner, iterations=max(1, int(round(3.0 / sp))))
    lab, n = ndi.label(dark)
    sj, si = np.nonzero(sector)
    depth = float(np.max(np.hypot(si - probe[0], sj - probe[1])))
    best, chambers = None, []
    grow = max(1, int(round(5.0 / sp)))
    for idx in range(1, n + 1):
        comp = lab == idx
        if comp.sum() * sp * sp < 150:
            continue
        region = ndi.binary_dilation(comp, iterations=grow) & inner
        dark_t = (smooth < thr) & region[None]
        areas = dark_t.reshape(len(frames), -1).sum(axis=1) * sp * sp
        # the moving border: pixels dark in some frames and not in others (an atrium joined to
        # the LV through the open valve moves against it, so net area change would cancel)
        frac = dark_t.mean(axis=0)
        change = float(((frac > 0.1) & (frac < 0.9)).sum() * sp * sp)
        # apical views: the LV apex lies near the transducer, the atria at the far end
        jj, ii = np.nonzero(comp)
        near = float(np.min(np.hypot(ii - probe[0], jj - probe[1]))) / max(depth, 1.0)
        change *= float(np.exp(-((near / 0.35) ** 2)))
        k = int(np.argmin(np.hypot(ii - probe[0], jj - probe[1])))
        chambers.append((np.array([float(ii[k]), float(jj[k])]), near, idx))
        if best is None or change > best[0]:
            best = (change, region, areas, idx)
    if best is None or best[0] <= 0:
        raise InputError("automatic echo start found no dark cavity that moves inside the sector (give landmarks or a seed)")
    # the other dark chambers that reach toward the transducer (their nearest point): the RV of a
    # four-chamber view (it may be joined to its atrium); the nearest first
    others = [c for c, near, idx in sorted(chambers, key=lambda x: x[1]) if idx != best[3] and near < 0.55]
    return {"region": best[1], "areas_mm2": best[2], "transducer_ij": probe, "threshold": thr, "frames": smooth,
            "sector": sector, "other_ventricles": others}


def cavity_on_frame(lv: dict, frame: int, sp: float) -> np.ndarray:
    """The LV cavity on one frame: the dark pixels of the LV region, largest component, holes filled."""
    from cardiacmotion.propagation.topology import largest_component

    m = (lv["frames"][frame] < lv["threshold"]) & lv["region"]
    m = ndi.binary_opening(m, iterations=max(1, int(round(2.0 / sp))))
    m = largest_component(m) if m.any() else m
    return ndi.binary_fill_holes(m)


def _axis(pts: np.ndarray, probe_ij: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centre and long-axis unit vector of a point set, pointing away from the transducer."""
    c = pts.mean(axis=0)
    ev, vec = np.linalg.eigh(np.cov((pts - c).T))
    axis = vec[:, int(np.argmax(ev))]
    if (probe_ij - c) @ axis > 0:
        axis = -axis
    return c, axis


def _mitral_waist(s: np.ndarray, t: np.ndarray, sp: float) -> Optional[float]:
    """Where the cavity narrows between the LV and an atrium joined to it through the open valve.

    The width along the long axis peaks in the LV, narrows at the annulus and widens again in the
    atrium: the narrowest point (relative to the widest on either side) past the first 30 % of the
    length, when it is 15 % narrower than the part before and the part beyond grows by a fifth.
    """
    step = max(1.0, 1.0 / sp)
    edges = np.arange(s.min(), s.max() + step, step)
    idx = np.clip(np.digitize(s, edges) - 1, 0, len(edges) - 2)
    width = np.zeros(len(edges) - 1)
    for k in range(len(width)):
        tk = t[idx == k]
        width[k] = tk.max() - tk.min() if tk.size else 0.0
    width = ndi.uniform_filter1d(width, max(3, int(round(4.0 / sp / step))), mode="nearest")
    n = len(width)
    best, best_ratio = None, 1.0
    for k in range(max(1, int(0.3 * n)), n - 2):
        before, after = width[:k].max(), width[k + 1:].max()
        ratio = width[k] / max(min(before, after), 1e-6)
        if width[k] < 0.85 * before and after > 1.2 * width[k] and ratio < best_ratio:
            best, best_ratio = k, ratio
    return None if best is None else float(edges[best] + 0.5 * step)


def landmarks_from_cavity(cavity: np.ndarray, probe_ij: np.ndarray, sp: float) -> dict:
    """Apex and annulus points (i, j) of a cavity mask: its long axis, apex toward the transducer.

    An atrium joined through the open mitral valve is cut off at the waist between them; the
    annulus points are the cavity's lateral extremes just above its far end (or at the waist).
    Returns ``{"apex", "annulus", "length_mm", "cavity"}`` (the cavity without the atrium).
    """
    jj, ii = np.nonzero(cavity)
    if ii.size < 20:
        raise InputError("automatic echo start: the LV cavity is too small on the seed frame")
    pts = np.stack([ii, jj], axis=1).astype(float)
    for it in range(2):
        c, axis = _axis(pts, probe_ij)
        if it == 0:
            # first along the beam toward the cavity's near part: atria joined through the valves
            # can turn the principal axis sideways
            d = np.hypot(*(pts - probe_ij).T)
            nearpart = pts[d <= d.min() + 0.3 * (d.max() - d.min())].mean(axis=0)
            axis = (nearpart - probe_ij) / max(float(np.linalg.norm(nearpart - probe_ij)), 1e-6)
        perp = np.array([-axis[1], axis[0]])
        s, t = (pts - c) @ axis, (pts - c) @ perp
        cut = _mitral_waist(s, t, sp)
        if cut is None:
            break
        pts = pts[s <= cut]
    c, axis = _axis(pts, probe_ij)
    perp = np.array([-axis[1], axis[0]])
    s, t = (pts - c) @ axis, (pts - c) @ perp
    length = float(s.max() - s.min())
    apex = pts[s <= s.min() + 0.02 * length].mean(axis=0)
    base_band = (s >= s.max() - 0.06 * length)
    b, tb = pts[base_band], t[base_band]
    one, two = b[int(np.argmin(tb))], b[int(np.argmax(tb))]
    kept = np.zeros_like(cavity)
    kept[pts[:, 1].astype(int), pts[:, 0].astype(int)] = True
    return {"apex": apex, "annulus": (one, two), "length_mm": length * sp, "cavity": kept}


def _seed_from_cavity(image: Cine, pts: dict, frame: int, sp: float, sector: np.ndarray, wall_mm: float = 8.0):
    """The seed: the found cavity (smoothed) and a wall of the landmark start's thickness above the annulus."""
    from cardiacmotion.cine import LV_CAVITY, LV_MYO
    from cardiacmotion.io.seeds import SeedSet
    from cardiacmotion.propagation.topology import clean_labels

    T, K, J, I = image.array.shape
    r = max(1, int(round(2.0 / sp)))
    cav = ndi.binary_fill_holes(ndi.binary_closing(pts["cavity"], iterations=r))
    base = 0.5 * (pts["annulus"][0] + pts["annulus"][1])
    axis = pts["apex"] - base
    axis = axis / max(float(np.linalg.norm(axis)), 1e-6)
    jj, ii = np.mgrid[0:J, 0:I]
    above = (ii - base[0]) * axis[0] + (jj - base[1]) * axis[1] >= 0
    cav &= above
    dist = ndi.distance_transform_edt(~cav) * sp
    lab = np.zeros((J, I), np.uint8)
    lab[(dist > 0) & (dist <= wall_mm) & above & sector] = LV_MYO["US"]
    lab[cav] = LV_CAVITY["US"]
    lab = clean_labels(lab, "US")
    return SeedSet.single(lab, T, K, frame, 0)


def echo_auto_seed(image: Cine, phase: Optional[int] = None):
    """Seed and landmarks of an apical echo clip without any input (the ``auto_seed`` of echo).

    Returns:
        ``(SeedSet, landmarks {name: RAS}, report)`` as :func:`~cardiacmotion.propagation.autostart.auto_seed`.
    """
    from cardiacmotion.io.markups import ECHO_LANDMARKS

    lv = find_echo_lv(image)
    sp = float(np.mean(image.spacing[:2]))
    areas = lv["areas_mm2"]
    ed = int(np.argmax(areas)) if phase is None else int(phase)
    if not 0 <= ed < image.phases:
        raise InputError(f"seed phase {ed} is outside 0..{image.phases - 1}")
    cavity = cavity_on_frame(lv, ed, sp)
    pts = landmarks_from_cavity(cavity, lv["transducer_ij"], sp)
    one, two = pts["annulus"]
    mid = 0.5 * (one + two)
    axis = mid - pts["apex"]
    perp = np.array([-axis[1], axis[0]])
    # an RV beside the LV (its tip between the apex and the annulus level): a four-chamber view,
    # and the septal annulus point is on the RV's side of the LV axis
    beside = [p for p in lv["other_ventricles"] if 0.0 <= (p - pts["apex"]) @ axis / max(axis @ axis, 1e-6) <= 0.9]
    notes = []
    if beside:
        if (one - mid) @ perp * ((beside[0] - mid) @ perp) < 0:
            one, two = two, one
        side = "the RV's side"
    else:
        # no RV beside it (a two-chamber view): the standard display's left is septal / inferior
        if one[0] > two[0]:
            one, two = two, one
        side = "the image's left (standard display)"
        notes.append("echo automatic start: no RV beside the LV; the first annulus point is the one on the image's "
                     "left (check them)")
    ijk = np.array([[*pts["apex"], 0.0], [*one, 0.0], [*two, 0.0]])
    ras = image.ijk_to_ras_points(ijk)
    landmarks = {name: ras[n] for n, name in enumerate(ECHO_LANDMARKS)}
    seeds = _seed_from_cavity(image, pts, ed, sp, lv["sector"])
    change = float((areas.max() - areas.min()) / max(areas.max(), 1e-6))
    conf = float(np.clip(change / 0.3, 0, 1) * np.clip(pts["length_mm"] / 50.0, 0, 1))
    report = {"seed_phase": ed, "seed_slice": 0, "lv_slices": [0], "confidence": round(conf, 3), "ed_phase": ed,
              "septal_side": side,
              "es_phase": int(np.argmin(areas)), "ed_source": "largest LV cavity area of the clip",
              "lv_area_mm2": [round(float(v), 1) for v in areas], "notes": notes}
    return seeds, landmarks, report
