"""The AHA 17-segment rule (Cerqueira et al., Circulation 2002), written once.

Everything is computed in world (RAS) coordinates, never in image axes, so that segment numbers
follow the anatomy whatever the direction matrix (rotated, mirrored, oblique).

Orientation (from the three MR landmarks and the ED segmentation):

* long axis ``n``: the normal of the short-axis slice planes (``cross`` of the i and j axes),
  signed to point from the base towards the apex;
* angle 0: the direction, seen from ``LV center`` in the slice plane, of ``RV anterior insertion``;
* rotation sense (anatomical, not image): positive angles go from the anterior insertion through
  the septum to the inferior insertion. The septal arc is the arc between the two insertions that
  contains the RV cavity (direction from the LV cavity centroid to the RV cavity centroid at ED);
  without an RV label the shorter arc is taken as septal (the septum spans less than 180 deg).

Sectors in that frame, with ``S`` the septal arc (inferior-insertion angle, any value in (0, 360)):

* basal (1-6) and mid (7-12): anteroseptal ``[0, S/2)``, inferoseptal ``[S/2, S)``, then the free
  wall ``[S, 360)`` in four equal parts: inferior, inferolateral, anterolateral, anterior;
* apical (13-16): 90 deg each, the septal one centred on the septum (``S/2``), then inferior,
  lateral, anterior going on in the same sense;
* 17 (apex): no short-axis slice with a cavity; reported as not assessed.

Levels: the slices with a full LV myocardial ring at ED (myocardium in every 10 deg sector
around the cavity centroid) are split into thirds along the long axis (by rank, base first; with
``n`` slices, slice of rank ``r`` is in level ``floor(3 r / n)``). The base is the end of that run
of slices where the LV cavity is larger at ED (mean area of the outer third on each side); when the
two are within 5 %, the end with more RV cavity; when that ties too, slice 0 (the DICOM/ACDC
habit). Slices are fixed in space: through-plane motion is ignored, as in visual scoring.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional

import numpy as np

from cardiacmotion.cine import LV_CAVITY, LV_MYO, RV_CAVITY, Cine
from cardiacmotion.errors import InputError

#: (id, name, level) of the 17 segments.
SEGMENTS: tuple[tuple[int, str, str], ...] = (
    (1, "basal anterior", "basal"),
    (2, "basal anteroseptal", "basal"),
    (3, "basal inferoseptal", "basal"),
    (4, "basal inferior", "basal"),
    (5, "basal inferolateral", "basal"),
    (6, "basal anterolateral", "basal"),
    (7, "mid anterior", "mid"),
    (8, "mid anteroseptal", "mid"),
    (9, "mid inferoseptal", "mid"),
    (10, "mid inferior", "mid"),
    (11, "mid inferolateral", "mid"),
    (12, "mid anterolateral", "mid"),
    (13, "apical anterior", "apical"),
    (14, "apical septal", "apical"),
    (15, "apical inferior", "apical"),
    (16, "apical lateral", "apical"),
    (17, "apex", "apex"),
)
LEVELS = ("basal", "mid", "apical")
#: Segment ids of each level, in the anatomical angular order starting at the anterior insertion.
LEVEL_IDS = {"basal": (2, 3, 4, 5, 6, 1), "mid": (8, 9, 10, 11, 12, 7), "apical": (14, 15, 16, 13)}
ASSESSED_IDS = tuple(range(1, 17))
LANDMARK_NAMES = ("RV anterior insertion", "RV inferior insertion", "LV center")


def segment_name(seg_id: int) -> str:
    """Cerqueira name of segment ``seg_id`` (1-17)."""
    return SEGMENTS[int(seg_id) - 1][1]


def segment_level(seg_id: int) -> str:
    """'basal' | 'mid' | 'apical' | 'apex'."""
    return SEGMENTS[int(seg_id) - 1][2]


def sector_spans(septal_arc_deg: float) -> dict[int, tuple[float, float]]:
    """Angular span ``(start, end)`` in degrees of segments 1-16 in the anatomical frame.

    Angles start at the anterior insertion and grow through the septum. ``end`` may exceed 360
    (a span crossing the anterior-insertion direction) and ``start`` may be negative (apical anterior).

    Args:
        septal_arc_deg: angle of the inferior insertion in that frame, in (0, 360).
    """
    s = float(septal_arc_deg)
    if not 0.0 < s < 360.0:
        raise InputError(f"septal arc of {s:.1f} deg is not in (0, 360)")
    spans: dict[int, tuple[float, float]] = {}
    free = (360.0 - s) / 4.0
    edges = [0.0, s / 2.0, s, s + free, s + 2 * free, s + 3 * free, 360.0]
    for offset in (0, 6):
        for n, seg_id in enumerate((2, 3, 4, 5, 6, 1)):
            spans[seg_id + offset] = (edges[n], edges[n + 1])
    centre = s / 2.0
    for n, seg_id in enumerate((14, 15, 16, 13)):
        start = centre - 45.0 + 90.0 * n
        spans[seg_id] = (start, start + 90.0)
    return spans


def segment_of_angle(angle_deg: np.ndarray, level: str, septal_arc_deg: float) -> np.ndarray:
    """Segment id (int8) of each anatomical angle (degrees, any range) at ``level``."""
    a = np.mod(np.asarray(angle_deg, dtype=np.float64), 360.0)
    out = np.zeros(a.shape, dtype=np.int8)
    ids = LEVEL_IDS[level]
    spans = sector_spans(septal_arc_deg)
    for seg_id in ids:
        lo, hi = spans[seg_id]
        rel = np.mod(a - lo, 360.0)
        out[rel < (hi - lo)] = seg_id
    return out


@dataclass
class AhaFrame:
    """The anatomical frame of one heart, in RAS mm.

    Attributes:
        long_axis: unit vector, base -> apex, normal to the short-axis slices.
        e1: unit in-plane vector from the LV centre towards the anterior insertion (angle 0).
        e2: unit in-plane vector at +90 deg in the anatomical sense (towards the septum).
        septal_arc_deg: angle of the inferior insertion (0, 360).
        slice_level: int8 ``[K]``: 0 basal, 1 mid, 2 apical, -1 not in a level.
        centres: ``[T, K, 3]`` RAS LV centre per phase and slice (cavity centroid, else myocardium
            centroid, else the slice's ED centre; NaN where the slice has no LV at all).
        wall_centres: ``[T, K, 3]`` centroid of the whole LV (cavity + myocardium, i.e. inside the
            epicardium) per phase and slice; it tracks the heart's translation while moving much
            less than the cavity centroid with regional dysfunction.
        ed_phase: the phase the levels and the rotation sense were read at.
        rv_angle_deg: direction of the RV cavity seen from the LV (NaN without an RV label).
        base_at_slice0: whether slice 0 is the basal end.
        landmark_centre: the ``LV center`` landmark (RAS).
    """

    long_axis: np.ndarray
    e1: np.ndarray
    e2: np.ndarray
    septal_arc_deg: float
    slice_level: np.ndarray
    centres: np.ndarray
    wall_centres: np.ndarray
    ed_phase: int
    rv_angle_deg: float
    base_at_slice0: bool
    landmark_centre: np.ndarray
    notes: list = field(default_factory=list)

    def reference_centre(self, phase: int, k: int, reference: str = "wall") -> np.ndarray:
        """The centre rays start from on slice ``k`` at ``phase``.

        ``'fixed'``: the slice's ED cavity centroid; ``'cavity'``: this phase's cavity centroid;
        ``'wall'``: the ED cavity centroid carried along by the displacement of the whole-LV
        (epicardial) centroid since ED, i.e. following the heart's translation without being
        dragged towards a bulging or akinetic wall as the cavity centroid is.
        """
        if reference == "fixed":
            return self.centres[self.ed_phase, k]
        if reference == "cavity":
            return self.centres[phase, k]
        if reference == "wall":
            return self.centres[self.ed_phase, k] + self.wall_centres[phase, k] - self.wall_centres[self.ed_phase, k]
        raise InputError(f"unknown reference {reference!r} (fixed, cavity or wall)")

    def levels(self) -> dict[str, list[int]]:
        """``{'basal': [slice indices], 'mid': [...], 'apical': [...]}`` (ascending slice index)."""
        return {name: [int(k) for k in np.flatnonzero(self.slice_level == n)] for n, name in enumerate(LEVELS)}

    def angle_of(self, vectors: np.ndarray) -> np.ndarray:
        """Anatomical angle (deg, [0, 360)) of RAS vectors ``[..., 3]`` seen from the LV centre."""
        v = np.asarray(vectors, dtype=np.float64)
        return np.mod(np.degrees(np.arctan2(v @ self.e2, v @ self.e1)), 360.0)

    def direction(self, angle_deg: np.ndarray) -> np.ndarray:
        """RAS unit vectors ``[..., 3]`` of anatomical angles (deg)."""
        a = np.radians(np.asarray(angle_deg, dtype=np.float64))[..., None]
        return np.cos(a) * self.e1 + np.sin(a) * self.e2

    def describe(self) -> dict:
        """JSON-ready summary (for SCORES.json)."""
        return {
            "septal_arc_deg": round(float(self.septal_arc_deg), 2),
            "rv_direction_deg": None if np.isnan(self.rv_angle_deg) else round(float(self.rv_angle_deg), 2),
            "long_axis_ras": [round(float(v), 5) for v in self.long_axis],
            "anterior_direction_ras": [round(float(v), 5) for v in self.e1],
            "septal_sense_ras": [round(float(v), 5) for v in self.e2],
            "levels": self.levels(),
            "base_at_slice0": bool(self.base_at_slice0),
            "notes": list(self.notes),
        }


def slice_normal(cine: Cine) -> np.ndarray:
    """Unit normal of the slice planes in RAS (sign: along +k)."""
    m = cine.ijk_to_ras[:3, :3]
    n = np.cross(m[:, 0], m[:, 1])
    n /= np.linalg.norm(n)
    return n if float(n @ m[:, 2]) >= 0 else -n


def slice_world_coords(cine: Cine, k: int) -> np.ndarray:
    """RAS coordinates ``[J, I, 3]`` of every pixel centre of slice ``k``."""
    jj, ii = np.meshgrid(np.arange(cine.rows), np.arange(cine.columns), indexing="ij")
    ijk = np.stack([ii.ravel(), jj.ravel(), np.full(ii.size, k)], axis=1)
    return cine.ijk_to_ras_points(ijk).reshape(cine.rows, cine.columns, 3)


def check_landmarks(landmarks: Mapping[str, np.ndarray], cine: Cine) -> dict[str, np.ndarray]:
    """The three MR landmarks as RAS arrays, checked for presence, position and degeneracy.

    Raises:
        InputError: a landmark missing, outside the image, or insertion points on the centre.
    """
    missing = [n for n in LANDMARK_NAMES if n not in landmarks]
    if missing:
        raise InputError(f"missing landmark(s) {', '.join(repr(m) for m in missing)} (need {', '.join(LANDMARK_NAMES)})")
    pts = {n: np.asarray(landmarks[n], dtype=np.float64).reshape(3) for n in LANDMARK_NAMES}
    for name, p in pts.items():
        if not np.all(np.isfinite(p)):
            raise InputError(f"landmark {name!r} has no finite position")
        ijk = cine.ras_to_ijk_points(p)
        if not bool(cine.contains_ijk(ijk, tol=1.0)[0]):
            raise InputError(f"landmark {name!r} at RAS {np.round(p, 1).tolist()} lies outside the image")
    n = slice_normal(cine)
    c = pts["LV center"]
    for name in LANDMARK_NAMES[:2]:
        v = pts[name] - c
        if np.linalg.norm(v - (v @ n) * n) < 1.0:
            raise InputError(f"landmark {name!r} lies on the LV center (less than 1 mm away in the slice plane)")
    a = pts["RV anterior insertion"] - c
    b = pts["RV inferior insertion"] - c
    a -= (a @ n) * n
    b -= (b @ n) * n
    cosang = float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))
    if cosang > np.cos(np.radians(10.0)):
        raise InputError("the two RV insertion points are less than 10 deg apart seen from the LV center")
    return pts


def _ring_complete(world: np.ndarray, myo: np.ndarray, centre: np.ndarray, frame_e1, frame_e2, bins: int = 36) -> bool:
    v = world[myo] - centre
    if v.shape[0] < bins // 2:
        return False
    ang = np.mod(np.arctan2(v @ frame_e2, v @ frame_e1), 2 * np.pi)
    hit = np.zeros(bins, dtype=bool)
    hit[(ang / (2 * np.pi) * bins).astype(int) % bins] = True
    return bool(hit.all())


def ring_slices(seg: Cine, frame: "AhaFrame", phase: int) -> np.ndarray:
    """Bool ``[K]``: slices whose LV myocardium closes a full ring around the cavity at ``phase``.

    At end-systole the base descends through the fixed basal slices, which then cut the valve
    plane, the outflow tract or the atrium: such a slice has no wall to measure on some sides.
    """
    myo_label = LV_MYO["MR"]
    cav_label = LV_CAVITY["MR"]
    out = np.zeros(seg.slices, dtype=bool)
    for k in range(seg.slices):
        sl = seg.array[phase, k]
        centre = frame.centres[phase, k]
        if not (sl == cav_label).any() or not np.all(np.isfinite(centre)):
            continue
        out[k] = _ring_complete(slice_world_coords(seg, k), sl == myo_label, centre, frame.e1, frame.e2)
    return out


def lv_phase_volumes(seg: Cine) -> np.ndarray:
    """LV cavity voxel count per phase (for ED = max, ES = min)."""
    cav = LV_CAVITY.get(seg.modality, 3)
    return (seg.array == cav).reshape(seg.phases, -1).sum(axis=1)


def ed_es_of_volumes(volumes: np.ndarray) -> tuple[int, int]:
    """ES = smallest LV cavity; ED = largest LV cavity in the half cycle before ES.

    Ejection takes well under half a cycle, so ED lies within it; a mid-diastolic phase that a
    propagated segmentation makes slightly larger than the true ED (diastasis is nearly as full)
    is then not taken for ED, which would leave part of systole out of every measurement.
    """
    vol = np.asarray(volumes, dtype=np.float64)
    T = vol.size
    es = int(np.argmin(vol))
    before = [(es - d) % T for d in range(1, max(1, T // 2) + 1)]
    ed = max(before, key=lambda p: (vol[p], -((es - p) % T)))
    return int(ed), es


def orient(seg: Cine, landmarks: Mapping[str, np.ndarray], ed_phase: Optional[int] = None) -> AhaFrame:
    """Build the anatomical frame and the levels of one heart.

    Args:
        seg: MR label map ``[T, K, J, I]`` (ACDC labels) on the image grid.
        landmarks: ``{name: RAS (3,)}`` with the three MR landmark names.
        ed_phase: end-diastolic phase (default: :func:`ed_es_of_volumes`).

    Raises:
        InputError: echo labels, no LV, fewer than 3 slices with a full myocardial ring at ED.
    """
    if seg.modality != "MR":
        raise InputError("AHA short-axis scoring needs a short-axis MR segmentation (modality MR)")
    pts = check_landmarks(landmarks, seg)
    cav_label, myo_label, rv_label = LV_CAVITY["MR"], LV_MYO["MR"], RV_CAVITY["MR"]
    labels = seg.array
    if ed_phase is None:
        ed_phase = ed_es_of_volumes(lv_phase_volumes(seg))[0]
    if not 0 <= ed_phase < seg.phases:
        raise InputError(f"ED phase {ed_phase} is outside 0..{seg.phases - 1}")
    n = slice_normal(seg)
    c = pts["LV center"]
    a = pts["RV anterior insertion"] - c
    a -= (a @ n) * n
    e1 = a / np.linalg.norm(a)
    e2 = np.cross(n, e1)

    T, K = seg.phases, seg.slices
    centres = np.full((T, K, 3), np.nan)
    wall_centres = np.full((T, K, 3), np.nan)
    ring = np.zeros(K, dtype=bool)
    cav_area = np.zeros(K)
    rv_area = np.zeros(K)
    rv_vectors = []
    for k in range(K):
        world = slice_world_coords(seg, k)
        for t in range(T):
            sl = labels[t, k]
            cav = sl == cav_label
            if cav.any():
                centres[t, k] = world[cav].mean(axis=0)
            elif (sl == myo_label).any():
                centres[t, k] = world[sl == myo_label].mean(axis=0)
            lv = cav | (sl == myo_label)
            if lv.any():
                wall_centres[t, k] = world[lv].mean(axis=0)
        sl = labels[ed_phase, k]
        cav = sl == cav_label
        cav_area[k] = cav.sum()
        rv = sl == rv_label
        rv_area[k] = rv.sum()
        if cav.any():
            ring[k] = _ring_complete(world, sl == myo_label, centres[ed_phase, k], e1, e2)
            if rv.any():
                rv_vectors.append(world[rv].mean(axis=0) - centres[ed_phase, k])
        ed_centre = centres[ed_phase, k]
        if np.all(np.isfinite(ed_centre)):
            missing = ~np.isfinite(centres[:, k, 0])
            centres[missing, k] = ed_centre
            missing = ~np.isfinite(wall_centres[:, k, 0])
            wall_centres[missing, k] = wall_centres[ed_phase, k]
    ring_slices = np.flatnonzero(ring)
    if ring_slices.size < 3:
        raise InputError(
            f"only {ring_slices.size} slice(s) hold a full LV myocardial ring at ED (phase {ed_phase}); need at least 3"
        )

    notes: list[str] = []
    # Rotation sense: the septal arc holds the RV.
    b = pts["RV inferior insertion"] - c
    phi_inf = float(np.mod(np.degrees(np.arctan2(b @ e2, b @ e1)), 360.0))
    rv_angle = float("nan")
    if rv_vectors:
        rv = np.mean([v / max(np.linalg.norm(v), 1e-9) for v in rv_vectors], axis=0)
        rv_angle = float(np.mod(np.degrees(np.arctan2(rv @ e2, rv @ e1)), 360.0))
        flip = not (rv_angle < phi_inf)
    else:
        notes.append("no RV cavity label at ED: the shorter arc between the insertions is taken as septal")
        flip = phi_inf > 180.0
    if flip:
        e2 = -e2
        phi_inf = 360.0 - phi_inf
        if not np.isnan(rv_angle):
            rv_angle = float(np.mod(360.0 - rv_angle, 360.0))
    if phi_inf > 240.0 or phi_inf < 45.0:
        notes.append(f"unusual septal arc of {phi_inf:.0f} deg: check the insertion landmarks")

    # Base end: larger LV cavity (then more RV) at ED.
    m = len(ring_slices)
    third = max(1, m // 3)
    first, last = ring_slices[:third], ring_slices[-third:]
    a_first, a_last = cav_area[first].mean(), cav_area[last].mean()
    if abs(a_first - a_last) > 0.05 * max(a_first, a_last):
        base_first = a_first > a_last
    elif rv_area[first].sum() != rv_area[last].sum():
        base_first = rv_area[first].sum() > rv_area[last].sum()
        notes.append("LV areas at both ends are alike: the base is the end with more RV")
    else:
        base_first = True
        notes.append("base end ambiguous: slice 0 taken as basal")
    order = ring_slices if base_first else ring_slices[::-1]
    slice_level = np.full(K, -1, dtype=np.int8)
    for rank, k in enumerate(order):
        slice_level[k] = min(2, (3 * rank) // m)
    long_axis = n if base_first else -n
    return AhaFrame(
        long_axis=long_axis,
        e1=e1,
        e2=e2,
        septal_arc_deg=phi_inf,
        slice_level=slice_level,
        centres=centres,
        wall_centres=wall_centres,
        ed_phase=int(ed_phase),
        rv_angle_deg=rv_angle,
        base_at_slice0=bool(base_first),
        landmark_centre=c,
    )


def segment_map(
    seg: Cine,
    landmarks: Mapping[str, np.ndarray],
    ed_phase: Optional[int] = None,
    region: str = "myocardium",
    frame: Optional[AhaFrame] = None,
) -> np.ndarray:
    """Per-pixel AHA segment ids on every phase, following the heart.

    The centre of each phase and slice is its LV cavity centroid; angles are measured from it in
    the anatomical frame of :func:`orient`; each slice takes its ED level.

    Args:
        seg: MR label map ``[T, K, J, I]``.
        landmarks: the three MR landmarks (RAS).
        ed_phase: end-diastolic phase (default: largest LV cavity).
        region: ``'myocardium'`` (ids on LV myocardium pixels only) or ``'all'`` (every pixel of a
            level slice gets the id of its sector).
        frame: a precomputed :func:`orient` result.
    Returns:
        int8 ``[T, K, J, I]``: 1-16, 0 elsewhere (segment 17 has no short-axis slice).
    """
    if region not in ("myocardium", "all"):
        raise InputError(f"unknown region {region!r} (myocardium or all)")
    frame = frame or orient(seg, landmarks, ed_phase)
    out = np.zeros(seg.array.shape, dtype=np.int8)
    myo_label = LV_MYO["MR"]
    for k in np.flatnonzero(frame.slice_level >= 0):
        level = LEVELS[frame.slice_level[k]]
        world = slice_world_coords(seg, int(k))
        for t in range(seg.phases):
            ids = segment_of_angle(frame.angle_of(world - frame.centres[t, k]), level, frame.septal_arc_deg)
            if region == "myocardium":
                ids = np.where(seg.array[t, k] == myo_label, ids, 0)
            out[t, k] = ids
    return out
