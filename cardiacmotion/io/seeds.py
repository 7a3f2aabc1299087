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

    @classmethod
    def single(cls, label_slice: np.ndarray, phases: int, slices: int, phase: int, slice_index: int = 0) -> "SeedSet":
        """One seeded slice: ``label_slice`` ``[J, I]`` at (``phase``, ``slice_index``) of a ``phases`` x ``slices`` cine."""
        labels = np.zeros((phases, slices) + tuple(label_slice.shape), np.uint8)
        labels[phase, slice_index] = label_slice
        seeded = np.zeros((phases, slices), bool)
        seeded[phase, slice_index] = True
        return cls(labels=labels, seeded=seeded)


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


#: Slicer segment names (lower case, words) -> MR label; the first matching rule wins.
_SEGMENT_NAME_RULES = (
    (("myocard",), 2),
    (("right", "rv"), 1),
    (("cavity", "blood", "lv", "left"), 3),
)


def _segment_label(name: str) -> Optional[int]:
    low = name.lower()
    for keys, value in _SEGMENT_NAME_RULES:
        if any(k in low.replace("_", " ").split() or (len(k) > 3 and k in low) for k in keys):
            return value
    return None


def read_seg_nrrd(path: PathLike, modality: str = "MR") -> Cine:
    """A Slicer segmentation file (``.seg.nrrd``) as a label map in the project's convention.

    Segments are mapped by name ("LV cavity"/"LV blood pool"/"left ventricle" -> 3, "myocardium"
    -> 2, "RV"/"right ventricle" -> 1; echo: cavity 1, myocardium 2, atrium 3), through their
    ``SegmentN_LabelValue`` and ``SegmentN_Layer``; a segment with another name is an error.
    """
    import nrrd

    from cardiacmotion.cine import lps_to_ras_matrix

    try:
        data, header = nrrd.read(str(path))
    except Exception as exc:  # noqa: BLE001 - pynrrd raises several types on damaged files
        raise InputError(f"cannot read the segmentation {path} ({type(exc).__name__}: {exc})") from exc
    data = np.asarray(data)
    dirs = np.asarray(header.get("space directions"), dtype=object)
    rows = [r for r in dirs if r is not None and not (isinstance(r, float) and np.isnan(r))
            and not (isinstance(r, np.ndarray) and np.isnan(r.astype(float)).all())]
    m = np.asarray(rows, dtype=np.float64)
    if m.shape != (3, 3):
        raise InputError(f"{path}: expected a 3D segmentation (space directions {m.shape})")
    layered = data.ndim == 4  # (layers, i, j, k): overlapping segments
    vol = data if layered else data[None]
    names = {}
    for key, value in header.items():
        if key.startswith("Segment") and key.endswith("_Name"):
            names[key[len("Segment"):-len("_Name")]] = str(value)
    out = np.zeros(vol.shape[1:], np.uint8)
    echo = {3: 1, 2: 2, 1: 3}  # MR name rule -> CAMUS label (RV rule stands for the atrium there)
    for idx, name in sorted(names.items()):
        value = _segment_label(name)
        if value is None:
            raise InputError(f"{path}: segment {name!r} is not LV cavity, myocardium or RV (rename it in Slicer)")
        if modality == "US":
            value = echo[value]
        layer = int(header.get(f"Segment{idx}_Layer", 0) or 0)
        lv = int(header.get(f"Segment{idx}_LabelValue", int(idx) + 1) or 1)
        out[vol[layer] == lv] = value
    if not names:
        raise InputError(f"{path}: no segments in this .seg.nrrd")
    ijk_to_lps = np.eye(4)
    ijk_to_lps[:3, :3] = m.T  # each row of space directions is one axis
    ijk_to_lps[:3, 3] = np.asarray(header.get("space origin", [0, 0, 0]), float)
    space = str(header.get("space", "left-posterior-superior")).lower()
    ijk_to_ras = lps_to_ras_matrix(ijk_to_lps) if "left" in space or space == "lps" else ijk_to_lps
    arr = np.transpose(out, (2, 1, 0))[None]  # (i, j, k) -> [t, k, j, i]
    return Cine(arr, ijk_to_ras, [0.0], modality=modality)


def load_seed_file(path: PathLike, image: Cine, seed_phase: Optional[int] = None,
                   seed_slice: Optional[int] = None) -> SeedSet:
    """:func:`load_seed` plus a Slicer ``.seg.nrrd`` and ``seed_slice``.

    ``seed_slice``: only that slice of the seed counts; a 2D seed file (rows x columns of the
    image, one slice) is placed on it whatever its geometry says.
    """
    p = Path(path)
    if p.name.lower().endswith(".seg.nrrd"):
        seeds = seed_from_cine(read_seg_nrrd(p, image.modality), image, seed_phase, name=path)
    elif seed_slice is not None and image.slices > 1:
        seed = _read_seed_file(p, image)
        if seed.slices == 1 and seed.phases == 1 and seed.array.shape[2:] == image.array.shape[2:]:
            arr = _check_labels(np.asarray(seed.array), image, path)
            phase = 0 if seed_phase is None else int(seed_phase)
            if not 0 <= seed_slice < image.slices or not 0 <= phase < image.phases:
                raise InputError(f"--seed-slice {seed_slice} / phase {phase} is outside the image")
            labels = np.zeros(image.array.shape, np.uint8)
            labels[phase, seed_slice] = arr[0, 0]
            seeded = labels.reshape(image.phases, image.slices, -1).any(axis=2)
            return SeedSet(labels=labels, seeded=seeded)
        seeds = seed_from_cine(seed, image, seed_phase, name=path)
    else:
        seeds = load_seed(p, image, seed_phase)
    if seed_slice is not None:
        if not 0 <= seed_slice < image.slices:
            raise InputError(f"--seed-slice {seed_slice} is outside the image's {image.slices} slices")
        keep = np.zeros(image.slices, bool)
        keep[seed_slice] = True
        seeds.labels[:, ~keep] = 0
        seeds.seeded[:, ~keep] = False
        if not seeds.seeded.any():
            raise InputError(f"{path}: the seed has no label on slice {seed_slice}")
    return seeds
