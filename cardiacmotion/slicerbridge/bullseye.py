"""The AHA 17-segment bullseye as a model: one sector per segment, cell scalars = score, colour legend.

Geometry (Cerqueira 2002 display convention, seen from the apex): basal ring outermost, apex (17) in the
centre; segment 1 (basal anterior) at 12 o'clock, the septum on the left, the lateral wall on the right.
The model lies in the RAS x-y plane (x = right of the picture, y = up) and is shown in its own 3D view,
looked at from +z.
"""
from __future__ import annotations

from typing import Mapping, Optional

import numpy as np

from cardiacmotion.slicerbridge import headless

VIEW_NAME = "CardiacMotionBullseye"
#: ring -> (inner radius, outer radius, first segment id, number of sectors, start angle in degrees).
#: Angles are counter-clockwise from 3 o'clock; basal/mid sectors are 60 deg with segment 1 centred at
#: 90 deg (12 o'clock) going counter-clockwise through the septum (left) to the lateral wall.
RINGS = (
    (3.0, 4.0, 1, 6, 60.0),   # basal 1-6
    (2.0, 3.0, 7, 6, 60.0),   # mid 7-12
    (1.0, 2.0, 13, 4, 45.0),  # apical 13-16: anterior, septal, inferior, lateral (90 deg each)
    (0.0, 1.0, 17, 1, 0.0),   # apex 17
)
def _hex(code: str) -> tuple:
    return tuple(int(code[i : i + 2], 16) / 255.0 for i in (1, 3, 5))


#: Same colours as the matplotlib bullseye of ``cardiacmotion.scoring.bullseye`` (index = score).
SCORE_COLORS = (
    ("not assessed", _hex("#bdbdbd")),
    ("normal", _hex("#4daf4a")),
    ("hypokinetic", _hex("#ffd92f")),
    ("akinetic", _hex("#fc8d62")),
    ("dyskinetic", _hex("#d7301f")),
)
_STEPS_PER_DEGREE = 0.25  # arc resolution of the sectors


#: Slicer's standard view node IDs: results other than the bullseye are shown there, not in the bullseye view.
STANDARD_VIEWS = ("vtkMRMLSliceNodeRed", "vtkMRMLSliceNodeGreen", "vtkMRMLSliceNodeYellow", "vtkMRMLViewNode1")


def keep_out_of_bullseye_view(node) -> None:
    """Show ``node`` in the standard views only (a display node with no view list shows everywhere)."""
    if node is None:
        return
    for n in range(node.GetNumberOfDisplayNodes()):
        display = node.GetNthDisplayNode(n)
        if display is not None and not display.GetViewNodeIDs():
            display.SetViewNodeIDs(list(STANDARD_VIEWS))


def _geometry() -> dict:
    """segment id -> (inner radius, outer radius, start angle, end angle), radii in ring units (apex = 0-1).

    Taken from ``cardiacmotion.scoring.bullseye`` (one definition for the figures and the model) when it
    is there; the same AHA convention from :data:`RINGS` otherwise.
    """
    try:
        from cardiacmotion.scoring.bullseye import bullseye_geometry
    except ImportError:
        bullseye_geometry = None
    if bullseye_geometry is not None:
        sectors = bullseye_geometry()
        outer = max(s["r_outer"] for s in sectors)
        scale = len(RINGS) / outer
        return {int(s["id"]): (s["r_inner"] * scale, s["r_outer"] * scale, float(s["theta_start_deg"]),
                               float(s["theta_end_deg"])) for s in sectors}
    out = {}
    for r0, r1, first, count, start in RINGS:
        width = 360.0 / count
        for n in range(count):
            out[first + n] = (r0, r1, start + n * width, start + (n + 1) * width)
    return out


def sector_of(segment_id: int) -> tuple:
    """``(inner radius, outer radius, start angle, end angle)`` in the bullseye plane for an AHA segment."""
    geometry = _geometry()
    if segment_id not in geometry:
        raise ValueError(f"no AHA segment {segment_id}")
    return geometry[segment_id]


def bullseye_polydata(scores: Optional[Mapping[int, int]] = None, radius_mm: float = 10.0):
    """vtkPolyData of the 17 sectors (quads), cell arrays ``Segment`` (1-17) and ``Score`` (0 = not assessed)."""
    import vtk

    scores = dict(scores or {})
    points = vtk.vtkPoints()
    polys = vtk.vtkCellArray()
    seg_arr = vtk.vtkIntArray()
    seg_arr.SetName("Segment")
    score_arr = vtk.vtkFloatArray()
    score_arr.SetName("Score")
    geometry = _geometry()
    for seg in range(1, 18):
        r0, r1, a0, a1 = geometry[seg]
        steps = max(2, int(np.ceil((a1 - a0) * _STEPS_PER_DEGREE)))
        angles = np.radians(np.linspace(a0, a1, steps + 1))
        for a, b in zip(angles[:-1], angles[1:]):
            quad = [(r0, a), (r1, a), (r1, b), (r0, b)]
            ids = [points.InsertNextPoint(radius_mm * r * np.cos(t), radius_mm * r * np.sin(t), 0.0) for r, t in quad]
            polys.InsertNextCell(4, ids)
            seg_arr.InsertNextValue(seg)
            score_arr.InsertNextValue(float(scores.get(seg, 0)))
    poly = vtk.vtkPolyData()
    poly.SetPoints(points)
    poly.SetPolys(polys)
    poly.GetCellData().AddArray(seg_arr)
    poly.GetCellData().AddArray(score_arr)
    poly.GetCellData().SetActiveScalars("Score")
    return poly


def outline_polydata(radius_mm: float = 10.0):
    """Black sector boundaries of the bullseye: the ring circles and the radial sector edges."""
    import vtk

    points = vtk.vtkPoints()
    lines = vtk.vtkCellArray()
    circle = np.radians(np.arange(0, 361, 2.0))
    for r in (1.0, 2.0, 3.0, 4.0):
        ids = [points.InsertNextPoint(radius_mm * r * np.cos(t), radius_mm * r * np.sin(t), 0.1) for t in circle]
        lines.InsertNextCell(len(ids), ids)
    for seg, (r0, r1, a0, a1) in _geometry().items():
        if a1 - a0 >= 359.0:
            continue  # the apex disc has no radial edge
        t = np.radians(a0)
        a = points.InsertNextPoint(radius_mm * r0 * np.cos(t), radius_mm * r0 * np.sin(t), 0.1)
        b = points.InsertNextPoint(radius_mm * r1 * np.cos(t), radius_mm * r1 * np.sin(t), 0.1)
        lines.InsertNextCell(2, [a, b])
    poly = vtk.vtkPolyData()
    poly.SetPoints(points)
    poly.SetLines(lines)
    return poly


def sector_centre(segment_id: int, radius_mm: float = 10.0) -> np.ndarray:
    """Centre of a sector in the bullseye plane (the apex disc: its middle)."""
    r0, r1, a0, a1 = sector_of(segment_id)
    if segment_id == 17:
        return np.zeros(3)
    t = np.radians((a0 + a1) / 2.0)
    r = radius_mm * (r0 + r1) / 2.0
    return np.array([r * np.cos(t), r * np.sin(t), 0.5])


def segment_number_node(view, scene=None, radius_mm: float = 10.0):
    """Locked, glyph-less markups points labelled 1-17 at the sector centres, shown in the bullseye view only."""
    scene = scene or headless.get_scene()
    node = scene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode", "AHA segment numbers")
    node.CreateDefaultDisplayNodes()
    for seg in range(1, 18):
        x, y, z = sector_centre(seg, radius_mm)
        node.AddControlPoint(float(x), float(y), float(z), str(seg))
    node.SetLocked(True)
    node.SetFixedNumberOfControlPoints(True)
    display = node.GetDisplayNode()
    display.SetGlyphScale(0.01)
    display.SetUseGlyphScale(True)
    display.SetTextScale(4.0)
    display.SetSelectedColor(0.05, 0.05, 0.05)
    display.SetColor(0.05, 0.05, 0.05)
    display.SetViewNodeIDs([view.GetID()])
    display.SetPropertiesLabelVisibility(False)
    node.SetAttribute("CardiacMotion.Role", "bullseye numbers")
    return node


def score_color_table(name: str = "Wall motion score", scene=None):
    """A colour table: 0 not assessed (grey), 1 normal, 2 hypokinetic, 3 akinetic, 4 dyskinetic."""
    scene = scene or headless.get_scene()
    nodes = scene.GetNodesByClass("vtkMRMLColorTableNode")
    for n in range(nodes.GetNumberOfItems()):  # one table per scene, shared by every scoring run
        existing = nodes.GetItemAsObject(n)
        if existing.GetAttribute("CardiacMotion.Role") == "bullseye colors":
            return existing
    node = scene.AddNewNodeByClass("vtkMRMLColorTableNode", name)
    node.SetAttribute("CardiacMotion.Role", "bullseye colors")
    node.SetTypeToUser()
    node.SetNumberOfColors(len(SCORE_COLORS))
    node.GetLookupTable().SetRange(0, len(SCORE_COLORS) - 1)
    for value, (label, rgb) in enumerate(SCORE_COLORS):
        node.SetColor(value, label, *rgb, 1.0)
    return node


def bullseye_view(scene=None):
    """The 3D view node the bullseye is shown in (created once per scene), its camera looking face-on.

    In Slicer the layout manager may have made the view (and the camera displayable manager a default
    camera, looking from the front at the model's edge) before any scoring: the camera is set every time.
    """
    import slicer

    scene = scene or headless.get_scene()
    view = scene.GetSingletonNode(VIEW_NAME, "vtkMRMLViewNode")
    if view is None:
        view = slicer.vtkMRMLViewNode()
        view.SetSingletonTag(VIEW_NAME)
        view.SetLayoutName(VIEW_NAME)
        view.SetLayoutLabel("AHA")
        view.SetName("View" + VIEW_NAME)
        scene.AddNode(view)
    view.SetBoxVisible(False)
    view.SetAxisLabelsVisible(False)
    view.SetBackgroundColor(1.0, 1.0, 1.0)
    view.SetBackgroundColor2(1.0, 1.0, 1.0)
    view.SetOrientationMarkerType(view.OrientationMarkerTypeNone)
    view.SetRenderMode(view.Orthographic)
    face_on_camera(view, scene)
    return view


def face_on_camera(view, scene=None) -> list:
    """Point every camera of ``view`` at the bullseye plane from +z (created when the view has none yet).

    Returns:
        the camera nodes set.
    """
    scene = scene or headless.get_scene()
    layout_name = view.GetLayoutName() or VIEW_NAME
    cameras = []
    nodes = scene.GetNodesByClass("vtkMRMLCameraNode")
    for n in range(nodes.GetNumberOfItems()):
        camera = nodes.GetItemAsObject(n)
        if camera.GetLayoutName() == layout_name:
            cameras.append(camera)
    if not cameras:
        camera = scene.AddNewNodeByClass("vtkMRMLCameraNode", "Camera" + VIEW_NAME)
        camera.SetLayoutName(layout_name)
        cameras.append(camera)
    for camera in cameras:
        was = camera.StartModify()
        camera.SetPosition(0.0, 0.0, 200.0)
        camera.SetFocalPoint(0.0, 0.0, 0.0)
        camera.SetViewUp(0.0, 1.0, 0.0)
        camera.SetParallelProjection(True)
        camera.SetParallelScale(48.0)
        camera.EndModify(was)
        camera.ResetClippingRange()
    return cameras


def bullseye_model(scores: Mapping, name: str = "AHA bullseye", scene=None):
    """The bullseye model from a SCORES dict (``segments`` with ``id``/``score``) shown only in its own view.

    Returns:
        ``(model_node, color_table_node, legend_display_node or None)``.
    """
    scene = scene or headless.get_scene()
    per_segment = {int(s["id"]): int(s.get("score", 0) or 0) for s in scores.get("segments", [])}
    model = scene.AddNewNodeByClass("vtkMRMLModelNode", name)
    model.SetAndObservePolyData(bullseye_polydata(per_segment, radius_mm=40.0))
    model.CreateDefaultDisplayNodes()
    colors = score_color_table(scene=scene)
    view = bullseye_view(scene)
    display = model.GetDisplayNode()
    display.SetActiveScalar("Score", display.GetAttributeLocationFromString("cell"))
    display.SetActiveAttributeLocation(display.GetAttributeLocationFromString("cell"))
    display.SetAndObserveColorNodeID(colors.GetID())
    display.SetScalarRangeFlag(display.UseColorNodeScalarRange)
    display.SetScalarVisibility(True)
    display.SetAmbient(1.0)
    display.SetDiffuse(0.0)  # flat colours: the legend must match what is shown
    display.SetEdgeVisibility(False)
    display.SetViewNodeIDs([view.GetID()])
    outline = scene.AddNewNodeByClass("vtkMRMLModelNode", name + " outline")
    outline.SetAndObservePolyData(outline_polydata(radius_mm=40.0))
    outline.CreateDefaultDisplayNodes()
    od = outline.GetDisplayNode()
    od.SetColor(0.1, 0.1, 0.1)
    od.SetLineWidth(2.0)
    od.SetAmbient(1.0)
    od.SetDiffuse(0.0)
    od.SetViewNodeIDs([view.GetID()])
    model.SetAttribute("CardiacMotion.Outline", outline.GetID())
    numbers = segment_number_node(view, scene=scene, radius_mm=40.0)
    model.SetAttribute("CardiacMotion.SegmentNumbers", numbers.GetID())
    msi = scores.get("motion_score_index")
    model.SetAttribute("CardiacMotion.MotionScoreIndex", "" if msi is None else f"{float(msi):.3f}")
    legend = None
    try:
        legend = headless.logic("colors").AddDefaultColorLegendDisplayNode(model)
    except Exception:  # noqa: BLE001 - the legend is a nicety; the model stands without it
        legend = None
    if legend is not None:
        legend.SetViewNodeIDs([view.GetID()])
        legend.SetTitleText("Wall motion")
        legend.SetUseColorNamesForLabels(True)
        legend.SetVisibility(True)
    return model, colors, legend


def scores_from_model(model) -> dict:
    """``{segment id: score}`` read back from the model's cell arrays."""
    from vtk.util import numpy_support

    cd = model.GetPolyData().GetCellData()
    seg = numpy_support.vtk_to_numpy(cd.GetArray("Segment"))
    score = numpy_support.vtk_to_numpy(cd.GetArray("Score"))
    return {int(s): int(round(float(score[np.argmax(seg == s)]))) for s in np.unique(seg)}
