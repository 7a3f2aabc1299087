"""Multi-frame ultrasound DICOM -> one-slice :class:`Cine` (echo video).

Pixel spacing comes from the ultrasound region calibration (SequenceOfUltrasoundRegions,
PhysicalDeltaX/Y; DICOM unit code 3 = cm, converted to mm), falling back to PixelSpacing or the
caller's ``spacing``. Frame times come from FrameTimeVector, FrameTime, or the frame rate tags.
Colour frames are converted to grey (luma). An echo file has no patient geometry: the grid is
placed like ITK/Slicer place any 2D image, IJK->LPS = diag(dx, dy, 1) (image upright in Slicer).
"""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from cardiacmotion.cine import Cine, default_frame_times, lps_to_ras_matrix
from cardiacmotion.errors import InputError

_UNIT_TO_MM = {3: 10.0}  # DICOM PhysicalUnits code 3 = cm (4 = seconds, 7 = cm/s ... are not lengths)


def image_grid_matrix(dx: float, dy: float, dz: float = 1.0) -> np.ndarray:
    """IJK->RAS for an image without patient geometry (IJK->LPS = diag(dx, dy, dz))."""
    return lps_to_ras_matrix(np.diag([dx, dy, dz, 1.0]))


def region_spacing(ds) -> Optional[tuple[float, float]]:
    """(dx, dy) in mm from the largest 2D tissue region of SequenceOfUltrasoundRegions, or None."""
    regions = ds.get("SequenceOfUltrasoundRegions")
    if not regions:
        return None
    best, best_area = None, -1.0
    for r in regions:
        try:
            ux, uy = int(r.PhysicalUnitsXDirection), int(r.PhysicalUnitsYDirection)
            dx, dy = float(r.PhysicalDeltaX), float(r.PhysicalDeltaY)
        except (AttributeError, TypeError, ValueError):
            continue
        if ux not in _UNIT_TO_MM or uy not in _UNIT_TO_MM or dx <= 0 or dy <= 0:
            continue  # a Doppler strip (time / velocity axes), not a 2D image region
        if int(r.get("RegionSpatialFormat", 1) or 1) not in (1,):  # 1 = 2D
            continue
        x0, y0 = int(r.get("RegionLocationMinX0", 0)), int(r.get("RegionLocationMinY0", 0))
        x1, y1 = int(r.get("RegionLocationMaxX1", 0)), int(r.get("RegionLocationMaxY1", 0))
        area = float(max(x1 - x0, 0) * max(y1 - y0, 0))
        if area > best_area:
            best, best_area = (dx * _UNIT_TO_MM[ux], dy * _UNIT_TO_MM[uy]), area
    return best


def frame_times(ds, frames: int) -> tuple[np.ndarray, bool]:
    """Frame times in ms and whether the file stated them."""
    ftv = ds.get("FrameTimeVector")
    if ftv is not None and len(ftv) == frames:
        inc = np.asarray([float(v) for v in ftv], dtype=np.float64)
        inc[0] = 0.0  # the first entry is the time before the first frame (0 by the standard)
        return np.cumsum(inc), True
    for name in ("FrameTime",):
        v = ds.get(name)
        if v not in (None, "") and float(v) > 0:
            return np.arange(frames) * float(v), True
    for name in ("CineRate", "RecommendedDisplayFrameRate"):
        v = ds.get(name)
        if v not in (None, "") and float(v) > 0:
            return np.arange(frames) * (1000.0 / float(v)), True
    return default_frame_times(frames), False


def to_grey(px: np.ndarray, photometric: str, samples: int) -> np.ndarray:
    """(F, R, C[, 3]) pixels -> (F, R, C) float32 grey (colour given as RGB: pydicom converts YBR)."""
    px = np.asarray(px)
    if samples == 3:
        return (px[..., 0] * 0.299 + px[..., 1] * 0.587 + px[..., 2] * 0.114).astype(np.float32)
    if photometric == "MONOCHROME1":
        return (px.max() - px).astype(np.float32)
    return px.astype(np.float32)


def read_us_dicom(path: Path, spacing: Optional[Sequence[float]] = None) -> Cine:
    """Read a (multi-frame) ultrasound DICOM file as an echo cine ``[T, 1, rows, columns]``.

    Args:
        path: the DICOM file.
        spacing: pixel spacing (mm; one value or (dx, dy)) used when the file has no calibration.
    Raises:
        InputError: unreadable file or pixel data, no pixel spacing anywhere.
    """
    import pydicom

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ds = pydicom.dcmread(str(path))
        except Exception as exc:  # noqa: BLE001 - pydicom raises many types for broken files
            raise InputError(f"{path} is not a readable DICOM file ({type(exc).__name__})") from exc
        frames = int(ds.get("NumberOfFrames", 1) or 1)
        samples = int(ds.get("SamplesPerPixel", 1) or 1)
        photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).upper()
        try:
            px = ds.pixel_array  # pydicom returns YBR data converted to RGB
        except Exception as exc:  # noqa: BLE001 - missing codec, truncated data ...
            raise InputError(f"{path}: cannot decode the ultrasound pixel data ({type(exc).__name__}: {exc})") from exc
        if frames == 1:
            px = px[None]
        grey = to_grey(px, photometric, samples)
        if grey.ndim != 3 or grey.shape[0] != frames:
            raise InputError(f"{path}: unexpected pixel data shape {px.shape} for {frames} frames")
        calib = region_spacing(ds)
        source = "ultrasound regions"
        if calib is None and "PixelSpacing" in ds:
            dy, dx = (float(v) for v in ds.PixelSpacing)
            calib, source = (dx, dy), "PixelSpacing"
        if calib is None and spacing:
            sp = [float(v) for v in spacing]
            calib, source = (sp[0], sp[-1]), "given spacing"
        if calib is None:
            raise InputError(f"{path}: no pixel spacing (no ultrasound region calibration); give --spacing")
        times, reliable = frame_times(ds, frames)
        meta = {
            "source": str(path),
            "format": "dicom-us",
            "spacing_source": source,
            "frame_times_reliable": reliable,
            "series_description": str(ds.get("SeriesDescription", "") or ""),
        }
    arr = grey[:, None]
    return Cine(arr, image_grid_matrix(calib[0], calib[1]), times, modality="US", view="", meta=meta)
