"""What the module widgets do, without Qt: inputs from MRML to files, results from files to MRML.

The widgets stay thin: every step they take is one of these functions, and the pytest suites on
slicer-core drive the very same functions (Testing/modules/). The files the engine reads and writes go
through Slicer's own storage nodes (:mod:`cardiacmotion.slicerbridge.slicerio`): the GUI process needs no
pip package; only the background engine process needs torch and the engine's dependencies.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from cardiacmotion.cine import Cine
from cardiacmotion.errors import InputError
from cardiacmotion.slicerbridge import (bullseye, cineinfo, headless, hierarchy, landmarks as lm, layout, results,
                                        runner, sequences, slicerio)
from cardiacmotion.slicerbridge.scene import ROLE, find_role

EDITED = "CardiacMotion.EditedPhases"
#: per-phase digests of the labels the engine returned: a phase whose labels differ now was corrected.
RESULT_DIGESTS = "CardiacMotion.ResultDigests"
CINE = "CardiacMotion.CineSequence"
RESULT_ROLE = "segmentation"


def browser_of(node):
    """The sequence browser whose proxy ``node`` is (None for a plain node)."""
    if node is None:
        return None
    return headless.logic("sequences").GetFirstBrowserNodeForProxyNode(node)


@dataclass
class CineInput:
    """The selected cine as the engine needs it: its browser and sequence, an image-grid cine (no voxels
    copied), modality, view, frame times in ms and where they came from."""

    browser: object
    sequence: object
    grid: Cine
    modality: str
    view: str
    frame_times_ms: np.ndarray
    frame_time_source: str


def cine_input(volume_node, modality: Optional[str] = None, view: Optional[str] = None,
               need_times: bool = True) -> CineInput:
    """Check the selected volume is a cine (a proxy of a volume sequence) and describe it.

    ``need_times=False``: only the grid is wanted (seeds, corrections): frame numbers stand in for the times.

    Raises:
        InputError: nothing selected, or a plain volume (refused before any engine run).
        cineinfo.FrameTimesUnknown: frame numbers only: ask the user for the RR interval / frame rate.
    """
    if volume_node is None or volume_node.GetImageData() is None:
        raise InputError("select the cine (a volume sequence)")
    browser, seq = cineinfo.sequence_of(volume_node)
    if seq is None:
        raise InputError(f"'{volume_node.GetName()}' is a single volume, not a cine: load the cine through the "
                         "DICOM module or as a 4D sequence (or with 'Load cine file...')")
    m = cineinfo.modality_of(seq, modality, volume_node)
    v = cineinfo.view_of(seq, m, view)
    if need_times:
        times, source = cineinfo.frame_times_ms(seq)
    else:
        times, source = np.arange(seq.GetNumberOfDataNodes(), dtype=np.float64), "frame numbers (not used)"
    import vtk

    first = seq.GetNthDataNode(0)
    matrix = vtk.vtkMatrix4x4()
    first.GetIJKToRASMatrix(matrix)
    dims = first.GetImageData().GetDimensions()  # colour frames (DICOM ultrasound) are written grey
    shape = (seq.GetNumberOfDataNodes(), dims[2], dims[1], dims[0])
    grid = Cine(np.broadcast_to(np.zeros((), np.uint8), shape), sequences._numpy_matrix(matrix), times,
                modality=m, view=v)
    return CineInput(browser, seq, grid, m, v, times, source)


def image_from_volume(volume_node, modality: Optional[str] = None, view: Optional[str] = None):
    """``(Cine with all voxels, browser)`` of a cine proxy (tests and the self-tests compare voxels with it)."""
    info = cine_input(volume_node, modality, view)
    cine = sequences.cine_from_volume_sequence(info.sequence, modality=info.modality, view=info.view)
    return cine, info.browser


# -- loading a cine -----------------------------------------------------------------------------------------
#: what Slicer's volume sequence storage node reads by itself (4D NIfTI included, time unit from the header).
SLICER_READABLE = (".seq.nrrd", ".seq.nhdr", ".nrrd", ".nhdr", ".nii", ".nii.gz")
VIDEO = (".avi", ".mp4", ".mov", ".m4v")


def needs_engine_to_read(path: os.PathLike) -> bool:
    """True for formats Slicer cannot read as a cine by itself (a DICOM file, AVI/MP4, MHD)."""
    return not str(path).lower().endswith(SLICER_READABLE)


def needs_pixel_spacing(path: os.PathLike) -> bool:
    """A video carries no pixel size: the user gives it (mm)."""
    return str(path).lower().endswith(VIDEO)


def conversion_command(path: os.PathLike, output: os.PathLike, modality: str = "auto",
                       spacing: Optional[float] = None, python: Optional[str] = None) -> list:
    """The background command that reads a cine with the engine's readers and writes it as ``.seq.nrrd``."""
    cmd = [python or runner.python_executable(), "-m", "cardiacmotion.slicerbridge.convert", str(path),
           str(output), "--modality", modality]
    return cmd + (["--spacing", repr(float(spacing))] if spacing else [])


def _nrrd_fields(path: Path) -> dict:
    with open(path, "rb") as f:
        header = f.read(65536).split(b"\n\n", 1)[0].decode("latin-1")
    return dict(line.split(":=", 1) for line in header.split("\n") if ":=" in line)


def read_cine_sequence(path: os.PathLike, name: Optional[str] = None, modality: str = "auto", scene=None):
    """Read a ``.seq.nrrd`` into a volume sequence with Slicer's sequence storage node, plus a browser.

    Returns:
        ``(browser, sequence, proxy volume)``; modality/view from the file header are kept on the sequence.
    """
    import slicer

    path = Path(path)
    if not path.is_file():
        raise InputError(f"no such file: {path}")
    scene = scene or headless.get_scene()
    base = name or path.name.split(".")[0] or "Cine"
    seq = scene.AddNewNodeByClass("vtkMRMLSequenceNode", f"{base} sequence")
    storage = slicer.vtkMRMLVolumeSequenceStorageNode()  # not kept: saving the scene writes a copy of its own
    storage.SetScene(scene)
    storage.SetFileName(str(path))
    if not storage.ReadData(seq) or seq.GetNumberOfDataNodes() == 0:
        scene.RemoveNode(seq)
        raise InputError(f"Slicer could not read {path} as a volume sequence")
    fields = _nrrd_fields(path)
    if "cardiacmotion modality" in fields and not seq.GetIndexUnit():
        seq.SetIndexName("time")  # written by the engine: its index values are frame times in ms
        seq.SetIndexUnit("ms")
    cineinfo.remember(seq, cineinfo.normal_modality(modality) or fields.get("cardiacmotion modality"),
                      fields.get("cardiacmotion view") or None)
    browser = scene.AddNewNodeByClass("vtkMRMLSequenceBrowserNode", f"{base} browser")
    browser.SetAndObserveMasterSequenceNodeID(seq.GetID())
    browser.SetSelectedItemNumber(0)
    headless.logic("sequences").UpdateProxyNodesFromSequences(browser)
    proxy = browser.GetProxyNode(seq)
    proxy.SetName(base)
    return browser, seq, proxy


def load_cine_file(path: os.PathLike, modality: str = "auto", scene=None, workdir: Optional[os.PathLike] = None,
                   spacing: Optional[float] = None):
    """Load any cine file as a volume sequence: ``.seq.nrrd`` and 4D NIfTI through Slicer itself; other formats
    (a DICOM file, AVI/MP4 with ``spacing`` in mm, MHD) are converted by the engine in a background process
    first (waited for here; the widget polls it instead).

    Returns:
        ``(browser, sequence, proxy volume)``; the proxy is named after the file.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"no such file or folder: {path}")
    name = cine_name(path)
    if not needs_engine_to_read(path):
        return read_cine_sequence(path, name, modality, scene)
    import tempfile

    from cardiacmotion.slicerbridge.jobs import remove_workdir

    folder = Path(workdir or tempfile.mkdtemp(prefix="CardiacMotion-"))
    output = folder / f"{name}.seq.nrrd"
    try:
        job = runner.BackgroundJob(conversion_command(path, output, modality, spacing)).start()
        if job.wait() != 0:
            raise InputError(job.error_message())
        return read_cine_sequence(output, name, modality, scene)  # read into memory: the file may go
    finally:
        if workdir is None:
            remove_workdir(str(folder))


def cine_name(path: os.PathLike) -> str:
    name = Path(path).name
    for ext in (".nii.gz", ".seq.nrrd", ".seq.nhdr", ".nii", ".nrrd", ".avi", ".mp4", ".mov", ".m4v", ".mhd",
                ".mha", ".dcm"):
        if name.lower().endswith(ext):
            return name[: -len(ext)] or "Cine"
    return name or "Cine"


# -- corrections --------------------------------------------------------------------------------------------
def _digest(phase_labels: np.ndarray) -> str:
    return hashlib.sha1(np.ascontiguousarray(phase_labels, dtype=np.uint8).tobytes()).hexdigest()[:16]


def record_result(seg_sequence, labels: np.ndarray) -> None:
    """Remember what the engine returned (a digest per phase, saved with the scene) and clear the marks."""
    seg_sequence.SetAttribute(RESULT_DIGESTS, ",".join(_digest(p) for p in labels))
    seg_sequence.SetAttribute(EDITED, "")


def mark_edited(seg_sequence, phase: int) -> list:
    """Remember that the user corrected ``phase`` (kept with the scene); returns all edited phases."""
    phases = set(edited_phases(seg_sequence)) | {int(phase)}
    seg_sequence.SetAttribute(EDITED, ",".join(str(p) for p in sorted(phases)))
    return sorted(phases)


def edited_phases(seg_sequence, image: Optional[Cine] = None) -> list:
    """The phases the user corrected since the last propagation.

    Those marked with :func:`mark_edited`, plus (given the image grid) every phase whose labels now differ
    from what the engine returned: found by content, so browsing the phases never counts as an edit.
    """
    if seg_sequence is None:
        return []
    value = seg_sequence.GetAttribute(EDITED)
    phases = {int(v) for v in value.split(",") if v.strip()} if value else set()
    digests = (seg_sequence.GetAttribute(RESULT_DIGESTS) or "").split(",")
    if image is not None and len(digests) == seg_sequence.GetNumberOfDataNodes():
        now = sequences.labels_from_segmentation_sequence(seg_sequence, image).array
        phases |= {t for t in range(now.shape[0]) if _digest(now[t]) != digests[t]}
    return sorted(phases)


def corrected_phases_for(result_proxy, volume_node) -> list:
    """The corrected phases of the result shown for ``volume_node`` (what Re-propagate will start from)."""
    browser = browser_of(result_proxy)
    if browser is None or volume_node is None:
        return []
    return edited_phases(browser.GetSequenceNode(result_proxy), cine_input(volume_node, need_times=False).grid)


# -- running the engine -------------------------------------------------------------------------------------
def prepare_segmentation(workdir: os.PathLike, volume_node, seed_source: str = "segmentation", seed_node=None,
                         landmarks_node=None, seg_sequence=None, modality: str = "auto", view: Optional[str] = None,
                         method: str = "auto", device: str = "auto", python: Optional[str] = None) -> dict:
    """Write the inputs (Slicer's storage nodes) and build the ``cardiacmotion segment`` command.

    ``seed_source``: ``'segmentation'`` (current frame of ``seed_node``), ``'landmarks'`` (the three placed
    points of ``landmarks_node``, on the current frame) or ``'edits'`` (re-propagate: the corrected phases of
    ``seg_sequence`` as a 4D seed, each a permanent memory).

    Returns:
        ``{'command', 'output', 'workdir', 'image' (grid cine), 'browser', 'paths', 'modality', 'view',
        'frame_time_source', 'notes'}``.
    """
    info = cine_input(volume_node, modality, view)
    phase = info.browser.GetSelectedItemNumber()
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    paths, notes, seed_phase = {}, "", None
    if seed_source == "segmentation":
        if seed_node is None:
            raise InputError("select the seed segmentation (or seed from landmarks)")
        from cardiacmotion.slicerbridge.seedsegments import segment_labels

        _labels_of, notes = segment_labels(seed_node.GetSegmentation(), info.modality)
        labels = sequences.labels_from_segmentation(seed_node, info.grid)
        if not labels.any():
            raise InputError("the seed segmentation is empty on this frame: paint it first (or use landmarks)")
        paths["seed"] = slicerio.write_seed_segmentation(labels, info.grid.ijk_to_ras, info.modality,
                                                         workdir / "seed.seg.nrrd")
        seed_phase = phase
    elif seed_source == "landmarks":
        points = lm.landmarks_from_node(landmarks_node) if landmarks_node is not None else {}
        missing = [n for n in lm.landmark_names(info.modality) if n not in points]
        if missing:
            raise InputError(f"place the landmark(s) first: {', '.join(missing)}")
        paths["landmarks"] = slicerio.write_landmarks(points, workdir / "landmarks.mrk.json")
        seed_phase = phase  # the points were placed on the frame shown
    elif seed_source == "edits":
        if seg_sequence is None:
            raise InputError("no segmentation to re-propagate from: run the segmentation first")
        phases = edited_phases(seg_sequence, info.grid)
        labels = sequences.labels_from_segmentation_sequence(seg_sequence, info.grid).array
        paths["seed"] = slicerio.write_label_sequence(runner.edited_seed(labels, phases), info.grid.ijk_to_ras,
                                                      workdir / "seed.seq.nrrd", info.frame_times_ms, info.modality)
    else:
        raise InputError(f"unknown seed source {seed_source!r}")
    paths["image"] = slicerio.write_volume_sequence(info.sequence, workdir / "image.seq.nrrd", info.frame_times_ms,
                                                    info.modality, info.view)
    output = str(workdir / "segmentation.seq.nrrd")
    engine_modality = "echo" if info.modality == "US" else "mr"
    command = runner.segment_command(paths["image"], output, seed=paths.get("seed"), seed_phase=seed_phase,
                                     landmarks=paths.get("landmarks"), modality=engine_modality, method=method,
                                     device=device, python=python)
    return {"command": command, "output": output, "workdir": str(workdir), "image": info.grid,
            "browser": info.browser, "paths": paths, "modality": info.modality, "view": info.view,
            "frame_time_source": info.frame_time_source, "notes": notes}


def load_segmentation_result(path: os.PathLike, image: Cine, browser, seg_sequence=None, name: str = "Segmentation",
                             input_volume=None):
    """Load the engine's label-map sequence into the image's browser (replacing ``seg_sequence``'s items if given).

    Returns:
        ``(seg_sequence, seg_proxy)``; the proxy is tagged as the last result and placed beside the input.
    """
    if browser is None:
        raise InputError("the input is not a sequence: load the cine as a sequence first")
    if str(path).lower().endswith(".seq.nrrd"):
        array, _ijk = slicerio.read_label_sequence(path)
    else:  # outside Slicer the engine's own readers may read other formats
        from cardiacmotion.io import read_labels

        array = read_labels(path, modality=image.modality).array
    if array.shape != image.array.shape:
        raise InputError(f"the result has shape {array.shape}, the image {image.array.shape}")
    labels = image.with_array(array)
    if seg_sequence is not None:
        for t in range(image.phases):
            item = seg_sequence.GetNthDataNode(t)
            sequences.set_segmentation_labels(item, labels.array[t], image.ijk_to_ras, image.modality)
        sequences.select_phase(browser, browser.GetSelectedItemNumber())
        proxy = browser.GetProxyNode(seg_sequence)
    else:
        seg_sequence, proxy = sequences.segmentation_sequence_from_cine(labels, browser, name=name)
    record_result(seg_sequence, labels.array)  # edits are found against what the engine gave
    master = browser.GetMasterSequenceNode()
    if master is not None:
        seg_sequence.SetAttribute(CINE, master.GetID())
    _set_role(proxy.GetScene(), RESULT_ROLE, proxy)
    hierarchy.place_next_to(proxy, input_volume or (browser.GetProxyNode(master) if master is not None else None))
    return seg_sequence, proxy


def _set_role(scene, role: str, node) -> None:
    """Tag ``node`` with ``role``, taking the tag off any other node (roles are unique in a scene)."""
    old = find_role(scene, role)
    while old is not None and old is not node:
        old.SetAttribute(ROLE, "")
        old = find_role(scene, role)
    node.SetAttribute(ROLE, role)


def _remove_with_dependents(scene, node) -> None:
    """Remove a node with its display/storage nodes and the helper nodes it names in attributes."""
    if node is None or node.GetScene() is None:
        return
    for attr in ("CardiacMotion.Outline", "CardiacMotion.SegmentNumbers"):
        helper = scene.GetNodeByID(node.GetAttribute(attr)) if node.GetAttribute(attr) else None
        if helper is not None and helper is not node:
            _remove_with_dependents(scene, helper)
    if node.IsA("vtkMRMLPlotChartNode"):
        for series in [node.GetNthPlotSeriesNode(n) for n in range(node.GetNumberOfPlotSeriesNodes())]:
            if series is not None:
                scene.RemoveNode(series)
    dependents = []
    if node.IsA("vtkMRMLDisplayableNode"):
        dependents += [node.GetNthDisplayNode(n) for n in range(node.GetNumberOfDisplayNodes())]
    if node.IsA("vtkMRMLStorableNode"):
        dependents += [node.GetNthStorageNode(n) for n in range(node.GetNumberOfStorageNodes())]
    node.SetAttribute(ROLE, "")
    scene.RemoveNode(node)
    for dependent in dependents:
        if dependent is not None and dependent.GetScene() is not None:
            scene.RemoveNode(dependent)


def replace_role(scene, role: str, node):
    """Tag ``node`` with ``role`` after removing the node that held it before, with everything it brought
    (display and storage nodes, plot series, outline, segment numbers): a new run replaces its results
    instead of piling up copies in the scene."""
    old = find_role(scene, role)
    while old is not None and old is not node:
        _remove_with_dependents(scene, old)
        old = find_role(scene, role)
    node.SetAttribute(ROLE, role)
    return node


def load_function_result(path: os.PathLike, scene=None) -> dict:
    """FUNCTION.json -> function table, volume-curve table and chart, shown in the CardiacMotion layout."""
    function = _read_json(path)
    scene = scene or headless.get_scene()
    table = replace_role(scene, "function table", results.function_table(function, scene=scene))
    curves = replace_role(scene, "volume curve table", results.volume_curve_table(function, scene=scene))
    chart = replace_role(scene, "volume chart", results.volume_chart(curves, function, scene=scene))
    layout.show_results(chart=chart, table=table, scene=scene)
    return {"function": function, "table": table, "curves": curves, "chart": chart}


def load_scores_result(path: os.PathLike, scene=None) -> dict:
    """SCORES.json -> per-segment table and bullseye model (with MSI), shown in the CardiacMotion layout.

    A second run replaces the first one's nodes (model, outline, numbers, legend, table); the colour table
    is shared.
    """
    scores = _read_json(path)
    if len(scores.get("segments", [])) != 16:
        raise InputError(f"{path}: expected 16 AHA segments")
    scene = scene or headless.get_scene()
    table = replace_role(scene, "scores table", results.scores_table(scores, scene=scene))
    old = find_role(scene, "bullseye")
    if old is not None:
        _remove_with_dependents(scene, old)
    model, colors, legend = bullseye.bullseye_model(scores, scene=scene)
    replace_role(scene, "bullseye", model)
    layout.show_results(table=table, scene=scene)
    return {"scores": scores, "table": table, "model": model, "msi": scores.get("motion_score_index")}


def prepare_scoring(workdir: os.PathLike, volume_node, seg_sequence, landmarks_node, method: str = "auto",
                    device: str = "auto", python: Optional[str] = None) -> dict:
    """Write image, 4D segmentation and landmarks (Slicer's storage nodes); build the ``cardiacmotion score``
    command."""
    info = cine_input(volume_node)
    if seg_sequence is None:
        raise InputError("select the segmentation result (run Cardiac Motion Segmentation first)")
    if info.modality != "MR":
        raise InputError("wall-motion scoring works on short-axis cine MR")
    labels = sequences.labels_from_segmentation_sequence(seg_sequence, info.grid)
    points = lm.landmarks_from_node(landmarks_node) if landmarks_node is not None else {}
    missing = [n for n in lm.landmark_names(info.modality) if n not in points]
    if missing:
        raise InputError(f"place the landmark(s) first: {', '.join(missing)}")
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    paths = {
        "image": slicerio.write_volume_sequence(info.sequence, workdir / "image.seq.nrrd", info.frame_times_ms,
                                                info.modality, info.view),
        "seed": slicerio.write_label_sequence(labels.array, info.grid.ijk_to_ras, workdir / "segmentation.seq.nrrd",
                                              info.frame_times_ms, info.modality),
        "landmarks": slicerio.write_landmarks(points, workdir / "landmarks.mrk.json"),
    }
    output = str(workdir / "scores.json")
    command = runner.score_command(paths["image"], paths["seed"], paths["landmarks"], output, method=method,
                                   device=device, python=python)
    return {"command": command, "output": output, "workdir": str(workdir), "image": info.grid, "paths": paths}


def function_command_for(seg_context: dict, python: Optional[str] = None) -> tuple:
    """``(command, context)`` of the volume-curve run that follows a segmentation run (same work folder)."""
    output = str(Path(seg_context["workdir"]) / "function.json")
    command = runner.function_command(seg_context["output"], output, seg_context["paths"]["image"], python=python)
    return command, {"kind": "function", "output": output, "workdir": seg_context["workdir"]}


# -- landmarks and defaults ---------------------------------------------------------------------------------
def landmarks_for_cine(volume_node, modality: str = "auto", scene=None):
    """The cine's landmarks node, created once per cine with the names of its modality (``auto``: the
    modality the cine was detected as). Returns ``(node, created)``."""
    scene = scene or headless.get_scene()
    browser, seq = cineinfo.sequence_of(volume_node)
    if seq is None:
        raise InputError("select the cine (a volume sequence) first")
    m = cineinfo.modality_of(seq, modality, volume_node)
    nodes = scene.GetNodesByClass("vtkMRMLMarkupsFiducialNode")
    for n in range(nodes.GetNumberOfItems()):
        node = nodes.GetItemAsObject(n)
        if node.GetAttribute(CINE) == seq.GetID() and node.GetAttribute("CardiacMotion.Modality") == m:
            return node, False
    node = lm.create_landmarks_node(m, name=f"{volume_node.GetName()} landmarks", scene=scene)
    node.SetAttribute(CINE, seq.GetID())
    hierarchy.place_next_to(node, volume_node)
    return node, True


def scoring_defaults(scene=None) -> dict:
    """What the Scoring module starts with: the Segmentation module's last result, its cine and landmarks."""
    scene = scene or headless.get_scene()
    result = find_role(scene, RESULT_ROLE)
    out = {"segmentation": result, "inputVolume": None, "landmarks": None}
    browser = browser_of(result)
    if browser is None:
        return out
    master = browser.GetMasterSequenceNode()
    out["inputVolume"] = browser.GetProxyNode(master) if master is not None else None
    nodes = scene.GetNodesByClass("vtkMRMLMarkupsFiducialNode")
    for n in range(nodes.GetNumberOfItems()):
        node = nodes.GetItemAsObject(n)
        if master is not None and node.GetAttribute(CINE) == master.GetID():
            out["landmarks"] = node
            break
    return out


def phase_for_plot_point(browser, point_index: int) -> int:
    """Select the phase of a clicked volume-curve point in the browser; returns the phase."""
    n = browser.GetNumberOfItems()
    phase = results.phase_of_point(point_index, n)
    sequences.select_phase(browser, phase)
    return phase


def _read_json(path: os.PathLike) -> dict:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read the engine's result {path}: {exc}") from exc
