"""AVI / MP4 echo videos via OpenCV -> one-slice :class:`Cine`.

A video carries no physical size: the pixel spacing must be given (``--spacing``). Frame times
come from the container's frame rate. Colour frames are converted to grey (OpenCV's BGR luma).
The grid is placed like any 2D image without geometry (see :func:`dicom_us.image_grid_matrix`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from cardiacmotion.cine import Cine, default_frame_times
from cardiacmotion.errors import InputError
from cardiacmotion.io.dicom_us import image_grid_matrix


def parse_spacing(spacing: Optional[Sequence[float]], path: Path) -> tuple[float, float]:
    """One value (square pixels) or (dx, dy) in mm, all positive."""
    if spacing is None or len(spacing) == 0:
        raise InputError(f"{path}: a video has no pixel size; give it with --spacing MM (or --spacing DX DY)")
    values = [float(v) for v in spacing]
    if len(values) > 2 or not all(np.isfinite(v) and v > 0 for v in values):
        raise InputError(f"invalid --spacing {spacing}: one or two positive numbers (mm)")
    return values[0], values[-1]


def read_video(path: Path, spacing: Optional[Sequence[float]] = None) -> Cine:
    """Read an AVI/MP4 echo video.

    Args:
        path: the video file.
        spacing: pixel spacing in mm, one value or (dx, dy); required.
    Raises:
        InputError: no spacing, unreadable video, no frames.
    """
    import cv2

    dx, dy = parse_spacing(spacing, path)
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise InputError(f"{path}: cannot open the video (unknown codec or not a video)")
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        claimed = [int(cap.get(p) or 0) for p in (cv2.CAP_PROP_FRAME_COUNT, cv2.CAP_PROP_FRAME_HEIGHT, cv2.CAP_PROP_FRAME_WIDTH)]
        if min(claimed) > 0:
            from cardiacmotion.io.validate import check_allocation

            check_allocation(int(np.prod(claimed, dtype=object)), f"video {path}", as_float32_of=1)
        frames = []  # 8-bit grey until the end: a long clip costs 1 + 4 bytes per pixel, not 8
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            if frame.ndim == 3:
                frame = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
            frames.append(frame)
    finally:
        cap.release()
    if not frames:
        raise InputError(f"{path}: the video has no readable frames")
    arr = np.empty((len(frames), 1) + frames[0].shape, np.float32)
    for n, frame in enumerate(frames):
        arr[n, 0] = frame
    del frames
    t = arr.shape[0]
    reliable = 0 < fps < 10000
    times = np.arange(t) * (1000.0 / fps) if reliable else default_frame_times(t)
    meta = {"source": str(path), "format": "video", "fps": fps, "frame_times_reliable": bool(reliable)}
    return Cine(arr, image_grid_matrix(dx, dy), times, modality="US", view="", meta=meta)


def write_video(cine: Cine, path: Path, fps: Optional[float] = None) -> None:
    """Write a one-slice cine as an 8-bit grey MJPG AVI (used by tests and demos)."""
    import cv2

    if cine.slices != 1:
        raise InputError("only a one-slice cine (echo) can be written as a video")
    if fps is None:
        dt = float(np.median(np.diff(cine.frame_times_ms))) if cine.phases > 1 else 40.0
        fps = 1000.0 / dt
    arr = cine.array[:, 0].astype(np.float32)
    lo, hi = float(arr.min()), float(arr.max())
    arr8 = np.clip((arr - lo) / max(hi - lo, 1e-6) * 255.0, 0, 255).astype(np.uint8)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), float(fps), (cine.columns, cine.rows), False)
    try:
        for frame in arr8:
            writer.write(frame)
    finally:
        writer.release()
