"""Echo clips for training and evaluation: the training phantom, CAMUS and EchoNet-Dynamic folders.

Every source gives :class:`EchoClip`: frames normalised to about [0, 1], CAMUS labels (1 LV cavity,
2 myocardium, 3 left atrium) on the labelled frames only, the three landmarks per frame in native
pixels (``(x, y)`` = column, row; NaN where unknown) in the order ``ECHO_LANDMARKS``, the view and
the pixel spacing. :func:`hide_except_ed_es` is the switch that keeps only the ED and ES labels.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Optional

import numpy as np

from cardiacmotion.errors import InputError
from cardiacmotion.io.markups import ECHO_LANDMARKS


@dataclass
class EchoClip:
    """One apical echo video with what is known about it.

    Attributes:
        name: identifier (``phantom-A4C-9000``, ``camus-patient0001-4CH`` ...).
        frames: float32 ``[T, H, W]`` intensities, about [0, 1].
        labels: uint8 ``[T, H, W]``; zero on frames that are not ``labelled``.
        labelled: bool ``[T]``: frames whose labels (and landmarks) may be used.
        landmarks: float ``[T, 3, 2]`` native pixels (NaN where unknown).
        view: 'A4C' | 'A2C'.
        spacing: ``(mm per column, mm per row)``.
        ed / es: end-diastolic / end-systolic frame (None when unknown).
        cine: the image :class:`~cardiacmotion.cine.Cine` when there is one (geometry for outputs).
        truth: extra truth (the phantom's truth dict) or ``{}``.
    """

    name: str
    frames: np.ndarray
    labels: np.ndarray
    labelled: np.ndarray
    landmarks: np.ndarray
    view: str
    spacing: tuple[float, float]
    ed: Optional[int] = None
    es: Optional[int] = None
    cine: object = None
    truth: dict = field(default_factory=dict)

    @property
    def length(self) -> int:
        return int(self.frames.shape[0])


def normalise_frames(frames: np.ndarray) -> np.ndarray:
    """Intensities scaled by the clip's 99.5th percentile (phantom and real videos alike)."""
    f = np.asarray(frames, np.float32)
    ref = float(np.percentile(f, 99.5)) if f.size else 1.0
    return np.clip(f / max(ref, 1e-6), 0.0, 1.5).astype(np.float32)


def hide_except_ed_es(clip: EchoClip) -> EchoClip:
    """The ED/ES-only switch: labels and landmarks of every other frame are removed (zero / NaN)."""
    if clip.ed is None or clip.es is None:
        raise InputError(f"{clip.name}: ED/ES unknown, cannot keep only their labels")
    keep = np.zeros(clip.length, bool)
    keep[[clip.ed, clip.es]] = True
    keep &= clip.labelled
    labels = np.where(keep[:, None, None], clip.labels, 0).astype(np.uint8)
    lms = np.where(keep[:, None, None], clip.landmarks, np.nan)
    return replace(clip, labels=labels, labelled=keep, landmarks=lms)


def phantom_clip(seed: int, view: str = "A4C", **options) -> EchoClip:
    """A clip of the TRAINING echo phantom (``cardiacmotion.phantom.make_echo_case``)."""
    from cardiacmotion.phantom.echo import make_echo_case

    case = make_echo_case(seed, view, **options)
    return clip_from_case(case, f"phantom-{view}-{seed}")


def clip_from_case(case, name: str) -> EchoClip:
    """An :class:`EchoClip` from any phantom-like case (image/labels Cines + truth with per-frame landmarks)."""
    image = case.image
    t = image.phases
    lm_ras = case.truth["landmarks_per_frame"]
    lms = np.zeros((t, 3, 2))
    for k, n in enumerate(ECHO_LANDMARKS):
        lms[:, k] = image.ras_to_ijk_points(np.asarray(lm_ras[n], np.float64))[:, :2]
    sp = image.spacing
    return EchoClip(
        name=name, frames=normalise_frames(image.array[:, 0]), labels=np.asarray(case.labels.array[:, 0], np.uint8),
        labelled=np.ones(t, bool), landmarks=lms, view=str(image.view or case.truth.get("view", "A4C")),
        spacing=(float(sp[0]), float(sp[1])), ed=int(case.truth["ed_phase"]), es=int(case.truth["es_phase"]),
        cine=image, truth=dict(case.truth),
    )


def landmarks_from_labels(lab: np.ndarray) -> Optional[np.ndarray]:
    """Apex and annulus points (3, 2) from a CAMUS label frame: the ends of the LV/LA border and the
    cavity point farthest from their midpoint (None without an LV cavity touching the atrium)."""
    cav, la = lab == 1, lab == 3
    if not cav.any() or not la.any():
        return None
    border = (cav[:-1] & la[1:]) | (la[:-1] & cav[1:])
    yy, xx = np.nonzero(border)
    pts = np.stack([xx, yy + 0.5], 1).astype(np.float64)
    b2 = (cav[:, :-1] & la[:, 1:]) | (la[:, :-1] & cav[:, 1:])
    yy, xx = np.nonzero(b2)
    pts = np.vstack([pts, np.stack([xx + 0.5, yy], 1)])
    if len(pts) < 2:
        return None
    c = pts.mean(0)
    d = np.linalg.svd(pts - c, full_matrices=False)[2][0]
    proj = (pts - c) @ d
    ends = c + np.outer([proj.min(), proj.max()], d)
    ends = ends[np.argsort(ends[:, 0])]  # septal = screen left
    base = ends.mean(0)
    yy, xx = np.nonzero(cav)
    cp = np.stack([xx, yy], 1).astype(np.float64)
    apex = cp[np.argmax(np.linalg.norm(cp - base, axis=1))]
    return np.stack([apex, ends[0], ends[1]])


def _clip_from_arrays(name, frames, labels, labelled, view, spacing) -> EchoClip:
    t = frames.shape[0]
    lms = np.full((t, 3, 2), np.nan)
    for i in np.nonzero(labelled)[0]:
        p = landmarks_from_labels(labels[i])
        if p is not None:
            lms[i] = p
    ed = es = None
    vols = [(labels[i] == 1).sum() if labelled[i] else np.nan for i in range(t)]
    if np.isfinite(vols).sum() >= 2:
        ed, es = int(np.nanargmax(vols)), int(np.nanargmin(vols))
    return EchoClip(name, normalise_frames(frames), labels.astype(np.uint8), labelled, lms, view, spacing, ed, es)


def camus_clips(root: str | Path) -> list[EchoClip]:
    """CAMUS ``patientNNNN/patientNNNN_{2CH,4CH}_half_sequence[_gt].nii.gz`` (every frame labelled) or the
    ``_ED``/``_ES`` pairs; landmarks from the labels (:func:`landmarks_from_labels`)."""
    import nibabel as nib

    out = []
    for pdir in sorted(p for p in Path(root).glob("patient*") if p.is_dir()):
        for view, tag in (("A2C", "2CH"), ("A4C", "4CH")):
            seq = pdir / f"{pdir.name}_{tag}_half_sequence.nii.gz"
            gt = pdir / f"{pdir.name}_{tag}_half_sequence_gt.nii.gz"
            if seq.is_file() and gt.is_file():
                img = nib.load(str(seq))
                frames = np.transpose(np.asarray(img.dataobj, np.float32), (2, 1, 0))
                labels = np.transpose(np.asarray(nib.load(str(gt)).dataobj), (2, 1, 0)).astype(np.uint8)
                zooms = img.header.get_zooms()
                out.append(_clip_from_arrays(f"camus-{pdir.name}-{tag}", frames, labels, np.ones(len(frames), bool),
                                             view, (float(zooms[0]), float(zooms[1]))))
                continue
            pairs = []
            for phase in ("ED", "ES"):
                f, g = pdir / f"{pdir.name}_{tag}_{phase}.nii.gz", pdir / f"{pdir.name}_{tag}_{phase}_gt.nii.gz"
                if f.is_file() and g.is_file():
                    img = nib.load(str(f))
                    pairs.append((np.squeeze(np.asarray(img.dataobj, np.float32)).T, np.squeeze(np.asarray(nib.load(str(g)).dataobj)).T,
                                  img.header.get_zooms()))
            if len(pairs) == 2:
                frames = np.stack([p[0] for p in pairs])
                labels = np.stack([p[1] for p in pairs]).astype(np.uint8)
                out.append(_clip_from_arrays(f"camus-{pdir.name}-{tag}", frames, labels, np.ones(2, bool), view,
                                             (float(pairs[0][2][0]), float(pairs[0][2][1]))))
    if not out:
        raise InputError(f"{root}: no CAMUS patient folders (patientNNNN/patientNNNN_4CH_half_sequence[_gt].nii.gz or _ED/_ES)")
    return out


def _read_avi(path: Path) -> np.ndarray:
    import cv2

    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, fr = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(fr, cv2.COLOR_BGR2GRAY) if fr.ndim == 3 else fr)
    cap.release()
    if not frames:
        raise InputError(f"{path}: no frames could be read")
    return np.stack(frames).astype(np.float32)


def _polygon_mask(poly: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    import cv2

    m = np.zeros(shape, np.uint8)
    cv2.fillPoly(m, [np.round(poly * 8).astype(np.int32)], 1, shift=3)
    return m


def echonet_clips(root: str | Path, spacing_mm: float = 1.0, limit: Optional[int] = None) -> list[EchoClip]:
    """EchoNet-Dynamic: ``Videos/<FileName>.avi`` + ``VolumeTracings.csv`` (FileName, X1, Y1, X2, Y2, Frame).

    The traced frames (ED and ES) are labelled: the LV cavity is the polygon of the chord ends
    (``X1,Y1`` down one side, ``X2,Y2`` back up the other, the first row being the long axis); the
    annulus points are the ends of the chord farthest from the long axis' far end (the apex). All
    clips are A4C. The pixel spacing is not in the data set (``spacing_mm``).
    """
    root = Path(root)
    table = root / "VolumeTracings.csv"
    if not table.is_file() or not (root / "Videos").is_dir():
        raise InputError(f"{root}: not an EchoNet-Dynamic folder (Videos/ and VolumeTracings.csv)")
    rows: dict[str, dict[int, list]] = {}
    with open(table, newline="") as f:
        for r in csv.DictReader(f):
            name = Path(r["FileName"]).stem
            rows.setdefault(name, {}).setdefault(int(r["Frame"]), []).append(
                [float(r["X1"]), float(r["Y1"]), float(r["X2"]), float(r["Y2"])])
    out = []
    for name in sorted(rows)[: limit or None]:
        video = root / "Videos" / f"{name}.avi"
        if not video.is_file():
            continue
        frames = _read_avi(video)
        t, h, w = frames.shape
        labels = np.zeros((t, h, w), np.uint8)
        labelled = np.zeros(t, bool)
        lms = np.full((t, 3, 2), np.nan)
        areas = {}
        for fr, lines in rows[name].items():
            if not 0 <= fr < t or len(lines) < 3:
                continue
            a = np.asarray(lines)
            axis, chords = a[0], a[1:]
            poly = np.vstack([chords[:, :2], chords[::-1, 2:]])
            labels[fr] = _polygon_mask(poly, (h, w))
            labelled[fr] = True
            ends = np.array([axis[:2], axis[2:]])
            apex = _far_end(ends, chords)
            base_chord = chords[np.argmax(np.linalg.norm(0.5 * (chords[:, :2] + chords[:, 2:]) - apex, axis=1))]
            ann = np.array([base_chord[:2], base_chord[2:]])
            ann = ann[np.argsort(ann[:, 0])]
            lms[fr] = [apex, ann[0], ann[1]]
            areas[fr] = labels[fr].sum()
        if not labelled.any():
            continue
        ed = max(areas, key=areas.get) if len(areas) >= 2 else None
        es = min(areas, key=areas.get) if len(areas) >= 2 else None
        out.append(EchoClip(f"echonet-{name}", normalise_frames(frames), labels, labelled, lms, "A4C",
                            (spacing_mm, spacing_mm), ed, es))
    if not out:
        raise InputError(f"{root}: no EchoNet-Dynamic video with tracings")
    return out


def _far_end(ends: np.ndarray, chords: np.ndarray) -> np.ndarray:
    """The apex: the long-axis end nearer the narrowest chord (the cavity tapers toward the apex)."""
    widths = np.linalg.norm(chords[:, :2] - chords[:, 2:], axis=1)
    centres = 0.5 * (chords[:, :2] + chords[:, 2:])
    narrow = centres[np.argmin(widths)]
    return ends[np.argmin(np.linalg.norm(ends - narrow, axis=1))]
