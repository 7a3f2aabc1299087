"""Seeds and landmarks matched to an image in physical space.

A seed is a label map (the modality's label convention) that starts propagation:

- MR: a 3D volume (one phase, placed at ``seed_phase``) or a 4D one (every phase given; several
  corrected phases all become seeds);
- echo: a 2D frame (placed at ``seed_phase``) or a 3D ``x,y,t`` stack of frames.

Only the slices / frames that carry a label count as seeded. A seed on another grid is resampled
nearest-neighbour in RAS onto the image grid; a labelled voxel that falls outside the image is an
error, never silently dropped.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional, Sequence, Union

import numpy as np

from cardiacmotion.cine import Cine
from cardiacmotion.errors import InputError

PathLike = Union[str, os.PathLike]


@dataclass
class SeedSet:
    """Seed labels on the image grid.

    Attributes:
        labels: ``uint8 [T, K, J, I]``; zero where nothing was seeded.
        seeded: ``bool [T, K]``; which phase/slice pairs carry a seed.
    """

    labels: np.ndarray
    seeded: np.ndarray

    @property
    def phases(self) -> list[int]:
        """Phases with at least one seeded slice."""
        return [int(t) for t in np.flatnonzero(self.seeded.any(axis=1))]

    def slices(self, phase: int) -> list[int]:
        """Seeded slices of ``phase``."""
        return [int(k) for k in np.flatnonzero(self.seeded[phase])]


def _read_seed_file(path: Path, image: Cine) -> Cine:
    """Read a label file so that a 3D file means one MR phase, or ``x,y,t`` frames for echo."""
    from cardiacmotion.io.dispatch import image_format, read_image

    if not path.exists():
        raise InputError(f"no such seed file: {path}")
    fmt = image_format(path)
    three_d = "time" if image.slices == 1 else "space"
    if fmt == "nifti":
        from cardiacmotion.io.nifti import read_nifti

        return read_nifti(path, three_d=three_d)
    if fmt == "mhd":
        from cardiacmotion.io.mhd import read_mhd

        return read_mhd(path, three_d=three_d)
    return read_image(path)


def _check_labels(arr: np.ndarray, image: Cine, path: PathLike) -> np.ndarray:
    if arr.size == 0 or not np.all(np.isfinite(arr)) or not np.allclose(arr, np.round(arr)):
        raise InputError(f"{path} is not a label map (non-integer values)")
    values = set(np.unique(arr).astype(int).tolist())
    unknown = sorted(values - {0, 1, 2, 3})
    if unknown:
        raise InputError(f"seed {path} has unknown labels {unknown} (expected 0-3 for {image.modality})")
    if values <= {0}:
        raise InputError(f"seed {path} is empty (no labelled voxel)")
    return arr.astype(np.uint8)


def resample_nearest(src: Cine, image: Cine, name: PathLike = "seed") -> np.ndarray:
    """Resample the label map ``src`` onto ``image``'s grid, nearest neighbour in RAS.

    Returns:
        ``uint8 [src.phases, K, J, I]``.
    Raises:
        InputError: a labelled voxel of ``src`` lies outside the image (beyond half a voxel).
    """
    # every labelled source voxel must land inside the image
    t_idx, k_idx, j_idx, i_idx = np.nonzero(src.array)
    ras = src.ijk_to_ras_points(np.stack([i_idx, j_idx, k_idx], axis=1).astype(np.float64))
    ijk = image.ras_to_ijk_points(ras)
    inside = image.contains_ijk(ijk, tol=0.5 + 1e-6)
    if not np.all(inside):
        frac = 100.0 * (1 - inside.mean())
        raise InputError(f"{name}: {frac:.0f}% of the labelled voxels lie outside the image (seed on another region?)")
    if src.same_grid(image, atol=1e-4):
        return src.array.astype(np.uint8)
    kk, jj, ii = np.meshgrid(np.arange(image.slices), np.arange(image.rows), np.arange(image.columns), indexing="ij")
    grid = np.stack([ii.ravel(), jj.ravel(), kk.ravel()], axis=1).astype(np.float64)
    s = np.rint(src.ras_to_ijk_points(image.ijk_to_ras_points(grid))).astype(np.int64)
    ok = (
        (s[:, 0] >= 0) & (s[:, 0] < src.columns) & (s[:, 1] >= 0) & (s[:, 1] < src.rows)
        & (s[:, 2] >= 0) & (s[:, 2] < src.slices)
    )
    out = np.zeros((src.phases, image.slices * image.rows * image.columns), dtype=np.uint8)
    flat = np.flatnonzero(ok)
    for t in range(src.phases):
        out[t, flat] = src.array[t, s[ok, 2], s[ok, 1], s[ok, 0]]
    out = out.reshape(src.phases, image.slices, image.rows, image.columns)
    if not out.any():
        raise InputError(f"{name}: the seed covers no voxel of the image after resampling")
    return out


def seed_from_cine(seed: Cine, image: Cine, seed_phase: Optional[int] = None, name: PathLike = "seed") -> SeedSet:
    """Place an in-memory label map as seeds on ``image`` (see :func:`load_seed`)."""
    arr = _check_labels(np.asarray(seed.array), image, name)
    seed = seed.with_array(arr)
    if seed.phases == 1:
        phase = 0 if seed_phase is None else int(seed_phase)
        if not 0 <= phase < image.phases:
            raise InputError(f"seed phase {phase} is outside the image's {image.phases} phases")
    elif seed.phases != image.phases:
        raise InputError(f"{name} has {seed.phases} phases; expected 1 or the image's {image.phases}")
    else:
        phase = None
    on_grid = resample_nearest(seed, image, name)
    labels = np.zeros(image.array.shape, dtype=np.uint8)
    if phase is None:
        labels[:] = on_grid
    else:
        labels[phase] = on_grid[0]
    seeded = labels.reshape(image.phases, image.slices, -1).any(axis=2)
    return SeedSet(labels=labels, seeded=seeded)


def load_seed(path: PathLike, image: Cine, seed_phase: Optional[int] = None) -> SeedSet:
    """Read a seed label map and match it to ``image``.

    Args:
        path: NIfTI / NRRD / MHD label map: 3D (MR, one phase) or 2D (echo frame) placed at
            ``seed_phase`` (default 0); 4D MR or ``x,y,t`` echo with one volume per image phase.
        image: the image the seed belongs to.
        seed_phase: the phase index of a single-phase seed.
    Returns:
        :class:`SeedSet` on the image grid.
    Raises:
        InputError: unreadable file, unknown labels, empty seed, a seed outside the image,
            a phase count that matches neither 1 nor the image.
    """
    p = Path(path)
    seed = _read_seed_file(p, image)
    return seed_from_cine(seed, image, seed_phase, name=path)


def match_landmarks(
    points: Union[PathLike, Mapping[str, Sequence[float]]],
    image: Cine,
    required: Optional[Sequence[str]] = None,
) -> dict[str, np.ndarray]:
    """Check named landmarks against ``image``.

    Args:
        points: ``{label: RAS (3,)}`` or a Slicer markups JSON path.
        image: the image they were placed on.
        required: names that must be present (default: the modality's three landmarks).
    Returns:
        ``{name: RAS (3,)}`` for the required names (all points when ``required`` is empty).
    Raises:
        InputError: a missing name, or a point outside the image (in plane beyond half a pixel,
            out of plane beyond half a slice spacing).
    """
    from cardiacmotion.io.markups import ECHO_LANDMARKS, MR_LANDMARKS, read_markups

    if isinstance(points, (str, os.PathLike)):
        points = read_markups(points)
    pts = {str(k): np.asarray(v, dtype=np.float64).reshape(3) for k, v in points.items()}
    if required is None:
        required = MR_LANDMARKS if image.modality == "MR" else ECHO_LANDMARKS
    names = list(required) if required else list(pts)
    missing = [n for n in names if n not in pts]
    if missing:
        found = ", ".join(repr(n) for n in pts) or "none"
        raise InputError(f"landmark {missing[0]!r} is missing (found: {found})")
    out = {}
    for n in names:
        if not np.all(np.isfinite(pts[n])):
            raise InputError(f"landmark {n!r} has no valid position")
        ijk = image.ras_to_ijk_points(pts[n][None])
        if not image.contains_ijk(ijk, tol=0.5 + 1e-6)[0]:
            i, j, k = ijk[0]
            raise InputError(
                f"landmark {n!r} lies outside the image (voxel i={i:.1f} j={j:.1f} k={k:.1f} of "
                f"{image.columns}x{image.rows}x{image.slices})"
            )
        out[n] = pts[n]
    return out
