"""Slicer volume sequences (``.seq.nrrd``) and plain 3D/4D NRRD <-> :class:`Cine`.

Slicer's Sequences module stores a sequence of volumes as one 4D NRRD whose list axis carries
no space direction (``none``) and whose per-item index values are key-value pairs::

    kinds: list domain domain domain
    space directions: none (..) (..) (..)
    axis 0 index type:=numeric
    axis 0 index values:=0 40 80 ...
    DataNodeClassName:=vtkMRMLScalarVolumeNode

We write the list axis first (the layout every Slicer version reads) in
``left-posterior-superior`` space, as Slicer writes. The reader finds the list axis wherever it is
(newer Slicer may write it last) and accepts LPS or RAS spaces. Index values are taken as frame
times in ms, except small sub-second steps (``< 20`` overall, step ``< 0.5``), read as seconds.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from cardiacmotion.cine import Cine, default_frame_times, lps_to_ras_matrix, ras_to_lps_matrix
from cardiacmotion.errors import InputError

_LPS = ("left-posterior-superior", "lps", "3d-left-handed")
_RAS = ("right-anterior-superior", "ras", "3d-right-handed")


def _index_values(header: dict, axis: int, t: int) -> tuple[np.ndarray, bool]:
    raw = header.get(f"axis {axis} index values")
    if raw is None or str(header.get(f"axis {axis} index type", "numeric")).strip() != "numeric":
        return default_frame_times(t), False
    try:
        vals = np.asarray([float(v) for v in str(raw).split()], dtype=np.float64)
    except ValueError:
        return default_frame_times(t), False
    if vals.size != t:
        return default_frame_times(t), False
    if t > 2 and np.max(np.abs(vals)) < 20 and np.median(np.diff(vals)) < 0.5:
        vals = vals * 1000.0  # seconds (e.g. ultrasound sequences recorded with PLUS)
    return vals, True


def read_seq_nrrd(path: Path) -> Cine:
    """Read a ``.seq.nrrd`` sequence or a plain 3D/4D NRRD.

    A 3D NRRD with three domain axes is one phase; one with a list/time axis is an echo ``x,y,t``.
    Raises:
        InputError: unreadable file, unknown space, not 3D/4D.
    """
    import nrrd

    try:
        data, header = nrrd.read(str(path), index_order="F")
    except Exception as exc:  # noqa: BLE001 - pynrrd raises NRRDError, ValueError, OSError, zlib errors
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"cannot read NRRD {path}: {first}") from exc
    ndim = data.ndim
    if ndim not in (3, 4):
        raise InputError(f"{path}: expected a 3D or 4D NRRD, got {ndim}D")
    kinds = [str(k).lower() for k in header.get("kinds", ["domain"] * ndim)]
    dirs = header.get("space directions")
    if dirs is None:
        sp = header.get("spacings", [1.0] * ndim)
        dirs = np.full((ndim, 3), np.nan)
        d = 0
        for a in range(ndim):
            if kinds[a] in ("domain", "space") and d < 3 and np.isfinite(sp[a]):
                dirs[a, d] = sp[a]
                d += 1
    dirs = np.asarray(dirs, dtype=np.float64)
    list_axes = [a for a in range(ndim) if kinds[a] in ("list", "time", "vector") or not np.all(np.isfinite(dirs[a]))]
    if len(list_axes) > 1:
        raise InputError(f"{path}: more than one non-spatial axis ({kinds})")
    domain = [a for a in range(ndim) if a not in list_axes]
    if len(domain) not in (2, 3):
        raise InputError(f"{path}: needs 2 or 3 spatial axes, found {len(domain)}")
    space = str(header.get("space", "left-posterior-superior")).lower()
    if space in _LPS or space.startswith("scanner"):
        to_ras = lps_to_ras_matrix
    elif space in _RAS:
        to_ras = lambda m: m  # noqa: E731
    else:
        raise InputError(f"{path}: unsupported NRRD space {space!r} (expected LPS or RAS)")
    m = np.eye(4)
    for col, a in enumerate(domain):
        m[:3, col] = dirs[a]
    if len(domain) == 2:
        normal = np.cross(m[:3, 0], m[:3, 1])
        m[:3, 2] = normal / max(np.linalg.norm(normal), 1e-12)
    origin = header.get("space origin")
    if origin is not None:
        m[:3, 3] = np.asarray(origin, dtype=np.float64)
    order = (list_axes if list_axes else []) + domain[::-1]
    arr = np.transpose(data, order)
    if not list_axes:
        arr = arr[None]
    if len(domain) == 2:
        arr = arr[:, None]
    t = arr.shape[0]
    times, reliable = _index_values(header, list_axes[0], t) if list_axes else (default_frame_times(t), False)
    modality = str(header.get("cardiacmotion modality", "")).upper() or ("MR" if arr.shape[1] > 1 else "US")
    view = str(header.get("cardiacmotion view", "")) or ("SAX" if modality == "MR" else "")
    meta = {"source": str(path), "format": "nrrd", "frame_times_reliable": reliable}
    if not np.issubdtype(arr.dtype, np.integer):
        arr = arr.astype(np.float32)
    return Cine(np.ascontiguousarray(arr), to_ras(m), times, modality=modality, view=view, meta=meta)


def write_seq_nrrd(cine: Cine, path: Path) -> None:
    """Write a cine as a Slicer ``.seq.nrrd`` (list axis first, LPS, gzip).

    Integer arrays are written as a label-map sequence (``vtkMRMLLabelMapVolumeNode``).
    """
    import nrrd

    arr = cine.array
    is_label = np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool
    if is_label:
        arr = arr.astype(np.uint8 if arr.max(initial=0) < 256 else np.int16)
    else:
        arr = arr.astype(np.float32)
    data = np.transpose(arr, (0, 3, 2, 1))  # [t, i, j, k] in Fortran index order
    lps = ras_to_lps_matrix(cine.ijk_to_ras)
    dirs = np.vstack([np.full(3, np.nan), lps[:3, 0], lps[:3, 1], lps[:3, 2]])
    header = {
        "space": "left-posterior-superior",
        "space directions": dirs,
        "space origin": lps[:3, 3],
        "kinds": ["list", "domain", "domain", "domain"],
        "labels": ["frame", "", "", ""],
        "encoding": "gzip",
        "measurement frame": np.eye(3),
        "DataNodeClassName": "vtkMRMLLabelMapVolumeNode" if is_label else "vtkMRMLScalarVolumeNode",
        "axis 0 index type": "numeric",
        "axis 0 index values": " ".join(repr(float(v)) for v in cine.frame_times_ms),
        "cardiacmotion modality": cine.modality,
        "cardiacmotion view": cine.view,
    }
    nrrd.write(str(path), np.ascontiguousarray(data), header, index_order="F")
