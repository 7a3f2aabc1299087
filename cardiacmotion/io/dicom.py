"""DICOM cine MR series (one file per slice and phase) -> :class:`Cine`.

Geometry comes only from ImageOrientationPatient (IOP), ImagePositionPatient (IPP) and
PixelSpacing: slices are grouped by IPP projected on the slice normal ``n = row x col`` and the
slice spacing is measured along that normal (never from SliceLocation or SliceThickness, which
scanners fill in inconsistently). Phases are ordered by TriggerTime. DICOM is LPS; the matrix is
converted to RAS explicitly. Multi-frame ultrasound files go to :mod:`cardiacmotion.io.dicom_us`.
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np

from cardiacmotion.cine import Cine, default_frame_times, lps_to_ras_matrix
from cardiacmotion.errors import InputError

PathLike = Union[str, os.PathLike]

_POS_TOL_MM = 0.05  # two images closer than this along the normal are the same slice
_IOP_TOL = 1e-3


@dataclass
class _Header:
    path: Path
    series_uid: str
    series_number: str
    description: str
    iop: np.ndarray
    ipp: np.ndarray
    pixel_spacing: tuple
    shape: tuple
    trigger_ms: Optional[float]
    instance: int
    nominal_interval: Optional[float]
    patient_id: str = ""
    study_date: str = ""
    study_uid: str = ""
    modality: str = ""


@dataclass
class _Series:
    key: tuple
    headers: list = field(default_factory=list)

    @property
    def label(self) -> str:
        h = self.headers[0]
        desc = f" '{h.description}'" if h.description else ""
        return f"series {h.series_number or '?'}{desc} ({len(self.headers)} images)"


def _dcmread(path: Path, stop_before_pixels: bool):
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pydicom.dcmread(str(path), stop_before_pixels=stop_before_pixels)
    except (InvalidDicomError, OSError, EOFError, ValueError, TypeError, AttributeError, KeyError):
        return None


def _float_or_none(ds, name: str) -> Optional[float]:
    value = ds.get(name)
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def is_multiframe_us(ds) -> bool:
    """True for an ultrasound (or any multi-frame 2D) DICOM that :mod:`dicom_us` reads."""
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    return str(ds.get("Modality", "")).upper() == "US" or (frames > 1 and "ImagePositionPatient" not in ds)


def _header(path: Path, ds) -> Optional[_Header]:
    if "ImageOrientationPatient" not in ds or "ImagePositionPatient" not in ds or "PixelSpacing" not in ds:
        return None
    try:
        iop = np.asarray([float(v) for v in ds.ImageOrientationPatient], dtype=np.float64)
        ipp = np.asarray([float(v) for v in ds.ImagePositionPatient], dtype=np.float64)
        ps = tuple(float(v) for v in ds.PixelSpacing)
        shape = (int(ds.Rows), int(ds.Columns))
    except (TypeError, ValueError, AttributeError) as exc:
        raise InputError(f"{path}: unreadable geometry tags ({exc})") from exc
    if iop.size != 6 or ipp.size != 3 or len(ps) != 2:
        raise InputError(f"{path}: malformed ImageOrientationPatient/ImagePositionPatient/PixelSpacing")
    return _Header(
        path=path,
        series_uid=str(ds.get("SeriesInstanceUID", "")),
        series_number=str(ds.get("SeriesNumber", "") or ""),
        description=str(ds.get("SeriesDescription", "") or "").strip(),
        iop=iop,
        ipp=ipp,
        pixel_spacing=ps,
        shape=shape,
        trigger_ms=_float_or_none(ds, "TriggerTime"),
        instance=int(ds.get("InstanceNumber", 0) or 0),
        nominal_interval=_float_or_none(ds, "NominalInterval"),
        patient_id=str(ds.get("PatientID", "") or ""),
        study_date=str(ds.get("StudyDate", "") or ""),
        study_uid=str(ds.get("StudyInstanceUID", "") or ""),
        modality=str(ds.get("Modality", "") or ""),
    )


def _list_files(folder: Path) -> list[Path]:
    files = []
    for root, _dirs, names in os.walk(folder):
        for name in names:
            if name.startswith(".") or name.lower() in ("dicomdir",):
                continue
            files.append(Path(root) / name)
    return sorted(files)


def read_dicom(
    path: PathLike,
    series_uid: Optional[str] = None,
    spacing: Optional[Sequence[float]] = None,
    series: Optional[Union[str, int]] = None,
) -> Cine:
    """Read a DICOM cine from a folder or a file.

    A folder is searched recursively for cine series (a complete slices x phases grid of one
    SeriesInstanceUID and orientation, or a multi-frame ultrasound file). When it holds exactly
    one, that one is read; when it holds several, nothing is guessed: an :class:`InputError`
    lists them (as :func:`list_series` does) and ``series`` must choose. A single MR file reads
    the series it belongs to from its folder.

    Args:
        path: DICOM folder or file.
        series_uid: pick this SeriesInstanceUID (same as ``series=UID``).
        spacing: pixel spacing (mm) for an ultrasound file without a region calibration.
        series: the index in :func:`list_series` (``0``, ``"1"``) or a SeriesInstanceUID.
    Raises:
        InputError: no DICOM images, several cine series and no choice, an unknown choice,
            inconsistent geometry.
    """
    # pydicom warns (lazily, on element access) about non-conforming values real scanners write
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _read_dicom(Path(path), series_uid, spacing, series)


@dataclass
class SeriesInfo:
    """One series (or multi-frame ultrasound file) found under a folder, as ``info`` lists it."""

    index: Optional[int]  # position among the cine candidates (``--series``); None: not a cine
    patient_id: str
    study_date: str
    study_uid: str
    series_uid: str
    series_number: str
    description: str
    modality: str
    orientation: str
    slices: int
    phases: int
    images: int
    folder: str
    problem: Optional[str]  # why it is not a readable cine (None: it is one)

    def to_dict(self) -> dict:
        return dict(self.__dict__)

    def label(self) -> str:
        """One line: ``[0] SCD0000101 2012-00-00 series 300 'cine' oblique 12x20 MR``."""
        idx = f"[{self.index}]" if self.index is not None else "[-]"
        desc = f" '{self.description}'" if self.description else ""
        return (f"{idx} patient {self.patient_id or '?'} series {self.series_number or '?'}{desc}, "
                f"{self.slices} slices x {self.phases} phases {self.modality} in {self.folder}")


def _orientation(iop: np.ndarray) -> str:
    """'axial' | 'sagittal' | 'coronal' when the slice normal is within ~25 degrees of an axis, else 'oblique'."""
    n = np.cross(iop[:3], iop[3:])
    n = n / max(float(np.linalg.norm(n)), 1e-9)
    axis = int(np.argmax(np.abs(n)))
    if abs(n[axis]) < 0.9:
        return "oblique"
    return ("sagittal", "coronal", "axial")[axis]  # LPS: x normal = sagittal, y = coronal, z = axial


def _scan(folder: Path, series_uid: Optional[str] = None) -> tuple[dict, list[Path]]:
    series: dict[tuple, _Series] = {}
    us_files: list[Path] = []
    for f in _list_files(folder):
        ds = _dcmread(f, stop_before_pixels=True)
        if ds is None:
            continue
        if is_multiframe_us(ds):
            us_files.append(f)
            continue
        h = _header(f, ds)
        if h is None:
            continue
        if series_uid and h.series_uid != series_uid:
            continue
        # a series may hold several orientations (localisers): split them
        key = (h.series_uid, tuple(np.round(h.iop, 2)), h.shape)
        series.setdefault(key, _Series(key)).headers.append(h)
    return series, us_files


def _common_folder(paths: list[Path], root: Path) -> str:
    common = Path(os.path.commonpath([str(p.parent) for p in paths]))
    try:
        rel = common.relative_to(root)
        return str(rel) if str(rel) != "." else "."
    except ValueError:
        return str(common)


def _describe(series: dict, us_files: list[Path], root: Path) -> tuple[list[SeriesInfo], list]:
    """Every series as a :class:`SeriesInfo`, cine candidates first (indexed), and the candidates' sources."""
    rows = []
    for s in series.values():
        slices, problem = _slice_layout(s)
        phases = len(slices[0])
        if problem is None and phases <= 1:
            problem = "a single phase (not a cine)"
        h = s.headers[0]
        rows.append((problem, SeriesInfo(None, h.patient_id, h.study_date, h.study_uid, h.series_uid, h.series_number,
                                         h.description, h.modality or "MR", _orientation(h.iop), len(slices), phases,
                                         len(s.headers), _common_folder([x.path for x in s.headers], root), problem), s))
    for f in us_files:
        ds = _dcmread(f, stop_before_pixels=True)
        frames = int(ds.get("NumberOfFrames", 1) or 1) if ds is not None else 0
        info = SeriesInfo(None, str(ds.get("PatientID", "") or ""), str(ds.get("StudyDate", "") or ""),
                          str(ds.get("StudyInstanceUID", "") or ""), str(ds.get("SeriesInstanceUID", "") or ""),
                          str(ds.get("SeriesNumber", "") or ""), str(ds.get("SeriesDescription", "") or "").strip(),
                          str(ds.get("Modality", "") or "US"), "", 1, frames, 1, _common_folder([f], root), None)
        rows.append((None, info, f))

    def order(row):
        i = row[1]
        num = int(i.series_number) if i.series_number.isdigit() else 1 << 30
        return (row[0] is not None, i.patient_id, i.study_date, num, i.series_uid, i.folder)

    rows.sort(key=order)
    sources = []
    for problem, info, src in rows:
        if problem is None:
            info.index = len(sources)
            sources.append(src)
    return [r[1] for r in rows], sources


def list_series(path: PathLike) -> list[SeriesInfo]:
    """Every study/series found under a DICOM folder (or the series of one file), cine candidates first.

    ``SeriesInfo.index`` is what ``--series`` takes; series that are not a cine (localisers,
    incomplete grids) are listed with the ``problem`` that rules them out.
    """
    p = Path(path)
    folder = p.parent if p.is_file() else p
    if not folder.is_dir():
        raise InputError(f"no such file or folder: {path}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        series, us_files = _scan(folder)
        infos, _ = _describe(series, us_files, folder)
    return infos


def _pick(infos: list[SeriesInfo], sources: list, choice: Union[str, int], path: Path):
    text = str(choice).strip()
    cands = [i for i in infos if i.index is not None]
    if text.lstrip("-").isdigit():
        n = int(text)
        if not 0 <= n < len(cands):
            raise InputError(f"--series {n}: {path} holds {len(cands)} cine series (0..{len(cands) - 1}); see cardiacmotion info {path}")
        return sources[n]
    for info in cands:
        if info.series_uid == text:
            return sources[info.index]
    raise InputError(f"--series {text}: no cine series with that index or SeriesInstanceUID in {path}")


def several_series_message(path: PathLike, infos: list[SeriesInfo]) -> str:
    """The one-line refusal for a folder with several cine series: each candidate, and how to choose."""
    cands = [i for i in infos if i.index is not None]
    listing = "; ".join(i.label() for i in cands)
    return f"{path} holds {len(cands)} cine series; choose one with --series INDEX or UID: {listing}"


def _read_dicom(p: Path, series_uid: Optional[str], spacing: Optional[Sequence[float]],
                choice: Optional[Union[str, int]] = None) -> Cine:
    path = p
    if p.is_file():
        ds = _dcmread(p, stop_before_pixels=True)
        if ds is None:
            raise InputError(f"{path} is not a readable DICOM file")
        if is_multiframe_us(ds):
            from cardiacmotion.io.dicom_us import read_us_dicom

            return read_us_dicom(p, spacing=spacing)
        if int(ds.get("NumberOfFrames", 1) or 1) > 1:
            raise InputError(f"{path}: enhanced multi-frame MR DICOM is not supported; export one file per image")
        series_uid = series_uid or str(ds.get("SeriesInstanceUID", ""))
        folder = p.parent
    elif p.is_dir():
        folder = p
    else:
        raise InputError(f"no such file or folder: {path}")

    series, us_files = _scan(folder, series_uid)
    if choice is not None or len(series) + len(us_files) > 1:
        infos, sources = _describe(series, us_files, folder)
        if choice is not None:
            src = _pick(infos, sources, choice, path)
        elif len(sources) > 1:  # never resolved by size: the user chooses
            raise InputError(several_series_message(path, infos))
        else:
            src = sources[0] if sources else None
        if isinstance(src, Path):
            from cardiacmotion.io.dicom_us import read_us_dicom

            return read_us_dicom(src, spacing=spacing)
        if src is not None:
            return _assemble(src, str(path))
    if not series:
        if us_files:
            if len(us_files) > 1:
                names = ", ".join(f.name for f in us_files[:5])
                raise InputError(f"{path} holds {len(us_files)} ultrasound DICOM files ({names}); give one file")
            from cardiacmotion.io.dicom_us import read_us_dicom

            return read_us_dicom(us_files[0], spacing=spacing)
        raise InputError(f"no DICOM images with patient geometry found in {path}")
    chosen = _choose_series(list(series.values()), path)
    return _assemble(chosen, str(path))


def _slice_layout(s: _Series) -> tuple[list[list[_Header]], Optional[str]]:
    """Group a series into slices by position along the normal; a reason when it is not a cine grid."""
    h0 = s.headers[0]
    normal = np.cross(h0.iop[:3], h0.iop[3:])
    normal /= np.linalg.norm(normal)
    d = np.array([h.ipp @ normal for h in s.headers])
    order = np.argsort(d, kind="stable")
    slices: list[list[_Header]] = []
    last = None
    for idx in order:
        if last is None or d[idx] - last > _POS_TOL_MM:
            slices.append([])
        slices[-1].append(s.headers[idx])
        last = d[idx]
    counts = {len(x) for x in slices}
    if len(counts) != 1:
        per = ", ".join(str(len(x)) for x in slices)
        return slices, f"slices have different numbers of phases ({per})"
    return slices, None


def _choose_series(candidates: list[_Series], path: PathLike) -> _Series:
    """No cine among ``candidates`` (several cines are refused before): say why each is not one."""
    scored = []
    for s in candidates:
        slices, problem = _slice_layout(s)
        phases = len(slices[0])
        ok = problem is None and phases > 1
        scored.append((ok, s, problem or ("a single phase" if phases <= 1 else None)))
    ok = [x for x in scored if x[0]]
    if len(ok) == 1:
        return ok[0][1]
    found = "; ".join(x[1].label + (f": {x[2]}" if x[2] else "") for x in scored)
    if len(scored) == 1:
        raise InputError(f"{path}: not a consistent cine series: {scored[0][2]}")
    raise InputError(f"{path}: no consistent cine series among {len(scored)} found ({found})")


def _assemble(s: _Series, source: str) -> Cine:
    slices, problem = _slice_layout(s)
    if problem:
        raise InputError(f"{source}: inconsistent cine geometry: {problem}")
    h0 = s.headers[0]
    for h in s.headers:
        if not np.allclose(h.iop, h0.iop, atol=_IOP_TOL):
            raise InputError(f"{source}: images of one series have different orientations ({h.path.name})")
        if not np.allclose(h.pixel_spacing, h0.pixel_spacing, rtol=1e-4):
            raise InputError(f"{source}: images of one series have different pixel spacings ({h.path.name})")
    row_dir, col_dir = h0.iop[:3], h0.iop[3:]
    if abs(np.linalg.norm(row_dir) - 1) > 1e-2 or abs(np.linalg.norm(col_dir) - 1) > 1e-2 or abs(row_dir @ col_dir) > 1e-2:
        raise InputError(f"{source}: ImageOrientationPatient is not two orthonormal directions")
    row_dir = row_dir / np.linalg.norm(row_dir)
    col_dir = col_dir / np.linalg.norm(col_dir)
    normal = np.cross(row_dir, col_dir)
    dy, dx = h0.pixel_spacing  # PixelSpacing = (row spacing, column spacing)
    firsts = [sl[0].ipp for sl in slices]
    pos = np.array([p @ normal for p in firsts])
    k = len(slices)
    if k > 1:
        steps = np.diff(pos)
        dz = float(np.median(steps))
        if np.max(np.abs(steps - dz)) > max(0.05 * dz, 0.1):
            raise InputError(
                f"{source}: uneven slice spacing along the normal ({', '.join(f'{v:.2f}' for v in steps)} mm): missing slices?"
            )
        inplane = np.array([[(p - firsts[0]) @ row_dir / dx, (p - firsts[0]) @ col_dir / dy] for p in firsts])
        if np.max(np.abs(inplane)) > 0.1:
            raise InputError(f"{source}: slices are shifted in plane (sheared stack); cannot build one grid")
    else:
        dz = 1.0
    for sl in slices:
        for h in sl:
            if np.linalg.norm(h.ipp - sl[0].ipp) > _POS_TOL_MM * 2:
                raise InputError(f"{source}: images of one slice have different positions ({h.path.name})")

    # phases: TriggerTime order within each slice (InstanceNumber when a time is missing)
    reliable = all(h.trigger_ms is not None for h in s.headers)
    ordered = []
    for sl in slices:
        key = (lambda h: (h.trigger_ms, h.instance)) if reliable else (lambda h: (h.instance, str(h.path)))
        ordered.append(sorted(sl, key=key))
    t = len(ordered[0])
    trig = np.array([[h.trigger_ms if h.trigger_ms is not None else np.nan for h in sl] for sl in ordered]).T  # [T,K]
    if reliable:
        reliable = bool(np.all(np.diff(trig, axis=0) > 0))
    rr = []
    for sl in ordered:
        nominal = sl[0].nominal_interval
        if nominal and nominal > 0:
            rr.append(nominal)
        elif reliable and t > 1:
            rr.append(float(sl[-1].trigger_ms + np.median(np.diff([h.trigger_ms for h in sl]))))
        else:
            rr.append(np.nan)
    if reliable:
        # the same phase must sit at the same fraction of each slice's cardiac cycle
        frac = trig / np.asarray(rr)[None, :]
        if np.all(np.isfinite(frac)):
            reliable = bool(np.max(np.ptp(frac, axis=1)) < 0.5 / t)
    frame_times = np.median(trig, axis=1) if np.all(np.isfinite(trig)) else default_frame_times(t)

    rows, cols = h0.shape
    arr = np.empty((t, k, rows, cols), dtype=np.float32)
    for kk, sl in enumerate(ordered):
        for tt, h in enumerate(sl):
            arr[tt, kk] = _pixels(h.path, (rows, cols))

    ijk_to_lps = np.eye(4)
    ijk_to_lps[:3, 0] = row_dir * dx  # i (column index) moves along the row direction
    ijk_to_lps[:3, 1] = col_dir * dy
    ijk_to_lps[:3, 2] = normal * dz
    ijk_to_lps[:3, 3] = firsts[0]
    meta = {
        "source": source,
        "format": "dicom",
        "series_instance_uid": h0.series_uid,
        "series_number": h0.series_number,
        "series_description": h0.description,
        "trigger_times_ms": np.round(trig, 4).tolist(),
        "trigger_times_reliable": bool(reliable),
        "rr_interval_ms": [None if not np.isfinite(v) else float(v) for v in rr],
        "files": [[str(h.path) for h in sl] for sl in ordered],  # [K][T]
        "instance_numbers": [[h.instance for h in sl] for sl in ordered],  # [K][T]
    }
    return Cine(arr, lps_to_ras_matrix(ijk_to_lps), frame_times, modality="MR", view="SAX" if k > 1 else "", meta=meta)


def _pixels(path: Path, shape: tuple) -> np.ndarray:
    ds = _dcmread(path, stop_before_pixels=False)
    if ds is None:
        raise InputError(f"{path}: cannot read the DICOM pixel data")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            px = ds.pixel_array.astype(np.float32)
    except Exception as exc:  # pydicom raises many types for missing codecs / truncated data
        raise InputError(f"{path}: cannot decode the DICOM pixel data ({type(exc).__name__})") from exc
    if px.shape != shape:
        raise InputError(f"{path}: pixel data of shape {px.shape}, expected {shape}")
    slope = _float_or_none(ds, "RescaleSlope") or 1.0
    intercept = _float_or_none(ds, "RescaleIntercept") or 0.0
    return px * slope + intercept
