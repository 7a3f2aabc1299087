"""The engine's files written and read by Slicer's own storage nodes (no pip package in the GUI process).

The modules hand the engine a volume sequence (``.seq.nrrd``, written by the sequence storage node), a
seed segmentation (``.seg.nrrd``, segmentation storage node; one shared layer whose voxel values are the
cardiac labels, so the engine reads it as a label volume), a 4D corrected-phase seed or a 4D segmentation
(label-map volume sequence, ``.seq.nrrd``) and landmarks (markups JSON storage node), and read back the
engine's label-map sequence with the sequence storage node. Only numpy and Slicer are needed here.

Slicer writes what the sequence holds (index values in its own unit, no modality or view); the header of
the written image is then stamped with the frame times in ms and the modality/view, as the engine reads
them (``axis N index values``, ``cardiacmotion modality``, ``cardiacmotion view``).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Mapping, Optional, Sequence

import numpy as np

from cardiacmotion.errors import InputError


def _check_written(ok: int, path: Path, what: str) -> str:
    if not ok or not path.is_file():
        raise InputError(f"Slicer could not write the {what} to {path}")
    return str(path)


def stamp_nrrd_header(path: os.PathLike, fields: Mapping[str, str], ms_axis: Optional[int] = None) -> None:
    """Set ``key:=value`` fields of an attached-header NRRD (replacing same-named ones), data untouched;
    with ``ms_axis``, that axis's entry of the ``units`` field becomes ``ms``."""
    path = Path(path)
    with open(path, "rb") as f:
        head = b""
        while b"\n\n" not in head:
            chunk = f.read(65536)
            if not chunk:
                raise InputError(f"{path}: no NRRD header end")
            head += chunk
        header, rest = head.split(b"\n\n", 1)
        lines = header.decode("latin-1").split("\n")
        keys = {f"{k}:=" for k in fields}
        lines = [ln for ln in lines if not any(ln.startswith(k) for k in keys)]
        if ms_axis is not None:
            lines = [_units_line(ln, ms_axis) if ln.startswith("units:") else ln for ln in lines]
        lines += [f"{k}:={v}" for k, v in fields.items()]
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as out:
            out.write("\n".join(lines).encode("latin-1") + b"\n\n" + rest)
            shutil.copyfileobj(f, out)
    os.replace(tmp, path)


def _units_line(line: str, axis: int) -> str:
    import shlex

    units = shlex.split(line.split(":", 1)[1])
    if axis < len(units):
        units[axis] = "ms"
    return "units: " + " ".join(f'"{u}"' for u in units)


def write_volume_sequence(seq, path: os.PathLike, frame_times_ms: Optional[Sequence[float]] = None,
                          modality: Optional[str] = None, view: Optional[str] = None) -> str:
    """Write a volume sequence as ``.seq.nrrd`` through Slicer's sequence storage node.

    Args:
        seq: the ``vtkMRMLSequenceNode`` of volumes.
        path: target ``.seq.nrrd``.
        frame_times_ms: frame times stamped into the header (the engine reads them as ms).
        modality, view: stamped into the header for the engine.
    """
    import slicer

    path = Path(path)
    first = seq.GetNthDataNode(0) if seq.GetNumberOfDataNodes() else None
    if first is not None and first.GetImageData() is not None and first.GetImageData().GetNumberOfScalarComponents() > 1:
        seq = grey_sequence(seq)  # the engine works on grey frames
    storage = slicer.vtkMRMLVolumeSequenceStorageNode()
    storage.SetFileName(str(path))
    storage.SetUseCompression(False)  # the engine reads it once; compressing a cine costs seconds
    _check_written(storage.WriteData(seq), path, "image sequence")
    fields, axis = {}, None
    if frame_times_ms is not None:
        times = [float(t) for t in frame_times_ms]
        if len(times) != seq.GetNumberOfDataNodes():
            raise InputError(f"{len(times)} frame times for {seq.GetNumberOfDataNodes()} frames")
        axis = _list_axis(path)
        fields[f"axis {axis} index type"] = "numeric"
        fields[f"axis {axis} index values"] = " ".join(f"{t:.6g}" for t in times)
    if modality:
        fields["cardiacmotion modality"] = modality
    if view:
        fields["cardiacmotion view"] = view
    if fields:
        stamp_nrrd_header(path, fields, ms_axis=axis)
    return str(path)


def _list_axis(path: Path) -> int:
    with open(path, "rb") as f:
        header = f.read(65536).split(b"\n\n", 1)[0].decode("latin-1")
    for line in header.split("\n"):
        if line.startswith("kinds:"):
            kinds = line.split(":", 1)[1].split()
            for n, kind in enumerate(kinds):
                if kind.lower() in ("list", "time", "vector"):
                    return n
    raise InputError(f"{path}: the written sequence has no list axis")


def grey_sequence(seq):
    """A grey copy of a colour (RGB/RGBA) volume sequence, luma 0.299 R + 0.587 G + 0.114 B (as the engine's
    video reader), same geometry and index; DICOM ultrasound cines often load as colour."""
    import slicer
    import vtk
    from vtk.util import numpy_support

    from cardiacmotion.slicerbridge.sequences import _image_data

    out = slicer.vtkMRMLSequenceNode()
    out.SetIndexName(seq.GetIndexName())
    out.SetIndexUnit(seq.GetIndexUnit())
    out.SetIndexType(seq.GetIndexType())
    for n in range(seq.GetNumberOfDataNodes()):
        item = seq.GetNthDataNode(n)
        image = item.GetImageData()
        dims = image.GetDimensions()
        comps = image.GetNumberOfScalarComponents()
        rgb = numpy_support.vtk_to_numpy(image.GetPointData().GetScalars()).reshape(dims[2], dims[1], dims[0], comps)
        grey = (rgb[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)) if comps >= 3 \
            else rgb[..., 0].astype(np.float32)
        vol = slicer.vtkMRMLScalarVolumeNode()
        matrix = vtk.vtkMatrix4x4()
        item.GetIJKToRASMatrix(matrix)
        vol.SetIJKToRASMatrix(matrix)
        vol.SetAndObserveImageData(_image_data(grey))
        out.SetDataNodeAtValue(vol, seq.GetNthIndexValue(n))
    for name in seq.GetAttributeNames() or ():
        out.SetAttribute(name, seq.GetAttribute(name))
    return out


def _labelmap_node(labels: np.ndarray, ijk_to_ras: np.ndarray):
    import slicer

    from cardiacmotion.slicerbridge.sequences import _image_data, _vtk_matrix

    node = slicer.vtkMRMLLabelMapVolumeNode()
    node.SetIJKToRASMatrix(_vtk_matrix(ijk_to_ras))
    node.SetAndObserveImageData(_image_data(np.asarray(labels, dtype=np.uint8)))
    return node


def write_label_sequence(labels: np.ndarray, ijk_to_ras: np.ndarray, path: os.PathLike,
                         frame_times_ms: Optional[Sequence[float]] = None, modality: Optional[str] = None) -> str:
    """Write ``uint8 [t, k, j, i]`` labels as a label-map volume sequence ``.seq.nrrd`` (Slicer's writer)."""
    import slicer

    from cardiacmotion.slicerbridge.sequences import INDEX_NAME, INDEX_UNIT

    labels = np.asarray(labels)
    seq = slicer.vtkMRMLSequenceNode()
    seq.SetIndexName(INDEX_NAME)
    seq.SetIndexUnit(INDEX_UNIT)
    times = list(frame_times_ms) if frame_times_ms is not None else list(range(labels.shape[0]))
    for t in range(labels.shape[0]):
        seq.SetDataNodeAtValue(_labelmap_node(labels[t], ijk_to_ras), f"{float(times[t]):.6g}")
    return write_volume_sequence(seq, path, times, modality=modality)


def write_seed_segmentation(labels: np.ndarray, ijk_to_ras: np.ndarray, modality: str, path: os.PathLike) -> str:
    """Write one phase of cardiac labels ``[k, j, i]`` as a ``.seg.nrrd`` (segmentation storage node).

    The segments carry the cardiac names, terminology and label values in one shared layer, so the file is
    at once a Slicer segmentation and a label volume on the image grid.
    """
    import slicer

    from cardiacmotion.slicerbridge.sequences import _fill_segmentation, _oriented_labelmap

    path = Path(path)
    labels = np.asarray(labels, dtype=np.uint8)
    seg = slicer.vtkMRMLSegmentationNode()
    _fill_segmentation(seg, labels, ijk_to_ras, modality)
    # written on the whole image grid (Slicer would crop to the painted extent otherwise)
    grid = slicer.vtkSegmentationConverter.SerializeImageGeometry(_oriented_labelmap(labels * 0, ijk_to_ras))
    seg.GetSegmentation().SetConversionParameter(
        slicer.vtkSegmentationConverter.GetReferenceImageGeometryParameterName(), grid)
    storage = slicer.vtkMRMLSegmentationStorageNode()
    storage.SetFileName(str(path))
    storage.SetUseCompression(True)
    return _check_written(storage.WriteData(seg), path, "seed segmentation")


def write_landmarks(points: Mapping[str, np.ndarray], path: os.PathLike) -> str:
    """Write ``{label: RAS}`` as a markups JSON file through the markups JSON storage node."""
    import slicer

    path = Path(path)
    node = slicer.vtkMRMLMarkupsFiducialNode()
    for label, ras in points.items():
        x, y, z = (float(v) for v in np.asarray(ras, dtype=np.float64).reshape(3))
        node.AddControlPoint(x, y, z, str(label))
    storage = slicer.vtkMRMLMarkupsJsonStorageNode()
    storage.SetFileName(str(path))
    return _check_written(storage.WriteData(node), path, "landmarks")


def read_label_sequence(path: os.PathLike) -> tuple:
    """Read the engine's label-map sequence (``.seq.nrrd``) with Slicer's sequence storage node.

    Returns:
        ``(labels uint8 [t, k, j, i], ijk_to_ras 4x4)``.
    """
    import slicer
    import vtk

    from cardiacmotion.slicerbridge import headless
    from cardiacmotion.slicerbridge.sequences import _array, _numpy_matrix

    path = Path(path)
    if not path.is_file():
        raise InputError(f"the engine wrote no result at {path}")
    scene = headless.get_scene()
    seq = slicer.vtkMRMLSequenceNode()
    seq.SetScene(scene)  # the reader creates its items through the scene's node factory
    storage = slicer.vtkMRMLVolumeSequenceStorageNode()
    storage.SetScene(scene)
    storage.SetFileName(str(path))
    if not storage.ReadData(seq) or seq.GetNumberOfDataNodes() == 0:
        raise InputError(f"Slicer could not read the engine's result {path}")
    arrays, ijk = [], None
    for t in range(seq.GetNumberOfDataNodes()):
        vol = seq.GetNthDataNode(t)
        if ijk is None:
            m = vtk.vtkMatrix4x4()
            vol.GetIJKToRASMatrix(m)
            ijk = _numpy_matrix(m)
        arrays.append(_array(vol.GetImageData()))
    labels = np.stack(arrays)
    if labels.size and (labels.min() < 0 or labels.max() > 3):
        raise InputError(f"{path} has labels outside 0-3")
    return labels.astype(np.uint8), ijk
