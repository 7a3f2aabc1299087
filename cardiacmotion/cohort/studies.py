"""What a cohort is made of: one :class:`Study` per cine, found in a folder or read from a manifest.

A folder of studies holds, one entry per study:

- a *case folder* with an image file named ``image.*`` (NIfTI, MHD, ``.seq.nrrd``, AVI/MP4) and
  optionally ``seed.nii.gz`` / ``landmarks.mrk.json`` / ``truth.json`` beside it (the layout
  ``cardiacmotion phantom`` writes; ``truth.json``'s ``lv_ef_pct`` becomes the reference EF and
  its ``seed_phase`` the seed's phase);
- a *DICOM folder* (any other sub-folder), with an optional ``seed.nii.gz`` / ``*.mrk.json`` inside;
- an *image file* (``NAME.nii.gz``, ``NAME.mp4``, ...), with optional sidecars ``NAME.seed.nii.gz``
  and ``NAME.mrk.json`` / ``NAME.landmarks.mrk.json``.

A study with neither seed nor landmarks gets the automatic start of ``analyze`` (short-axis MR).

A manifest (CSV, or JSON: a list of objects or ``{"studies": [...]}``) has one row per study with
the columns of :data:`MANIFEST_COLUMNS`; only ``path`` is required and relative paths are taken
from the manifest's folder.
"""
from __future__ import annotations

import csv
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Optional, Union

from cardiacmotion.errors import InputError

PathLike = Union[str, Path]

#: Manifest columns (``path`` required). ``reference_ef`` may be renamed with ``--reference-column``.
MANIFEST_COLUMNS = ("id", "path", "series", "seed", "seed_phase", "landmarks", "modality", "spacing",
                    "ed_phase", "es_phase", "reference_ef")

_IMAGE_SUFFIXES = (".nii.gz", ".nii", ".mhd", ".seq.nrrd", ".nrrd", ".avi", ".mp4", ".dcm")
_SEED_NAMES = ("seed.nii.gz", "seed.nii", "seed.seq.nrrd", "seed.nrrd")
_SKIP_NAMES = {"cohort.csv", "cohort.parquet", "cohort.jsonl"}


@dataclass
class Study:
    """One cine of a cohort and what it needs to run (paths are absolute)."""

    id: str
    path: str
    seed: Optional[str] = None
    landmarks: Optional[str] = None
    seed_phase: Optional[int] = None
    series: Optional[str] = None
    modality: str = "auto"
    spacing: Optional[list[float]] = None
    ed_phase: Optional[int] = None
    es_phase: Optional[int] = None
    reference_ef: Optional[float] = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    def input_paths(self) -> list[str]:
        """Every file or folder the study reads (hashed for resume, never written to)."""
        return [p for p in (self.path, self.seed, self.landmarks) if p]


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for s in _IMAGE_SUFFIXES:
        if name.endswith(s):
            return s
    return ""


def _stem(path: Path) -> str:
    s = _suffix(path)
    return path.name[: len(path.name) - len(s)] if s else path.stem


def _from_truth(folder: Path) -> tuple[Optional[float], Optional[int]]:
    """``(reference EF, seed phase)`` from a phantom case's ``truth.json`` (None when absent)."""
    truth = folder / "truth.json"
    if not truth.is_file():
        return None, None
    try:
        data = json.loads(truth.read_text())
        ef, phase = data.get("lv_ef_pct"), data.get("seed_phase")
        return (None if ef is None else float(ef)), (None if phase is None else int(phase))
    except (ValueError, OSError, AttributeError, TypeError):
        return None, None


def _first(folder: Path, names) -> Optional[str]:
    for n in names:
        if (folder / n).is_file():
            return str((folder / n).resolve())
    return None


def _study_from_folder(folder: Path) -> Study:
    images = sorted(p for p in folder.iterdir() if p.is_file() and p.name.lower().startswith("image.") and _suffix(p))
    marks = sorted(folder.glob("*.mrk.json"))
    landmarks = str(marks[0].resolve()) if marks else None
    seed = _first(folder, _SEED_NAMES)
    path = images[0] if images else folder  # no image.* file: a DICOM folder
    reference, seed_phase = _from_truth(folder)
    return Study(id=folder.name, path=str(path.resolve()), seed=seed, landmarks=landmarks,
                 reference_ef=reference, seed_phase=seed_phase)


def _study_from_file(path: Path) -> Study:
    stem = _stem(path)
    folder = path.parent
    seed = _first(folder, [f"{stem}.{n}" for n in _SEED_NAMES])
    landmarks = _first(folder, [f"{stem}.mrk.json", f"{stem}.landmarks.mrk.json"])
    return Study(id=stem, path=str(path.resolve()), seed=seed, landmarks=landmarks)


def _is_sidecar(path: Path, stems: set[str]) -> bool:
    name = path.name
    if name.endswith(".mrk.json") or name in _SKIP_NAMES:
        return True
    return any(name.startswith(f"{s}.seed.") for s in stems)


def discover_folder(root: PathLike) -> list[Study]:
    """One study per case folder, DICOM folder or image file directly inside ``root`` (sorted by name)."""
    root = Path(root)
    entries = sorted(p for p in root.iterdir() if not p.name.startswith("."))
    files = [p for p in entries if p.is_file() and _suffix(p)]
    stems = {_stem(p) for p in files}
    studies = [_study_from_folder(p) for p in entries if p.is_dir()]
    studies += [_study_from_file(p) for p in files if not _is_sidecar(p, stems)]
    if not studies:
        raise InputError(f"{root}: no studies found (expected case folders, DICOM folders or image files)")
    return unique_ids(sorted(studies, key=lambda s: s.id))


def _int_or_none(value: Any, column: str, row: int) -> Optional[int]:
    if value is None or str(value).strip() == "":
        return None
    try:
        return int(float(value))
    except ValueError:
        raise InputError(f"manifest row {row}: {column} {value!r} is not a whole number") from None


def _float_or_none(value: Any, column: str, row: int) -> Optional[float]:
    if value is None or str(value).strip() == "":
        return None
    try:
        return float(value)
    except ValueError:
        raise InputError(f"manifest row {row}: {column} {value!r} is not a number") from None


def _resolve(base: Path, value: Any) -> Optional[str]:
    if value is None or str(value).strip() == "":
        return None
    p = Path(str(value).strip()).expanduser()
    return str((p if p.is_absolute() else base / p).resolve())


def read_manifest(path: PathLike, reference_column: str = "reference_ef") -> list[Study]:
    """Studies from a CSV or JSON manifest (see :data:`MANIFEST_COLUMNS`).

    Raises:
        InputError: unreadable manifest, no ``path`` column, or a value of the wrong kind.
    """
    path = Path(path)
    base = path.resolve().parent
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(path.read_text())
            rows = data.get("studies") if isinstance(data, dict) else data
            if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
                raise InputError(f"{path}: a JSON manifest is a list of study objects (or {{\"studies\": [...]}})")
        else:
            with open(path, newline="", encoding="utf-8-sig") as f:
                rows = list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, csv.Error) as exc:
        raise InputError(f"{path}: unreadable manifest ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})") from None
    if not rows:
        raise InputError(f"{path}: the manifest lists no study")
    studies = []
    for n, row in enumerate(rows, start=1):
        row = {str(k).strip().lower(): v for k, v in row.items() if k is not None}
        if not row.get("path"):
            raise InputError(f"manifest row {n}: no 'path' (every study needs its image file or DICOM folder)")
        image = _resolve(base, row["path"])
        spacing = row.get("spacing")
        if isinstance(spacing, str):
            spacing = [float(v) for v in re.split(r"[\s;x]+", spacing.strip()) if v] or None
        elif isinstance(spacing, (int, float)):
            spacing = [float(spacing)]
        known = set(MANIFEST_COLUMNS) | {reference_column.lower()}
        studies.append(Study(
            id=str(row.get("id") or _stem(Path(image)) or f"study{n}").strip(),
            path=image,
            seed=_resolve(base, row.get("seed")),
            landmarks=_resolve(base, row.get("landmarks")),
            seed_phase=_int_or_none(row.get("seed_phase"), "seed_phase", n),
            series=(str(row["series"]).strip() or None) if row.get("series") not in (None, "") else None,
            modality=str(row.get("modality") or "auto").strip().lower() or "auto",
            spacing=spacing,
            ed_phase=_int_or_none(row.get("ed_phase"), "ed_phase", n),
            es_phase=_int_or_none(row.get("es_phase"), "es_phase", n),
            reference_ef=_float_or_none(row.get(reference_column.lower()), reference_column, n),
            extra={k: v for k, v in row.items() if k not in known},
        ))
    return unique_ids(studies)


def unique_ids(studies: list[Study]) -> list[Study]:
    """Make ids safe as folder names and unique (``a``, ``a-2``, ...), in order."""
    seen: dict[str, int] = {}
    for s in studies:
        clean = re.sub(r"[^A-Za-z0-9._-]+", "_", s.id).strip("._") or "study"
        n = seen.get(clean, 0) + 1
        seen[clean] = n
        s.id = clean if n == 1 else f"{clean}-{n}"
    return studies


def load_studies(source: PathLike, reference_column: str = "reference_ef") -> list[Study]:
    """Studies from a folder of studies or a CSV/JSON manifest file."""
    source = Path(source)
    if not source.exists():
        raise InputError(f"no such file or folder: {source}")
    if source.is_dir():
        return discover_folder(source)
    if source.suffix.lower() in (".csv", ".json", ".tsv"):
        return read_manifest(source, reference_column)
    raise InputError(f"{source}: expected a folder of studies or a .csv/.json manifest")
