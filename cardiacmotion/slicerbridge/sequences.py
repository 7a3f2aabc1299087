"""Cine <-> MRML sequences: a volume sequence and a segmentation sequence in one sequence browser.

The image becomes a ``vtkMRMLSequenceNode`` of scalar volumes (one item per phase, index value = frame time
in ms); the label map becomes a sequence of segmentation nodes (shared labelmap, one segment per label, with
names and terminology) synchronised in the SAME browser, so moving the browser moves both. Edits the user
makes to the segmentation proxy are saved back into the sequence with :func:`store_segmentation_proxy`.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from cardiacmotion.cine import Cine
from cardiacmotion.errors import InputError
from cardiacmotion.slicerbridge import headless
from cardiacmotion.slicerbridge.terminology import segment_specs

BINARY_LABELMAP = "Binary labelmap"
INDEX_NAME = "time"
INDEX_UNIT = "ms"


def _vtk_matrix(m: np.ndarray):
    import vtk

    out = vtk.vtkMatrix4x4()
    for r in range(4):
        for c in range(4):
            out.SetElement(r, c, float(m[r, c]))
    return out


def _numpy_matrix(vm) -> np.ndarray:
    return np.array([[vm.GetElement(r, c) for c in range(4)] for r in range(4)], dtype=np.float64)


def _image_data(volume: np.ndarray):
    """[k, j, i] array -> vtkImageData (i fastest), a deep copy."""
    import vtk
    from vtk.util import numpy_support

    vol = np.ascontiguousarray(volume)
    img = vtk.vtkImageData()
    img.SetDimensions(vol.shape[2], vol.shape[1], vol.shape[0])
    scalars = numpy_support.numpy_to_vtk(vol.reshape(-1), deep=True)
    img.GetPointData().SetScalars(scalars)
    return img


def _array(image_data) -> np.ndarray:
    """vtkImageData -> [k, j, i] numpy array (a copy)."""
    from vtk.util import numpy_support

    dims = image_data.GetDimensions()
    arr = numpy_support.vtk_to_numpy(image_data.GetPointData().GetScalars())
    return arr.reshape(dims[2], dims[1], dims[0]).copy()


def _frame_value(t_ms: float) -> str:
    return f"{float(t_ms):.3f}".rstrip("0").rstrip(".") or "0"


def _new_sequence(scene, name: str):
    seq = scene.AddNewNodeByClass("vtkMRMLSequenceNode", name)
    seq.SetIndexName(INDEX_NAME)
    seq.SetIndexUnit(INDEX_UNIT)
    seq.SetIndexType(seq.NumericIndex)
    return seq


def volume_sequence_from_cine(image: Cine, name: str = "Cine", scene=None):
    """Add the cine as a volume sequence and a browser playing it.

    Args:
        image: the cine (float or integer array ``[t, k, j, i]``).
        name: base name of the sequence, browser and proxy volume.
        scene: target scene (default: :func:`headless.get_scene`).

    Returns:
        ``(browser_node, sequence_node, proxy_volume_node)``.
    """
    import slicer

    scene = scene or headless.get_scene()
    seq = _new_sequence(scene, f"{name} sequence")
    ijk_to_ras = _vtk_matrix(image.ijk_to_ras)
    for t in range(image.phases):
        vol = slicer.vtkMRMLScalarVolumeNode()
        vol.SetName(f"{name} {t}")
        vol.SetIJKToRASMatrix(ijk_to_ras)
        vol.SetAndObserveImageData(_image_data(image.array[t]))
        seq.SetDataNodeAtValue(vol, _frame_value(image.frame_times_ms[t]))
    browser = scene.AddNewNodeByClass("vtkMRMLSequenceBrowserNode", f"{name} browser")
    browser.SetAndObserveMasterSequenceNodeID(seq.GetID())
    browser.SetSelectedItemNumber(0)
    _update_proxies(browser)
    proxy = browser.GetProxyNode(seq)
    proxy.SetName(name)
    from cardiacmotion.slicerbridge import cineinfo

    cineinfo.remember(seq, image.modality, image.view)  # on the sequence: browsing rewrites the proxy
    return browser, seq, proxy


def _update_proxies(browser) -> None:
    headless.logic("sequences").UpdateProxyNodesFromSequences(browser)


def _oriented_labelmap(labels: np.ndarray, ijk_to_ras: np.ndarray):
    import slicer

    img = slicer.vtkOrientedImageData()
    vol = np.ascontiguousarray(labels.astype(np.uint8))
    img.SetDimensions(vol.shape[2], vol.shape[1], vol.shape[0])
    img.SetImageToWorldMatrix(_vtk_matrix(ijk_to_ras))
    from vtk.util import numpy_support

    img.GetPointData().SetScalars(numpy_support.numpy_to_vtk(vol.reshape(-1), deep=True))
    return img


def _fill_segmentation(seg_node, labels: np.ndarray, ijk_to_ras: np.ndarray, modality: str) -> None:
    """Put one phase's labels into ``seg_node`` as a shared labelmap with named segments."""
    import slicer

    segmentation = seg_node.GetSegmentation()
    if hasattr(segmentation, "SetSourceRepresentationName"):  # Slicer >= 5.4 name
        segmentation.SetSourceRepresentationName(BINARY_LABELMAP)
    else:
        segmentation.SetMasterRepresentationName(BINARY_LABELMAP)
    shared = _oriented_labelmap(labels, ijk_to_ras)
    for spec in segment_specs(modality):
        segment = slicer.vtkSegment()
        segment.SetName(spec.name)
        segment.SetColor(*spec.color)
        segment.SetLabelValue(spec.label)
        segment.SetTerminology(spec.terminology)
        segment.AddRepresentation(BINARY_LABELMAP, shared)
        segmentation.AddSegment(segment, spec.segment_id)


def set_segmentation_labels(seg_node, labels: np.ndarray, ijk_to_ras: np.ndarray, modality: str) -> None:
    """Replace the content of ``seg_node`` (e.g. the proxy at the current phase) with ``labels [k, j, i]``."""
    segmentation = seg_node.GetSegmentation()
    wasModifying = seg_node.StartModify()
    segmentation.RemoveAllSegments()
    _fill_segmentation(seg_node, labels, ijk_to_ras, modality)
    seg_node.EndModify(wasModifying)


def segmentation_sequence_from_cine(labels: Cine, browser, name: str = "Segmentation", scene=None):
    """Add a label cine as a segmentation sequence synchronised in ``browser`` (one item per phase).

    Args:
        labels: integer label cine on the image grid (labels of DESIGN section 3).
        browser: the image's sequence browser (from :func:`volume_sequence_from_cine`).
        name: name of the sequence and of the segmentation proxy node.
        scene: target scene.

    Returns:
        ``(sequence_node, proxy_segmentation_node)``.
    """
    import slicer

    scene = scene or headless.get_scene()
    master = browser.GetMasterSequenceNode()
    if master is not None and master.GetNumberOfDataNodes() != labels.phases:
        raise InputError(f"the segmentation has {labels.phases} phases, the image {master.GetNumberOfDataNodes()}")
    seq = _new_sequence(scene, f"{name} sequence")
    if master is not None:  # the result is indexed like the cine it belongs to
        seq.SetIndexName(master.GetIndexName())
        seq.SetIndexUnit(master.GetIndexUnit())
        seq.SetIndexType(master.GetIndexType())
    for t in range(labels.phases):
        seg_node = slicer.vtkMRMLSegmentationNode()
        seg_node.SetName(f"{name} {t}")
        _fill_segmentation(seg_node, labels.array[t], labels.ijk_to_ras, labels.modality)
        value = master.GetNthIndexValue(t) if master is not None else _frame_value(labels.frame_times_ms[t])
        seq.SetDataNodeAtValue(seg_node, value)
    browser.AddSynchronizedSequenceNode(seq)
    browser.SetSaveChanges(seq, True)  # edits to the proxy go back into the sequence
    _update_proxies(browser)
    proxy = browser.GetProxyNode(seq)
    proxy.SetName(name)
    seq.SetAttribute("CardiacMotion.Modality", labels.modality)
    if proxy.GetDisplayNode() is None:
        proxy.CreateDefaultDisplayNodes()
    from cardiacmotion.slicerbridge.bullseye import keep_out_of_bullseye_view

    keep_out_of_bullseye_view(proxy)
    image_proxy = browser.GetProxyNode(master) if master is not None else None
    if image_proxy is not None:
        proxy.SetReferenceImageGeometryParameterFromVolumeNode(image_proxy)
    return seq, proxy


def store_segmentation_proxy(browser, seg_sequence) -> int:
    """Write the segmentation proxy (as the user edited it) back into the browser's current item.

    Returns:
        the item (phase) number written.
    """
    item = browser.GetSelectedItemNumber()
    proxy = browser.GetProxyNode(seg_sequence)
    headless.logic("sequences").UpdateSequencesFromProxyNodes(browser, proxy)
    return int(item)


def select_phase(browser, phase: int) -> None:
    """Show phase ``phase`` in every synchronised sequence of ``browser``."""
    browser.SetSelectedItemNumber(int(phase))
    _update_proxies(browser)


def cine_from_volume_sequence(seq, modality: str = "MR", view: str = "SAX") -> Cine:
    """Read a volume sequence back into a :class:`Cine` (frame times from the index and its unit).

    Raises:
        cardiacmotion.slicerbridge.cineinfo.FrameTimesUnknown: frame numbers only and nothing to time them by.
    """
    import vtk

    from cardiacmotion.slicerbridge import cineinfo

    arrays = []
    times, _source = cineinfo.frame_times_ms(seq)
    ijk = None
    for t in range(seq.GetNumberOfDataNodes()):
        vol = seq.GetNthDataNode(t)
        m = vtk.vtkMatrix4x4()
        vol.GetIJKToRASMatrix(m)
        ijk = _numpy_matrix(m) if ijk is None else ijk
        if vol.GetImageData().GetNumberOfScalarComponents() > 1:  # colour ultrasound: grey, as the engine sees it
            from cardiacmotion.slicerbridge.slicerio import grey_sequence

            return cine_from_volume_sequence(grey_sequence(seq), modality=modality, view=view)
        arrays.append(_array(vol.GetImageData()))
    if not arrays:
        raise InputError("the volume sequence is empty")
    return Cine(np.stack(arrays), ijk, np.asarray(times), modality=modality, view=view)


def labels_from_segmentation(seg_node, image: Cine, modality: Optional[str] = None) -> np.ndarray:
    """One segmentation node -> uint8 labels ``[k, j, i]`` on ``image``'s grid.

    Segments are recognised by name, terminology or, with Segment Editor's default names, by order
    (:func:`cardiacmotion.slicerbridge.seedsegments.segment_labels`).
    """
    import slicer

    modality = modality or image.modality
    reference = _oriented_labelmap(np.zeros(image.array.shape[1:], np.uint8), image.ijk_to_ras)
    out = np.zeros(image.array.shape[1:], np.uint8)
    segmentation = seg_node.GetSegmentation()
    if segmentation.GetNumberOfSegments() == 0:
        return out
    from cardiacmotion.slicerbridge.seedsegments import segment_labels

    labels_of, _notes = segment_labels(segmentation, modality)
    for seg_id, label in labels_of.items():
        segment = segmentation.GetSegment(seg_id)
        binary = slicer.vtkOrientedImageData()
        slicer.vtkSlicerSegmentationsModuleLogic.GetSegmentBinaryLabelmapRepresentation(seg_node, seg_id, binary, False)
        if binary.IsEmpty():
            continue
        resampled = slicer.vtkOrientedImageData()
        slicer.vtkOrientedImageDataResample.ResampleOrientedImageToReferenceOrientedImage(
            binary, reference, resampled, False, False
        )  # no padding: a segment painted beyond the grid is cut to it, the array keeps the grid's shape
        # a shared labelmap comes back whole: this segment is the voxels carrying its label value
        mask = _array(resampled) == segment.GetLabelValue()
        out[mask] = label
    return out


def labels_from_segmentation_sequence(seg_sequence, image: Cine, modality: Optional[str] = None) -> Cine:
    """The whole segmentation sequence -> uint8 label cine ``[t, k, j, i]`` on the image grid."""
    phases = [
        labels_from_segmentation(seg_sequence.GetNthDataNode(t), image, modality)
        for t in range(seg_sequence.GetNumberOfDataNodes())
    ]
    if len(phases) != image.phases:
        raise InputError(f"the segmentation sequence has {len(phases)} items, the image {image.phases} phases")
    return image.with_array(np.stack(phases))
