"""Numbers checked at the boundary: sizes claimed by headers, voxel values, spacings.

Policy (README "Command line"):

- a header's claimed size must fit the file that holds it (uncompressed: at least as many bytes;
  deflate/zlib can shrink data at most ~1032:1) and the machine's available memory, checked
  before anything is allocated;
- images with non-finite voxels (NaN or Inf, e.g. a DICOM RescaleSlope of "nan") are refused:
  no method gives a meaningful result on them and a guess would hide a broken export;
- voxel sizes and frame times must be finite, voxel sizes positive.
"""
from __future__ import annotations

import os
from typing import Optional

import numpy as np

from cardiacmotion.errors import InputError

#: deflate's best case is ~1032:1; anything claiming more is not what the file holds
MAX_DEFLATE_RATIO = 1100


def available_memory_bytes() -> Optional[int]:
    """MemAvailable from /proc/meminfo (Linux), else physical memory; None when unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def _human(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024.0
    return f"{n:.1f} TB"  # pragma: no cover


def check_allocation(nbytes: int, what: str, file_bytes: Optional[int] = None, compressed: bool = False,
                     as_float32_of: int = 4) -> None:
    """Refuse a size from a header that the file cannot hold or the machine cannot allocate.

    Args:
        nbytes: bytes the header claims for the pixel data.
        what: the file, for the message.
        file_bytes: bytes actually available for the pixel data (None: not checked).
        compressed: ``file_bytes`` are deflate/zlib-compressed.
        as_float32_of: bytes per voxel on disk; the readers hold the image as float32, so memory
            needs ``nbytes`` plus the float32 copy.
    """
    if file_bytes is not None:
        limit = file_bytes * (MAX_DEFLATE_RATIO if compressed else 1)
        if nbytes > max(limit, 0):
            how = f"a {_human(file_bytes)} compressed file cannot hold" if compressed else f"the file holds only {_human(max(file_bytes, 0))} of"
            raise InputError(f"{what}: the header claims {_human(nbytes)} of pixel data; {how} that much (truncated or forged header)")
    avail = available_memory_bytes()
    need = nbytes + nbytes * 4 // max(as_float32_of, 1)
    if avail is not None and need > avail:
        raise InputError(f"{what}: reading it needs about {_human(need)} of memory, more than the {_human(avail)} available")


def check_image_values(cine, path) -> None:
    """Refuse non-finite voxels, voxel sizes or frame times (see the module policy)."""
    arr = np.asarray(cine.array)
    if arr.dtype.kind == "f":
        bad = int(arr.size - np.count_nonzero(np.isfinite(arr)))
        if bad:
            share = 100.0 * bad / max(arr.size, 1)
            raise InputError(f"{path}: {bad} voxel(s) ({share:.3g} %) are NaN or infinite; fix the export "
                             "(e.g. a DICOM RescaleSlope/Intercept) — images with non-finite values are refused")
    m = np.asarray(cine.ijk_to_ras, dtype=np.float64)
    if not np.all(np.isfinite(m)):
        raise InputError(f"{path}: the image geometry holds NaN or infinite values")
    sizes = np.linalg.norm(m[:3, :3], axis=0)
    if not np.all(sizes > 0) or abs(np.linalg.det(m[:3, :3])) < 1e-12:
        raise InputError(f"{path}: degenerate geometry (voxel sizes {np.round(sizes, 4).tolist()} mm): zero spacing or a singular direction")
    ft = np.asarray(cine.frame_times_ms, dtype=np.float64)
    if not np.all(np.isfinite(ft)):
        raise InputError(f"{path}: the frame times hold NaN or infinite values")
