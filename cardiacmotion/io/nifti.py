"""NIfTI: MR 4D ``x,y,z,t``; echo 3D ``x,y,t`` (or 4D with one slice). Affines are RAS."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from cardiacmotion.cine import Cine, default_frame_times
from cardiacmotion.errors import InputError

_EXT_CODE = 40  # NIFTI_ECODE_COMMENT-like private code holding our JSON (frame times, modality, view)


def read_nifti(path: Path, three_d: str = "time") -> Cine:
    """Read a NIfTI cine.

    Args:
        three_d: how to read a 3D file: ``'time'`` (``x,y,t`` echo video) or ``'space'``
            (``x,y,z`` single phase, e.g. an MR seed).
    """
    import nibabel as nib

    _check_raw_header(Path(path))
    try:
        img = nib.load(str(path))
        data = np.asanyarray(img.dataobj)
    except Exception as exc:  # nibabel raises many types for corrupt files
        raise InputError(f"cannot read NIfTI {path}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from exc
    affine = np.asarray(img.affine, dtype=np.float64)
    meta = _read_meta(img)
    zooms = img.header.get_zooms()
    if data.ndim == 2:
        data = data[:, :, None, None]
    elif data.ndim == 3:
        if three_d == "time":
            data = data[:, :, None, :]
            # the third affine column described time; keep a unit slice axis normal to the plane
            normal = np.cross(affine[:3, 0], affine[:3, 1])
            normal /= np.linalg.norm(normal)
            affine = affine.copy()
            affine[:3, 2] = normal * float(meta.get("slice_thickness_mm", 1.0))
        else:
            data = data[..., None]
    elif data.ndim == 5 and data.shape[4] == 1:
        data = data[..., 0]
    elif data.ndim != 4:
        raise InputError(f"{path}: expected a 3D or 4D NIfTI, got {data.ndim}D")
    arr = np.ascontiguousarray(np.transpose(data, (3, 2, 1, 0)))
    t = arr.shape[0]
    if "frame_times_ms" in meta and len(meta["frame_times_ms"]) == t:
        ft = np.asarray(meta["frame_times_ms"], dtype=np.float64)
    else:
        dt = float(zooms[3]) if len(zooms) > 3 and zooms[3] > 0 else 0.0
        unit = img.header.get_xyzt_units()[1]
        if dt > 0:
            scale = {"sec": 1000.0, "msec": 1.0, "usec": 0.001}.get(unit, 1.0)
            ft = np.arange(t) * dt * scale
        else:
            ft = default_frame_times(t)
    modality = meta.get("modality") or ("US" if data.shape[2] == 1 else "MR")
    view = meta.get("view") or ("SAX" if modality == "MR" else "")
    return Cine(arr, affine, ft, modality=modality, view=view, meta={"source": str(path)})


def _read_meta(img) -> dict:
    from cardiacmotion.io.schema import NIFTI_META, parse_json, validate

    for ext in img.header.extensions:
        if ext.get_code() == _EXT_CODE:
            what = "the NIfTI's CardiacMotion JSON extension"
            return validate(parse_json(bytes(ext.content), what), NIFTI_META, what)
    return {}


def _check_raw_header(path: Path) -> None:
    """Refuse what nibabel would silently repair or try to allocate.

    nibabel sets zero voxel sizes to 1 mm (volumes would be invented) and reads a header's
    claimed size into memory; both are checked here on the raw header bytes first.
    """
    import gzip
    import struct

    from cardiacmotion.io.validate import check_allocation

    try:
        opener = gzip.open if path.name.lower().endswith(".gz") else open
        with opener(path, "rb") as f:
            raw = f.read(544)
    except Exception:  # noqa: BLE001 - zlib.error, EOFError, OSError...: nibabel gives the reason for an unreadable file
        return
    if len(raw) < 348:
        return
    for endian in "<>":
        size = struct.unpack(endian + "i", raw[:4])[0]
        if size in (348, 540):
            break
    else:
        return
    if size == 348:
        dim = struct.unpack(endian + "8h", raw[40:56])
        bitpix = struct.unpack(endian + "h", raw[72:74])[0]
        pixdim = struct.unpack(endian + "8f", raw[76:108])
        vox_offset = struct.unpack(endian + "f", raw[108:112])[0]
        sform_code = struct.unpack(endian + "h", raw[254:256])[0]
    else:
        if len(raw) < 540:
            return
        bitpix = struct.unpack(endian + "h", raw[14:16])[0]
        dim = struct.unpack(endian + "8q", raw[16:80])
        pixdim = struct.unpack(endian + "8d", raw[104:168])
        vox_offset = struct.unpack(endian + "q", raw[168:176])[0]
        sform_code = struct.unpack(endian + "i", raw[348:352])[0]
    ndim = int(dim[0])
    if not 1 <= ndim <= 7 or any(d < 1 for d in dim[1:ndim + 1]) or bitpix <= 0:
        raise InputError(f"cannot read NIfTI {path}: the header gives an impossible size (dim {list(dim[:ndim + 1])}, bitpix {bitpix})")
    nbytes = int(np.prod([int(d) for d in dim[1:ndim + 1]], dtype=object)) * bitpix // 8
    compressed = path.name.lower().endswith(".gz")
    check_allocation(nbytes, f"NIfTI {path}", file_bytes=path.stat().st_size - (0 if compressed else int(vox_offset)),
                     compressed=compressed, as_float32_of=bitpix // 8)
    spatial = [float(v) for v in pixdim[1:min(ndim, 3) + 1]]
    if sform_code <= 0 and not all(np.isfinite(v) and v != 0 for v in spatial):
        raise InputError(f"{path}: the NIfTI voxel size (pixdim {spatial}) is zero or not finite and no sform gives the "
                         "geometry; volumes would be invented: fix the header")


def write_nifti(cine: Cine, path: Path) -> None:
    """Write ``x,y,z,t`` with the RAS affine; frame times, modality and view in a JSON extension."""
    import nibabel as nib

    data = np.transpose(cine.array, (3, 2, 1, 0))
    if np.issubdtype(data.dtype, np.integer) or data.dtype == bool:
        data = data.astype(np.uint8 if data.max(initial=0) < 256 else np.int16)
    else:
        data = data.astype(np.float32)
    img = nib.Nifti1Image(data, cine.ijk_to_ras)
    img.header.set_xyzt_units("mm", "msec")
    if cine.phases > 1:
        zooms = list(img.header.get_zooms())
        zooms[3] = float(np.mean(np.diff(cine.frame_times_ms)))
        img.header.set_zooms(zooms)
    meta = {"frame_times_ms": [float(v) for v in cine.frame_times_ms], "modality": cine.modality, "view": cine.view}
    img.header.extensions.append(nib.nifti1.Nifti1Extension(_EXT_CODE, json.dumps(meta).encode("utf-8")))
    img.set_qform(cine.ijk_to_ras, code=1)
    img.set_sform(cine.ijk_to_ras, code=1)
    nib.save(img, str(path))
