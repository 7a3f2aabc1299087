"""The whole analysis as one Slicer scene (``scene.mrb``): what ``cardiacmotion analyze`` writes.

:func:`build_analysis_scene` puts every result into a scene (the modules call it in Slicer too);
:func:`write_analysis_scene` does it in a fresh headless scene and writes the ``.mrb`` atomically;
:func:`read_analysis_scene` loads a ``.mrb`` into a fresh headless scene and finds the parts again.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional, Union

import numpy as np

from cardiacmotion.cine import Cine
from cardiacmotion.errors import InputError
from cardiacmotion.slicerbridge import bullseye, headless, landmarks as lm, layout, results, sequences

ROLE = "CardiacMotion.Role"


@dataclass
class AnalysisNodes:
    """The MRML nodes of one analysis (None where that result was not given)."""

    browser: object = None
    image_sequence: object = None
    image: object = None
    seg_sequence: object = None
    segmentation: object = None
    landmarks: object = None
    function_table: object = None
    curve_table: object = None
    chart: object = None
    scores_table: object = None
    bullseye: object = None
    extras: dict = field(default_factory=dict)


def _tag(node, role: str):
    if node is not None:
        node.SetAttribute(ROLE, role)
    return node


def build_analysis_scene(
    image: Cine,
    seg: Optional[Cine] = None,
    landmarks: Optional[Mapping[str, np.ndarray]] = None,
    function: Optional[Mapping] = None,
    scores: Optional[Mapping] = None,
    scene=None,
    name: str = "Cine",
) -> AnalysisNodes:
    """Put the image, segmentation, landmarks and results into ``scene`` (default: the current scene).

    Args:
        image: the cine.
        seg: label cine on the image grid (same phases) or None.
        landmarks: ``{name: RAS}``; missing names are created unplaced. None: all three unplaced.
        function: FUNCTION.json dict or None.
        scores: SCORES.json dict or None.
        scene: target scene.
        name: base name of the image nodes.

    Returns:
        the created nodes; each carries a ``CardiacMotion.Role`` attribute so readers find it.
    """
    scene = scene or headless.get_scene()
    if seg is not None and (seg.phases != image.phases or not image.same_grid(seg)):
        raise InputError("the segmentation is not on the image grid (shape, phases or geometry differ)")
    out = AnalysisNodes()
    out.browser, out.image_sequence, out.image = sequences.volume_sequence_from_cine(image, name=name, scene=scene)
    for node, role in ((out.browser, "browser"), (out.image_sequence, "image sequence"), (out.image, "image")):
        _tag(node, role)
    if seg is not None:
        seg_with_modality = seg.with_array(seg.array, modality=image.modality)
        out.seg_sequence, out.segmentation = sequences.segmentation_sequence_from_cine(
            seg_with_modality, out.browser, name="Segmentation", scene=scene
        )
        _tag(out.seg_sequence, "segmentation sequence")
        _tag(out.segmentation, "segmentation")
    out.landmarks = _tag(lm.create_landmarks_node(image.modality, landmarks, scene=scene), "landmarks")
    if function is not None:
        out.function_table = _tag(results.function_table(function, scene=scene), "function table")
        if function.get("lv_volume_ml") is not None:
            out.curve_table = _tag(results.volume_curve_table(function, scene=scene), "volume curve table")
            out.chart = _tag(results.volume_chart(out.curve_table, function, scene=scene), "volume chart")
        if function.get("ed_phase") is not None:
            sequences.select_phase(out.browser, int(function["ed_phase"]))
    if scores is not None:
        out.scores_table = _tag(results.scores_table(scores, scene=scene), "scores table")
        model, colors, legend = bullseye.bullseye_model(scores, scene=scene)
        out.bullseye = _tag(model, "bullseye")
        out.extras.update(bullseye_colors=colors, bullseye_legend=legend)
    layout.show_results(chart=out.chart, table=out.scores_table or out.function_table, scene=scene)
    return out


def write_analysis_scene(
    path_mrb: Union[str, os.PathLike],
    image: Cine,
    seg: Optional[Cine] = None,
    landmarks: Optional[Mapping[str, np.ndarray]] = None,
    function: Optional[Mapping] = None,
    scores: Optional[Mapping] = None,
) -> None:
    """Write the analysis as one Slicer scene bundle (``.mrb``), atomically, through slicer-core.

    Builds a fresh headless scene (outside Slicer) so nothing else leaks into the file.
    """
    import shutil
    import tempfile

    path = Path(path_mrb)
    if path.suffix.lower() != ".mrb":
        raise InputError(f"a Slicer scene bundle must end in .mrb: {path}")
    if headless.in_slicer_application():
        # never clear the user's scene: in Slicer, build_analysis_scene + File / Save does this
        raise InputError("write_analysis_scene runs outside the Slicer application (cardiacmotion analyze)")
    scene = headless.get_scene(fresh=True)
    build_analysis_scene(image, seg, landmarks, function, scores, scene=scene)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"output folder does not exist: {parent}")
    # Slicer names the bundle's inner folder after the file, so write a plainly named file in a
    # private folder beside the target and rename it into place only when it is complete.
    work = Path(tempfile.mkdtemp(prefix=f".{path.stem}.", dir=parent))
    try:
        tmp = work / path.name
        scene.SetRootDirectory(str(work))
        scene.SetURL(str(work / (path.stem + ".mrml")))
        if not scene.WriteToMRB(str(tmp)) or not tmp.is_file():
            raise RuntimeError(f"Slicer could not write the scene bundle {path}")
        os.replace(tmp, path)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def find_role(scene, role: str):
    """The first node of ``scene`` whose ``CardiacMotion.Role`` attribute is ``role`` (or None)."""
    for n in range(scene.GetNumberOfNodes()):
        node = scene.GetNthNode(n)
        if node.GetAttribute(ROLE) == role:
            return node
    return None


def read_analysis_scene(path_mrb: Union[str, os.PathLike]) -> AnalysisNodes:
    """Load a ``scene.mrb`` into a fresh headless scene and return its CardiacMotion nodes."""
    path = Path(path_mrb)
    if not path.is_file():
        raise InputError(f"no such scene bundle: {path}")
    scene = headless.get_scene(fresh=True)
    if not scene.ReadFromMRB(str(path)):
        raise InputError(f"{path} is not a readable Slicer scene bundle")
    return find_analysis_nodes(scene)


def find_analysis_nodes(scene) -> AnalysisNodes:
    """The CardiacMotion nodes of a loaded scene (by their role attributes and the browser's proxies)."""
    out = AnalysisNodes()
    for attr, role in (
        ("browser", "browser"), ("image_sequence", "image sequence"), ("image", "image"),
        ("seg_sequence", "segmentation sequence"), ("segmentation", "segmentation"), ("landmarks", "landmarks"),
        ("function_table", "function table"), ("curve_table", "volume curve table"), ("chart", "volume chart"),
        ("scores_table", "scores table"), ("bullseye", "bullseye"),
    ):
        setattr(out, attr, find_role(scene, role))
    # the arrangement id is saved with the scene, the layout description is not: the modules register it
    # at Slicer start-up, and so does this reader
    layout.register_layout(scene)
    # proxies take their content (attributes included) from the current item: find them by the browser
    if out.browser is not None and out.image_sequence is not None:
        out.image = out.browser.GetProxyNode(out.image_sequence)
    if out.browser is not None and out.seg_sequence is not None:
        out.segmentation = out.browser.GetProxyNode(out.seg_sequence)
    return out
