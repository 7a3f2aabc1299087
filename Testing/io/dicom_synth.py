"""Write small synthetic DICOM files with pydicom for the reader tests (MR cine series, US cine)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

MR_STORAGE = "1.2.840.10008.5.1.4.1.1.4"
US_MULTIFRAME_STORAGE = "1.2.840.10008.5.1.4.1.1.3.1"

#: an oblique, short-axis-like orientation (row and column directions in LPS, orthonormal)
OBLIQUE_IOP = (0.6, 0.8, 0.0, -0.48, 0.36, -0.8)


def _file_meta(sop_class: str, sop_uid: str) -> FileMetaDataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = generate_uid()
    return meta


def mr_geometry(iop=OBLIQUE_IOP, origin=(-20.0, 35.5, 12.25), pixel_spacing=(1.25, 1.5), slice_spacing=8.0):
    """The IJK->LPS matrix a correct reader must produce for :func:`write_mr_series`."""
    row, col = np.asarray(iop[:3], float), np.asarray(iop[3:], float)
    normal = np.cross(row, col)
    m = np.eye(4)
    m[:3, 0] = row * pixel_spacing[1]
    m[:3, 1] = col * pixel_spacing[0]
    m[:3, 2] = normal * slice_spacing
    m[:3, 3] = origin
    return m


def write_mr_series(
    folder: Path,
    slices: int = 4,
    phases: int = 5,
    rows: int = 12,
    cols: int = 10,
    iop: Sequence[float] = OBLIQUE_IOP,
    origin: Sequence[float] = (-20.0, 35.5, 12.25),
    pixel_spacing: Sequence[float] = (1.25, 1.5),
    slice_spacing: float = 8.0,
    rr_ms: float = 800.0,
    series_number: int = 5,
    description: str = "SA cine",
    name_prefix: str = "",
    shuffle_seed: Optional[int] = 0,
    position_jitter: Optional[dict] = None,
    skip: Sequence[tuple] = (),
) -> tuple[np.ndarray, np.ndarray]:
    """Write one cine MR series, one file per (slice, phase), under shuffled names.

    The pixel value encodes (phase, slice) so the reader's ordering can be checked:
    ``value = 1000 * phase + 10 * slice + (row + col) % 7``. SliceLocation is written with a wrong
    step on purpose (the reader must not use it); TriggerTime is in ms.

    Returns:
        ``(array [T,K,J,I], ijk_to_lps 4x4)`` that a correct reader produces.
    """
    folder.mkdir(parents=True, exist_ok=True)
    series_uid, study_uid, for_uid = generate_uid(), "1.2.826.0.1.3680043.8.498.1", generate_uid()
    m = mr_geometry(iop, origin, pixel_spacing, slice_spacing)
    rng = np.random.default_rng(shuffle_seed)
    order = [(k, t) for k in range(slices) for t in range(phases)]
    names = np.arange(len(order))
    if shuffle_seed is not None:
        rng.shuffle(names)
    expected = np.zeros((phases, slices, rows, cols), dtype=np.float32)
    jj, ii = np.mgrid[0:rows, 0:cols]
    for n, (k, t) in zip(names, order):
        if (k, t) in skip:
            continue
        px = (1000 * t + 10 * k + (jj + ii) % 7).astype(np.int16)
        expected[t, k] = px
        sop_uid = generate_uid()
        ds = Dataset()
        ds.file_meta = _file_meta(MR_STORAGE, sop_uid)
        ds.SOPClassUID, ds.SOPInstanceUID = MR_STORAGE, sop_uid
        ds.Modality = "MR"
        ds.PatientName, ds.PatientID = "Synthetic^Cine", "SYN001"
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study_uid, series_uid, for_uid
        ds.SeriesNumber, ds.SeriesDescription = series_number, description
        # instance numbers deliberately not in time order within a slice
        ds.InstanceNumber = int(k * phases + (phases - 1 - t) + 1)
        ipp = m[:3, 3] + m[:3, 2] * k
        if position_jitter and (k, t) in position_jitter:
            ipp = ipp + np.asarray(position_jitter[(k, t)], float)
        ds.ImagePositionPatient = [f"{v:.6f}" for v in ipp]
        ds.ImageOrientationPatient = [f"{v:.6f}" for v in iop]
        ds.PixelSpacing = [f"{v:.6f}" for v in pixel_spacing]
        ds.SliceThickness = f"{slice_spacing:.3f}"
        ds.SliceLocation = f"{3.3 * k:.3f}"  # wrong on purpose
        ds.TriggerTime = f"{(t + 0.5) * rr_ms / phases:.4f}"
        ds.NominalInterval = int(rr_ms)
        ds.CardiacNumberOfImages = phases
        ds.Rows, ds.Columns = rows, cols
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.RescaleSlope, ds.RescaleIntercept = "1", "0"
        ds.PixelData = px.tobytes()
        ds.save_as(str(folder / f"{name_prefix}IMG{n:04d}"), enforce_file_format=True)
    return expected, m


def write_us_cine(
    path: Path,
    frames: int = 6,
    rows: int = 20,
    cols: int = 24,
    delta_cm: tuple = (0.03, 0.04),
    frame_time_ms: Optional[float] = 25.0,
    frame_time_vector: Optional[Sequence[float]] = None,
    rgb: bool = True,
) -> np.ndarray:
    """Write a multi-frame ultrasound DICOM with an ultrasound region calibration.

    Returns:
        the grey frames ``[F, rows, cols]`` a correct reader produces (luma of the RGB frames).
    """
    rng = np.random.default_rng(1)
    base = rng.integers(0, 256, size=(frames, rows, cols, 3), dtype=np.uint8)
    sop_uid = generate_uid()
    ds = Dataset()
    ds.file_meta = _file_meta(US_MULTIFRAME_STORAGE, sop_uid)
    ds.SOPClassUID, ds.SOPInstanceUID = US_MULTIFRAME_STORAGE, sop_uid
    ds.Modality = "US"
    ds.PatientName, ds.PatientID = "Synthetic^Echo", "SYN002"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.SeriesNumber, ds.InstanceNumber = 1, 1
    ds.NumberOfFrames = frames
    if frame_time_ms is not None:
        ds.FrameTime = f"{frame_time_ms}"
    if frame_time_vector is not None:
        ds.FrameTimeVector = [f"{v}" for v in frame_time_vector]
    ds.Rows, ds.Columns = rows, cols
    if rgb:
        ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, "RGB", 0
        ds.PixelData = base.tobytes()
        grey = base[..., 0] * 0.299 + base[..., 1] * 0.587 + base[..., 2] * 0.114
    else:
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.PixelData = base[..., 0].tobytes()
        grey = base[..., 0].astype(np.float64)
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    # a small Doppler-like strip first (time axis, must be ignored), then the 2D tissue region
    strip = Dataset()
    strip.RegionSpatialFormat, strip.RegionDataType = 3, 3
    strip.RegionLocationMinX0, strip.RegionLocationMinY0 = 0, rows - 4
    strip.RegionLocationMaxX1, strip.RegionLocationMaxY1 = cols - 1, rows - 1
    strip.PhysicalUnitsXDirection, strip.PhysicalUnitsYDirection = 4, 7
    strip.PhysicalDeltaX, strip.PhysicalDeltaY = 0.01, 0.5
    region = Dataset()
    region.RegionSpatialFormat, region.RegionDataType = 1, 1
    region.RegionLocationMinX0, region.RegionLocationMinY0 = 0, 0
    region.RegionLocationMaxX1, region.RegionLocationMaxY1 = cols - 1, rows - 5
    region.PhysicalUnitsXDirection, region.PhysicalUnitsYDirection = 3, 3
    region.PhysicalDeltaX, region.PhysicalDeltaY = delta_cm
    ds.SequenceOfUltrasoundRegions = DicomSequence([strip, region])
    ds.save_as(str(path), enforce_file_format=True)
    return grey.astype(np.float32)
