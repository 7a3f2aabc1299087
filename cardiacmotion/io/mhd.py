"""MHD/RAW (and .mha) via SimpleITK -> :class:`Cine`.

Layouts: 2D ``x,y`` (one echo frame), 3D ``x,y,t`` (an echo sequence, the CAMUS layout), 4D
``x,y,z,t``. SimpleITK geometry is LPS; it is converted to RAS explicitly. The time axis's
spacing is used as the frame interval when it is meaningful: values in (0, 1) are read as
seconds, values above 1 as ms, and exactly 0 or 1 (the writers' default) as "not given".
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from cardiacmotion.cine import Cine, default_frame_times, lps_to_ras_matrix
from cardiacmotion.errors import InputError


def _frame_times(dt: float, t: int) -> tuple[np.ndarray, bool]:
    if dt <= 0 or dt == 1.0:
        return default_frame_times(t), False
    return np.arange(t) * (dt * 1000.0 if dt < 1.0 else dt), True


_MET_BYTES = {
    "MET_CHAR": 1, "MET_UCHAR": 1, "MET_SHORT": 2, "MET_USHORT": 2, "MET_INT": 4, "MET_UINT": 4,
    "MET_LONG": 4, "MET_ULONG": 4, "MET_LONG_LONG": 8, "MET_ULONG_LONG": 8, "MET_FLOAT": 4, "MET_DOUBLE": 8,
}


def _check_data_file(path: Path) -> None:
    """MetaIO prints to stderr (outside Python) on a missing or short data file: check first."""
    if path.suffix.lower() != ".mhd":
        return
    try:
        with open(path, "rb") as f:
            head = f.read(65536).decode("latin-1")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from exc
    fields = {}
    for line in head.splitlines():
        key, _, value = line.partition("=")
        fields[key.strip()] = value.strip()
        if key.strip() == "ElementDataFile":
            break
    name = fields.get("ElementDataFile")
    if not name:
        raise InputError(f"cannot read {path}: not a MetaImage header (no ElementDataFile)")
    if name.upper() == "LOCAL" or name.upper().startswith("LIST") or "%" in name:
        return
    data = path.parent / name
    if not data.is_file():
        raise InputError(f"cannot read {path}: its data file {name} is missing")
    try:
        dims = [int(v) for v in fields.get("DimSize", "").split()]
        channels = int(fields.get("ElementNumberOfChannels", "1"))
        itemsize = _MET_BYTES[fields.get("ElementType", "")]
        nbytes = int(np.prod(dims, dtype=object)) * channels * itemsize
    except (ValueError, KeyError):
        return  # let SimpleITK judge an unusual header
    if not dims or min(dims) < 1:
        raise InputError(f"cannot read {path}: impossible DimSize {fields.get('DimSize')!r}")
    from cardiacmotion.io.validate import check_allocation

    compressed = fields.get("CompressedData", "False").lower() == "true"
    if not compressed and data.stat().st_size < nbytes:
        raise InputError(f"cannot read {path}: {name} holds {data.stat().st_size} bytes, the header needs {nbytes}")
    check_allocation(nbytes, f"MetaImage {path}", file_bytes=data.stat().st_size, compressed=compressed, as_float32_of=itemsize)
    if compressed:
        _check_compressed(path, data, nbytes)


def _check_compressed(path: Path, data: Path, nbytes: int) -> None:
    """SimpleITK reads a corrupt zlib stream as zeros ("Uncompress failed"): inflate it here first."""
    import zlib

    inflater = zlib.decompressobj()
    total = 0
    try:
        with open(data, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                total += len(inflater.decompress(chunk, max(nbytes - total, 0) + 1))
                while inflater.unconsumed_tail and total <= nbytes:
                    total += len(inflater.decompress(inflater.unconsumed_tail, max(nbytes - total, 0) + 1))
                if total > nbytes:
                    break
            total += len(inflater.flush())
    except zlib.error as exc:
        raise InputError(f"cannot read {path}: its compressed data {data.name} is corrupt ({exc})") from None
    if total != nbytes:
        raise InputError(f"cannot read {path}: its compressed data {data.name} inflates to {total} bytes, the header needs {nbytes}")


def read_mhd(path: Path, three_d: str = "time") -> Cine:
    """Read an MHD/MHA image.

    Args:
        three_d: how to read a 3D file: ``'time'`` (``x,y,t`` echo) or ``'space'`` (one MR phase).
    Raises:
        InputError: unreadable file (missing .raw, corrupt header) or unsupported dimension.
    """
    import SimpleITK as sitk

    _check_data_file(path)
    try:
        img = sitk.ReadImage(str(path))
    except RuntimeError as exc:
        first = next((ln.strip() for ln in str(exc).splitlines() if ln.strip().startswith(("ITK ERROR", "Description"))), "")
        raise InputError(f"cannot read {path}: {first or 'unreadable MetaImage'}") from exc
    if img.GetNumberOfComponentsPerPixel() != 1:
        img = sitk.VectorIndexSelectionCast(img, 0) if img.GetNumberOfComponentsPerPixel() > 1 else img
    arr = sitk.GetArrayFromImage(img).astype(np.float32)  # reversed axes: [t,] [z,] y, x
    dim = img.GetDimension()
    spacing = np.asarray(img.GetSpacing(), dtype=np.float64)
    origin = np.asarray(img.GetOrigin(), dtype=np.float64)
    direction = np.asarray(img.GetDirection(), dtype=np.float64).reshape(dim, dim)
    lps = np.eye(4)
    modality = "US"
    if dim == 2:
        arr = arr[None, None]
        lps[:2, :2] = direction * spacing[None, :]
        lps[:2, 3] = origin
        times, reliable = default_frame_times(1), False
    elif dim == 3 and three_d == "time":
        arr = arr[:, None]
        lps[:2, :2] = direction[:2, :2] * spacing[None, :2]
        lps[:2, 3] = origin[:2]
        times, reliable = _frame_times(float(spacing[2]), arr.shape[0])
    elif dim == 3:
        arr = arr[None]
        lps[:3, :3] = direction * spacing[None, :]
        lps[:3, 3] = origin
        times, reliable = default_frame_times(1), False
        modality = "MR"
    elif dim == 4:
        lps[:3, :3] = direction[:3, :3] * spacing[None, :3]
        lps[:3, 3] = origin[:3]
        times, reliable = _frame_times(float(spacing[3]), arr.shape[0])
        modality = "MR" if arr.shape[1] > 1 else "US"
    else:
        raise InputError(f"{path}: expected a 2D, 3D or 4D image, got {dim}D")
    if abs(np.linalg.det(lps[:3, :3])) < 1e-12:
        raise InputError(f"{path}: degenerate geometry (zero spacing or singular direction)")
    meta = {"source": str(path), "format": "mhd", "frame_times_reliable": reliable}
    view = "SAX" if modality == "MR" else ""
    return Cine(np.ascontiguousarray(arr), lps_to_ras_matrix(lps), times, modality=modality, view=view, meta=meta)
