"""What the module widgets do, without Qt: inputs from MRML to files, results from files to MRML.

The widgets stay thin: every step they take is one of these functions, and the pytest suites on
slicer-core drive the very same functions (Testing/modules/).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional


import numpy as np

from cardiacmotion.cine import Cine
from cardiacmotion.errors import InputError
from cardiacmotion.slicerbridge import bullseye, headless, landmarks as lm, layout, results, runner, sequences

EDITED = "CardiacMotion.EditedPhases"
RESULT_FILE = "CardiacMotion.ResultFile"


def browser_of(node):
    """The sequence browser whose proxy ``node`` is (None for a plain node)."""
    if node is None:
        return None
    return headless.logic("sequences").GetFirstBrowserNodeForProxyNode(node)


def image_from_volume(volume_node, modality: Optional[str] = None, view: Optional[str] = None):
    """``(Cine, browser or None)`` for the selected input: a sequence proxy (all phases) or one volume."""
    if volume_node is None or volume_node.GetImageData() is None:
        raise InputError("select an input image (a volume sequence or a volume)")
    if modality is None or modality.lower() == "auto":
        modality = volume_node.GetAttribute("CardiacMotion.Modality") or "MR"
    modality = "US" if modality.upper() in ("US", "ECHO") else "MR"
    view = view or volume_node.GetAttribute("CardiacMotion.View") or ("SAX" if modality == "MR" else "A4C")
    browser = browser_of(volume_node)
    if browser is not None:
        seq = browser.GetSequenceNode(volume_node)
        return sequences.cine_from_volume_sequence(seq, modality=modality, view=view), browser
    import vtk

    one_phase = sequences._array(volume_node.GetImageData())[None]
    m = vtk.vtkMatrix4x4()
    volume_node.GetIJKToRASMatrix(m)
    return Cine(one_phase, sequences._numpy_matrix(m), [0.0], modality=modality, view=view), None


def load_cine_file(path: os.PathLike, modality: str = "auto", scene=None):
    """Read a cine with the engine's readers (NIfTI, DICOM, AVI/MP4, MHD, .seq.nrrd) into a volume sequence.

    Returns:
        ``(browser, sequence, proxy volume)``; the proxy is named after the file.
    """
    from cardiacmotion.cine import optional_modality
    from cardiacmotion.io import read_image

    image = read_image(path, modality=optional_modality(modality))
    name = Path(path).name
    for ext in (".nii.gz", ".seq.nrrd", ".nii", ".avi", ".mp4", ".mhd", ".dcm"):
        if name.lower().endswith(ext):
            name = name[: -len(ext)]
            break
    return sequences.volume_sequence_from_cine(image, name=name or "Cine", scene=scene or headless.get_scene())


def seed_from_segmentation(seg_node, image: Cine, phase: int) -> Cine:
    """The seed file content: the current segmentation frame as a one-phase label cine on the image grid."""
    labels = sequences.labels_from_segmentation(seg_node, image)
    if not labels.any():
        raise InputError("the seed segmentation is empty: paint the ED slice first (or use landmarks)")
    seed = image.with_array(labels[None], frame_times_ms=image.frame_times_ms[phase : phase + 1])
    return seed


def mark_edited(seg_sequence, phase: int) -> list:
    """Remember that the user corrected ``phase`` (kept with the scene); returns all edited phases."""
    phases = set(edited_phases(seg_sequence)) | {int(phase)}
    seg_sequence.SetAttribute(EDITED, ",".join(str(p) for p in sorted(phases)))
    return sorted(phases)


def edited_phases(seg_sequence, image: Optional[Cine] = None) -> list:
    """The phases the user corrected since the last propagation.

    Those marked with :func:`mark_edited`, plus (given the image) every phase whose labels now differ from
    the engine's last result: found by content, so browsing the phases never counts as an edit.
    """
    if seg_sequence is None:
        return []
    value = seg_sequence.GetAttribute(EDITED)
    phases = {int(v) for v in value.split(",") if v.strip()} if value else set()
    result = seg_sequence.GetAttribute(RESULT_FILE)
    if image is not None and result and Path(result).is_file():
        from cardiacmotion.io import read_labels

        engine = read_labels(result, modality=image.modality).array
        now = sequences.labels_from_segmentation_sequence(seg_sequence, image).array
        if engine.shape == now.shape:
            phases |= {int(t) for t in range(now.shape[0]) if not np.array_equal(now[t], engine[t])}
    return sorted(phases)


def prepare_segmentation(workdir: os.PathLike, volume_node, seed_source: str = "segmentation", seed_node=None,
                         landmarks_node=None, seg_sequence=None, modality: str = "auto", method: str = "auto",
                         device: str = "auto", python: Optional[str] = None) -> dict:
    """Write the inputs and build the ``cardiacmotion segment`` command for the current widget state.

    ``seed_source``: ``'segmentation'`` (current frame of ``seed_node``), ``'landmarks'`` (the three placed
    points of ``landmarks_node``) or ``'edits'`` (re-propagate: the corrected phases of ``seg_sequence`` as a
    4D seed, each a permanent memory).

    Returns:
        ``{'command', 'output', 'image', 'browser', 'paths'}``.
    """
    image, browser = image_from_volume(volume_node, None if modality == "auto" else modality)
    phase = browser.GetSelectedItemNumber() if browser is not None else 0
    seed = points = None
    seed_phase = None
    if seed_source == "segmentation":
        if seed_node is None:
            raise InputError("select the seed segmentation (or seed from landmarks)")
        seed, seed_phase = seed_from_segmentation(seed_node, image, phase), phase
    elif seed_source == "landmarks":
        points = lm.landmarks_from_node(landmarks_node) if landmarks_node is not None else {}
        missing = [n for n in lm.landmark_names(image.modality) if n not in points]
        if missing:
            raise InputError(f"place the landmark(s) first: {', '.join(missing)}")
    elif seed_source == "edits":
        if seg_sequence is None:
            raise InputError("no segmentation to re-propagate from: run the segmentation first")
        phases = edited_phases(seg_sequence, image)
        labels = sequences.labels_from_segmentation_sequence(seg_sequence, image).array
        seed = image.with_array(runner.edited_seed(labels, phases))
    else:
        raise InputError(f"unknown seed source {seed_source!r}")
    paths = runner.write_inputs(workdir, image, seed, points)
    output = str(Path(workdir) / "segmentation.nii.gz")
    command = runner.segment_command(paths["image"], output, seed=paths.get("seed"), seed_phase=seed_phase,
                                     landmarks=paths.get("landmarks"), modality=modality, method=method,
                                     device=device, python=python)
    return {"command": command, "output": output, "image": image, "browser": browser, "paths": paths}


def load_segmentation_result(path: os.PathLike, image: Cine, browser, seg_sequence=None, name: str = "Segmentation"):
    """Load the engine's SEG file into the image's browser (replacing the items of ``seg_sequence`` if given).

    Returns:
        ``(seg_sequence, seg_proxy)``.
    """
    from cardiacmotion.io import read_labels

    labels = read_labels(path, modality=image.modality)
    if labels.array.shape != image.array.shape:
        raise InputError(f"the result has shape {labels.array.shape}, the image {image.array.shape}")
    labels = image.with_array(labels.array)
    if browser is None:
        raise InputError("the input is not a sequence: load the cine as a sequence first")
    if seg_sequence is not None:
        for t in range(image.phases):
            item = seg_sequence.GetNthDataNode(t)
            sequences.set_segmentation_labels(item, labels.array[t], image.ijk_to_ras, image.modality)
        seg_sequence.SetAttribute(EDITED, "")
        seg_sequence.SetAttribute(RESULT_FILE, str(path))
        sequences.select_phase(browser, browser.GetSelectedItemNumber())
        return seg_sequence, browser.GetProxyNode(seg_sequence)
    seg_sequence, proxy = sequences.segmentation_sequence_from_cine(labels, browser, name=name)
    seg_sequence.SetAttribute(RESULT_FILE, str(path))  # what the engine gave: edits are found against it
    return seg_sequence, proxy


def replace_role(scene, role: str, node):
    """Tag ``node`` with ``role`` after removing the node (and its plot series) that held it before.

    A new run replaces its results instead of piling up copies in the scene.
    """
    from cardiacmotion.slicerbridge.scene import ROLE, find_role

    old = find_role(scene, role)
    while old is not None and old is not node:
        if old.IsA("vtkMRMLPlotChartNode"):
            for series in [old.GetNthPlotSeriesNode(n) for n in range(old.GetNumberOfPlotSeriesNodes())]:
                scene.RemoveNode(series)
        if old.IsA("vtkMRMLModelNode") and old.GetAttribute("CardiacMotion.Outline"):
            outline = scene.GetNodeByID(old.GetAttribute("CardiacMotion.Outline"))
            if outline is not None:
                scene.RemoveNode(outline)
        old.SetAttribute(ROLE, "")
        scene.RemoveNode(old)
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
    """SCORES.json -> per-segment table and bullseye model (with MSI), shown in the CardiacMotion layout."""
    scores = _read_json(path)
    if len(scores.get("segments", [])) != 16:
        raise InputError(f"{path}: expected 16 AHA segments")
    scene = scene or headless.get_scene()
    table = replace_role(scene, "scores table", results.scores_table(scores, scene=scene))
    model, colors, legend = bullseye.bullseye_model(scores, scene=scene)
    replace_role(scene, "bullseye", model)
    layout.show_results(table=table, scene=scene)
    return {"scores": scores, "table": table, "model": model, "msi": scores.get("motion_score_index")}


def prepare_scoring(workdir: os.PathLike, volume_node, seg_sequence, landmarks_node, method: str = "auto",
                    device: str = "auto", python: Optional[str] = None) -> dict:
    """Write image, 4D segmentation and landmarks; build the ``cardiacmotion score`` command."""
    image, browser = image_from_volume(volume_node)
    if seg_sequence is None:
        raise InputError("select the segmentation sequence (run Cardiac Motion Segmentation first)")
    labels = sequences.labels_from_segmentation_sequence(seg_sequence, image)
    points = lm.landmarks_from_node(landmarks_node) if landmarks_node is not None else {}
    missing = [n for n in lm.landmark_names(image.modality) if n not in points]
    if missing:
        raise InputError(f"place the landmark(s) first: {', '.join(missing)}")
    paths = runner.write_inputs(workdir, image, labels, points)
    output = str(Path(workdir) / "scores.json")
    command = runner.score_command(paths["image"], paths["seed"], paths["landmarks"], output, method=method,
                                   device=device, python=python)
    return {"command": command, "output": output, "image": image, "paths": paths}


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
