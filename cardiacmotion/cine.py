"""The one in-memory type every reader produces and every method consumes.

A cine is an array ``[t, k, j, i]`` (phase, slice, row, column) plus a 4x4 IJK->RAS matrix
(Slicer's convention: column ``i`` is the fastest axis), frame times in ms, modality and view.
An echo video is a cine with one slice. A label map is a cine with an integer array.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Optional

import numpy as np

from cardiacmotion.errors import InputError

MODALITIES = ("MR", "US")

#: ACDC labels for MR, CAMUS labels for echo (DESIGN section 3).
MR_LABELS = {0: "background", 1: "RV cavity", 2: "LV myocardium", 3: "LV cavity"}
US_LABELS = {0: "background", 1: "LV cavity", 2: "LV myocardium", 3: "left atrium"}

#: Label values of the LV cavity / myocardium per modality.
LV_CAVITY = {"MR": 3, "US": 1}
LV_MYO = {"MR": 2, "US": 2}
RV_CAVITY = {"MR": 1}


def label_names(modality: str) -> dict[int, str]:
    """Label value -> name for ``modality`` ('MR' or 'US')."""
    return MR_LABELS if modality == "MR" else US_LABELS


@dataclass
class Cine:
    """A cine image or label map.

    Attributes:
        array: ``[t, k, j, i]`` array (float for images, integer for labels).
        ijk_to_ras: 4x4 matrix mapping (i, j, k, 1) to RAS millimetres.
        frame_times_ms: ``t`` frame times in milliseconds.
        modality: ``'MR'`` or ``'US'``.
        view: ``'SAX'``, ``'A4C'``, ``'A2C'``, ... (free text, upper case).
        meta: reader-specific extras (series description, trigger-time reliability, ...).
    """

    array: np.ndarray
    ijk_to_ras: np.ndarray
    frame_times_ms: np.ndarray
    modality: str = "MR"
    view: str = "SAX"
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.array = np.asarray(self.array)
        if self.array.ndim != 4:
            raise InputError(f"a cine must be 4D [t,k,j,i], got shape {self.array.shape}")
        self.ijk_to_ras = np.asarray(self.ijk_to_ras, dtype=np.float64).reshape(4, 4)
        if not np.all(np.isfinite(self.ijk_to_ras)) or abs(np.linalg.det(self.ijk_to_ras[:3, :3])) < 1e-12:
            raise InputError("the image geometry is degenerate (singular or non-finite IJK->RAS matrix)")
        t = self.array.shape[0]
        ft = np.asarray(self.frame_times_ms, dtype=np.float64).reshape(-1)
        if ft.size != t:
            raise InputError(f"{ft.size} frame times for {t} phases")
        self.frame_times_ms = ft
        self.modality = self.modality.upper()
        if self.modality not in MODALITIES:
            raise InputError(f"unknown modality {self.modality!r} (expected MR or US)")
        self.view = (self.view or "").upper()

    # ---- shape -------------------------------------------------------------------------
    @property
    def phases(self) -> int:
        return int(self.array.shape[0])

    @property
    def slices(self) -> int:
        return int(self.array.shape[1])

    @property
    def rows(self) -> int:
        return int(self.array.shape[2])

    @property
    def columns(self) -> int:
        return int(self.array.shape[3])

    # ---- geometry ----------------------------------------------------------------------
    @property
    def spacing(self) -> np.ndarray:
        """Voxel size (i, j, k) in mm: column spacing, row spacing, slice spacing."""
        return np.linalg.norm(self.ijk_to_ras[:3, :3], axis=0)

    @property
    def direction(self) -> np.ndarray:
        """3x3 unit direction cosines, columns = i, j, k axes in RAS."""
        return self.ijk_to_ras[:3, :3] / self.spacing

    @property
    def origin(self) -> np.ndarray:
        """RAS position of voxel (0, 0, 0)."""
        return self.ijk_to_ras[:3, 3].copy()

    @property
    def voxel_volume_ml(self) -> float:
        return float(abs(np.linalg.det(self.ijk_to_ras[:3, :3])) / 1000.0)

    def ijk_to_ras_points(self, ijk: np.ndarray) -> np.ndarray:
        """(N, 3) voxel indices (i, j, k) -> (N, 3) RAS mm."""
        ijk = np.atleast_2d(np.asarray(ijk, dtype=np.float64))
        return ijk @ self.ijk_to_ras[:3, :3].T + self.ijk_to_ras[:3, 3]

    def ras_to_ijk_points(self, ras: np.ndarray) -> np.ndarray:
        """(N, 3) RAS mm -> (N, 3) continuous voxel indices (i, j, k)."""
        ras = np.atleast_2d(np.asarray(ras, dtype=np.float64))
        inv = np.linalg.inv(self.ijk_to_ras)
        return ras @ inv[:3, :3].T + inv[:3, 3]

    def contains_ijk(self, ijk: np.ndarray, tol: float = 0.5) -> np.ndarray:
        """Whether continuous indices lie inside the grid (half-voxel tolerance)."""
        ijk = np.atleast_2d(ijk)
        upper = np.array([self.columns, self.rows, self.slices]) - 1 + tol
        return np.all((ijk >= -tol) & (ijk <= upper), axis=1)

    def same_grid(self, other: "Cine", atol: float = 1e-3) -> bool:
        """True when ``other`` has the same spatial shape and geometry (phases may differ)."""
        return other.array.shape[1:] == self.array.shape[1:] and np.allclose(
            other.ijk_to_ras, self.ijk_to_ras, atol=atol
        )

    # ---- derived -----------------------------------------------------------------------
    def with_array(self, array: np.ndarray, **changes) -> "Cine":
        """A copy on the same geometry with another array (e.g. a label map)."""
        return replace(self, array=array, meta=dict(self.meta), **changes)

    def describe(self) -> dict:
        """The JSON of ``cardiacmotion info``."""
        return {
            "shape": {"phases": self.phases, "slices": self.slices, "rows": self.rows, "columns": self.columns},
            "ijk_to_ras": self.ijk_to_ras.round(6).tolist(),
            "spacing_mm": [round(float(s), 6) for s in self.spacing],
            "frame_times_ms": [round(float(t), 3) for t in self.frame_times_ms],
            "modality": self.modality,
            "view": self.view,
        }


def default_frame_times(phases: int, rr_ms: float = 1000.0) -> np.ndarray:
    """Evenly spaced frame times over one RR interval when a file gives none."""
    return np.arange(phases, dtype=np.float64) * (rr_ms / max(phases, 1))


def lps_to_ras_matrix(m: np.ndarray) -> np.ndarray:
    """Flip a 4x4 (or 3-vector array) from LPS to RAS: negate the first two rows."""
    flip = np.diag([-1.0, -1.0, 1.0, 1.0])
    return flip @ np.asarray(m, dtype=np.float64)


def lps_to_ras_points(p: np.ndarray) -> np.ndarray:
    """(N,3) LPS <-> RAS (the map is its own inverse)."""
    p = np.array(p, dtype=np.float64, copy=True)
    p[..., :2] *= -1.0
    return p


ras_to_lps_points = lps_to_ras_points
ras_to_lps_matrix = lps_to_ras_matrix


def optional_modality(value: Optional[str]) -> Optional[str]:
    """Map CLI modality words (auto|mr|echo|us) to 'MR' / 'US' / None."""
    if value is None or value.lower() == "auto":
        return None
    v = value.lower()
    if v == "mr":
        return "MR"
    if v in ("echo", "us"):
        return "US"
    raise InputError(f"unknown modality {value!r} (expected auto, mr or echo)")
