"""Pick a reader or writer from the path."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Sequence, Union

from cardiacmotion.cine import Cine
from cardiacmotion.errors import InputError

PathLike = Union[str, os.PathLike]

VIDEO_EXTS = (".avi", ".mp4", ".mov", ".m4v")


def image_format(path: PathLike) -> str:
    """'nifti' | 'dicom-dir' | 'dicom-file' | 'video' | 'mhd' | 'seq-nrrd' | 'nrrd'."""
    p = Path(path)
    name = p.name.lower()
    if p.is_dir():
        return "dicom-dir"
    if name.endswith((".nii", ".nii.gz")):
        return "nifti"
    if name.endswith(".seq.nrrd"):
        return "seq-nrrd"
    if name.endswith(".nrrd"):
        return "nrrd"
    if name.endswith((".mhd", ".mha")):
        return "mhd"
    if name.endswith(VIDEO_EXTS):
        return "video"
    if name.endswith(".dcm") or _has_dicm_preamble(p):
        return "dicom-file"
    raise InputError(f"unrecognised image format: {path} (expected NIfTI, DICOM, AVI/MP4, MHD or .seq.nrrd)")


def _has_dicm_preamble(p: Path) -> bool:
    try:
        with open(p, "rb") as f:
            head = f.read(132)
        return len(head) == 132 and head[128:132] == b"DICM"
    except OSError:
        return False


def read_image(
    path: PathLike,
    modality: Optional[str] = None,
    view: Optional[str] = None,
    spacing: Optional[Sequence[float]] = None,
    series: Optional[Union[str, int]] = None,
) -> Cine:
    """Read a cine from any supported format.

    Args:
        path: file or DICOM folder.
        modality: 'MR' / 'US' to override what the file says (None: from the file).
        view: 'SAX', 'A4C', 'A2C', ... to override what the file says.
        spacing: pixel spacing (mm) for formats without one (AVI/MP4, ultrasound DICOM without
            a region calibration).
        series: a DICOM folder's series to read: its index in ``cardiacmotion info`` or its
            SeriesInstanceUID (a folder with several cine series is refused without it).
    Raises:
        InputError: missing file, unknown or corrupt format, inconsistent geometry.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"no such file or folder: {path}")
    fmt = image_format(p)
    try:
        if fmt == "nifti":
            from cardiacmotion.io.nifti import read_nifti as reader
        elif fmt in ("dicom-dir", "dicom-file"):
            from cardiacmotion.io.dicom import read_dicom as reader
        elif fmt in ("seq-nrrd", "nrrd"):
            from cardiacmotion.io.seqnrrd import read_seq_nrrd as reader
        elif fmt == "mhd":
            from cardiacmotion.io.mhd import read_mhd as reader
        else:
            from cardiacmotion.io.video import read_video as reader
    except ImportError as exc:  # pragma: no cover - a reader not built yet
        raise InputError(f"no reader for {fmt} files in this build ({exc})") from exc
    kwargs = {}
    if fmt in ("video", "dicom-dir", "dicom-file"):
        kwargs["spacing"] = spacing  # ultrasound DICOM without a region calibration needs it too
    if series is not None and str(series) != "":
        if fmt not in ("dicom-dir", "dicom-file"):
            raise InputError(f"--series chooses among the series of a DICOM folder; {path} is a {fmt} file")
        kwargs["series"] = series
    cine = reader(p, **kwargs)
    if modality:
        cine.modality = modality.upper()
    if view:
        cine.view = view.upper()
    return cine


def read_labels(path: PathLike, modality: Optional[str] = None) -> Cine:
    """Read a label map (seed or segmentation): like ``read_image`` with an integer array."""
    import numpy as np

    cine = read_image(path, modality=modality)
    arr = cine.array
    if arr.size and not np.allclose(arr, np.round(arr)):
        raise InputError(f"{path} is not a label map (non-integer values)")
    values = set(np.unique(arr).astype(int).tolist())
    unknown = values - {0, 1, 2, 3}
    if unknown:
        raise InputError(f"{path} has unknown labels {sorted(unknown)} (expected 0-3, see the label convention)")
    cine.array = arr.astype(np.uint8)
    return cine


def write_image(cine: Cine, path: PathLike) -> None:
    """Write NIfTI (``.nii``/``.nii.gz``) or Slicer ``.seq.nrrd``, atomically."""
    from cardiacmotion.io.atomic import atomic_output

    name = str(path).lower()
    with atomic_output(path) as tmp:
        if name.endswith((".nii", ".nii.gz")):
            from cardiacmotion.io.nifti import write_nifti

            write_nifti(cine, tmp)
        elif name.endswith(".seq.nrrd"):
            from cardiacmotion.io.seqnrrd import write_seq_nrrd

            write_seq_nrrd(cine, tmp)
        else:
            raise InputError(f"cannot write {path}: use .nii.gz or .seq.nrrd")
