"""The landmarks markups node: three named control points, pre-created and unplaced."""
from __future__ import annotations

from typing import Mapping, Optional

import numpy as np

from cardiacmotion.errors import InputError
from cardiacmotion.io.markups import ECHO_LANDMARKS, MR_LANDMARKS
from cardiacmotion.slicerbridge import headless

NODE_NAME = "Landmarks"


def landmark_names(modality: str) -> tuple:
    """The three landmark labels of ``modality`` (DESIGN section 3)."""
    return MR_LANDMARKS if str(modality).upper() == "MR" else ECHO_LANDMARKS


def create_landmarks_node(modality: str, points: Optional[Mapping[str, np.ndarray]] = None, name: str = NODE_NAME, scene=None):
    """A fiducial node with the three named points; those not in ``points`` stay unplaced.

    The user places the unplaced ones one after the other from the Markups toolbar (Slicer places the next
    undefined point), so the names are always right.

    Args:
        modality: 'MR' or 'US' (picks the names).
        points: optional ``{name: RAS (3,)}`` of points already known.
        name: node name.
        scene: target scene.

    Returns:
        the ``vtkMRMLMarkupsFiducialNode``.
    """
    import vtk

    scene = scene or headless.get_scene()
    points = dict(points or {})
    names = landmark_names(modality)
    unknown = set(points) - set(names)
    if unknown:
        raise InputError(f"unknown landmark(s) {sorted(unknown)} for {modality} (expected {list(names)})")
    node = scene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode", name)
    node.CreateDefaultDisplayNodes()
    for label in names:
        index = node.AddControlPoint(vtk.vtkVector3d(0.0, 0.0, 0.0), label)
        if label in points:
            x, y, z = (float(v) for v in np.asarray(points[label], dtype=np.float64).reshape(3))
            node.SetNthControlPointPosition(index, x, y, z)
        else:
            node.UnsetNthControlPointPosition(index)
    node.SetFixedNumberOfControlPoints(True)  # no fourth point by accident; names stay as they are
    node.SetAttribute("CardiacMotion.Modality", str(modality).upper())
    from cardiacmotion.slicerbridge.bullseye import keep_out_of_bullseye_view

    keep_out_of_bullseye_view(node)
    return node


def landmarks_from_node(node) -> dict:
    """``{label: RAS (3,)}`` of the placed (defined) points of a markups node."""
    out = {}
    for n in range(node.GetNumberOfControlPoints()):
        if node.GetNthControlPointPositionStatus(n) != node.PositionDefined:
            continue
        pos = [0.0, 0.0, 0.0]
        node.GetNthControlPointPosition(n, pos)
        out[node.GetNthControlPointLabel(n)] = np.asarray(pos, dtype=np.float64)
    return out
