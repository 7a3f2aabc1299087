"""``segment --method tan``: an echo Cine (+ landmarks or a seed) -> segmentation and tracked landmarks.

Anchors (landmarks that restart the tracking, :class:`~cardiacmotion.echo.tan_track.TANTracker`):
the markups' three points on ``seed_phase`` (default 0); with a seed label map instead, the
landmarks read off every seeded frame's labels (LV cavity / atrium border and the apex), so a
corrected frame restarts tracking from it both ways and keeps its labels as drawn; with neither,
the first frame is estimated automatically.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Mapping, Optional

import numpy as np

from cardiacmotion.cine import Cine
from cardiacmotion.errors import InputError
from cardiacmotion.io.markups import ECHO_LANDMARKS


def landmarks_ras_to_px(image: Cine, landmarks: Mapping[str, np.ndarray]) -> np.ndarray:
    """The three echo landmarks (RAS) as native pixels (3, 2); raises InputError when one is missing."""
    missing = [n for n in ECHO_LANDMARKS if n not in landmarks]
    if missing:
        raise InputError(f"echo landmarks missing: {', '.join(missing)} (need {', '.join(ECHO_LANDMARKS)})")
    ijk = image.ras_to_ijk_points(np.array([np.asarray(landmarks[n], float).reshape(3) for n in ECHO_LANDMARKS]))
    return ijk[:, :2]


def segment_tan(image: Cine, seeds=None, landmarks: Optional[Mapping[str, np.ndarray]] = None, weights: Optional[str] = None,
                device: str = "cpu", seed_phase: Optional[int] = None, progress=None, auto: bool = False) -> tuple[Cine, dict]:
    """Segment an echo video with TAN.

    Returns:
        ``(label Cine, info)``; info has ``method`` 'tan', ``view``, ``landmarks_per_frame``
        (``{name: [[R, A, S] per frame]}``), ``guarded_frames``, ``anchors``, ``seconds``, ``frames_per_second``.
    Raises:
        InputError: not one-slice echo; WeightsError: no usable weights.
    """
    from cardiacmotion.echo.clips import landmarks_from_labels, normalise_frames
    from cardiacmotion.echo.tan_track import TANTracker

    if image.modality != "US" or image.slices != 1:
        raise InputError("TAN segments echo videos (one slice, modality US); use memory or registration for MR")
    tracker = TANTracker.from_weights(weights)
    frames = normalise_frames(image.array[:, 0])
    anchors: dict[int, np.ndarray] = {}
    kept = {}
    if landmarks is not None and not auto:
        k = 0 if seed_phase is None else int(seed_phase)
        if not 0 <= k < image.phases:
            raise InputError(f"landmark phase {k} is outside the video's {image.phases} frames")
        anchors[k] = landmarks_ras_to_px(image, landmarks)
    elif seeds is not None and not auto:
        for t in np.nonzero(np.asarray(seeds.seeded).any(axis=1))[0]:
            lab = np.asarray(seeds.labels)[t, 0]
            p = landmarks_from_labels(lab)
            if p is None:
                raise InputError(f"frame {t} of the seed has no LV cavity bordering the left atrium (labels 1 and 3): "
                                 "TAN needs them to place its landmarks; give --landmarks instead")
            anchors[int(t)] = p
            kept[int(t)] = lab
    res = tracker.track(frames, anchors)
    labels = res.labels
    for t, lab in kept.items():
        labels[t] = lab
    seg = image.with_array(labels[:, None].astype(np.uint8))
    seg.meta["segmentation_method"] = "tan"
    lm_ras = {}
    for k, n in enumerate(ECHO_LANDMARKS):
        ijk = np.column_stack([res.landmarks[:, k], np.zeros(image.phases)])
        lm_ras[n] = np.round(image.ijk_to_ras_points(ijk), 4).tolist()
    info = {"method": "tan", "view": res.view, "view_probability": round(float(res.view_probs.mean(0).max()), 4),
            "landmarks_per_frame": lm_ras, "guarded_frames": res.guarded, "anchors": sorted(anchors),
            "seed": "landmarks" if landmarks is not None and not auto else ("mask" if kept else "automatic"),
            "seconds": round(res.seconds, 3), "frames_per_second": round(image.phases / max(res.seconds, 1e-9), 2)}
    return seg, info


def write_tracked_landmarks(info: dict, json_path: str | Path, markups_path: Optional[str | Path] = None) -> None:
    """Per-frame landmarks as JSON (``{"frames": T, "landmarks_per_frame": {name: [[R,A,S], ...]}, "coordinates": "RAS"}``)
    and optionally a Slicer markups file of the first frame's points (``<name> [t]`` per frame in a second node is not
    part of the markups schema; the per-frame JSON is the sequence)."""
    from cardiacmotion.io.atomic import atomic_output
    from cardiacmotion.io.markups import write_markups

    lms = info["landmarks_per_frame"]
    doc = {"coordinates": "RAS", "frames": len(next(iter(lms.values()))), "landmarks_per_frame": lms, "method": info.get("method")}
    with atomic_output(json_path) as tmp:
        Path(tmp).write_text(json.dumps(doc, indent=1) + "\n")
    if markups_path:
        write_markups({n: np.asarray(v[0]) for n, v in lms.items()}, markups_path)


def read_tracked_landmarks(path: str | Path) -> dict[str, np.ndarray]:
    """``{name: (T, 3) RAS}`` from a per-frame landmarks JSON (:func:`write_tracked_landmarks`)."""
    try:
        doc = json.loads(Path(path).read_text())
        return {n: np.asarray(doc["landmarks_per_frame"][n], float) for n in ECHO_LANDMARKS}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{path} is not a per-frame landmarks JSON ({type(exc).__name__})") from None
