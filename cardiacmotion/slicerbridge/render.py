"""Offscreen renderings of the analysis without the Slicer application (slicer-core + VTK).

A slice view is the slice logic's blended image with Slicer's own 2D segmentation displayable manager
drawing the overlay; the bullseye view is a 3D renderer driven by the model, colour-legend and camera
displayable managers of the bullseye view node. Needs an OpenGL context: set
``VTK_DEFAULT_OPENGL_WINDOW=vtkEGLRenderWindow`` (or OSMesa) before VTK creates its first window when there
is no display. :func:`offscreen_available` says whether rendering works here.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Union

import numpy as np

from cardiacmotion.slicerbridge import headless


def _configure_window_class() -> None:
    # Without a display, VTK's default X window cannot start: ask for EGL unless told otherwise.
    if not os.environ.get("DISPLAY") and "VTK_DEFAULT_OPENGL_WINDOW" not in os.environ:
        os.environ["VTK_DEFAULT_OPENGL_WINDOW"] = "vtkEGLRenderWindow"


_PROBE = """
import vtk
w = vtk.vtkRenderWindow()
w.SetOffScreenRendering(1)
w.SetSize(8, 8)
w.AddRenderer(vtk.vtkRenderer())
w.Render()
print(w.GetClassName(), int(w.SupportsOpenGL()))
"""
_probe_result: Optional[tuple] = None


def offscreen_available() -> tuple:
    """``(ok, reason)``: whether an offscreen OpenGL window renders here.

    Probed once in a child process: a missing EGL/OSMesa library can abort the process that tries it.
    """
    global _probe_result
    if _probe_result is not None:
        return _probe_result
    import subprocess
    import sys

    if "VTK_DEFAULT_OPENGL_WINDOW" in os.environ or os.environ.get("DISPLAY"):
        candidates = [os.environ.get("VTK_DEFAULT_OPENGL_WINDOW")]
    else:  # no display: EGL first, then OSMesa
        candidates = ["vtkEGLRenderWindow", "vtkOSOpenGLRenderWindow"]
    reasons = []
    for window_class in candidates:
        env = dict(os.environ)
        if window_class:
            env["VTK_DEFAULT_OPENGL_WINDOW"] = window_class
        try:
            out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=60, env=env)
        except (OSError, subprocess.TimeoutExpired) as exc:
            reasons.append(f"{window_class}: {exc}")
            continue
        words = out.stdout.split()
        if out.returncode == 0 and len(words) == 2 and words[1] == "1":
            if window_class:
                os.environ["VTK_DEFAULT_OPENGL_WINDOW"] = window_class  # before this process makes a window
            _probe_result = (True, words[0])
            return _probe_result
        tail = (out.stderr.strip().splitlines() or [f"exit code {out.returncode}"])[-1]
        reasons.append(f"{window_class or 'default window'}: {tail[-160:]}")
    _probe_result = (False, "no offscreen OpenGL: " + "; ".join(reasons))
    return _probe_result


def _window(width: int, height: int):
    import vtk

    _configure_window_class()
    window = vtk.vtkRenderWindow()
    window.SetOffScreenRendering(1)
    window.SetSize(int(width), int(height))
    window.SetMultiSamples(0)  # deterministic pixels for golden images
    window.SetNumberOfLayers(3)  # some displayable managers (colour legend) draw on a renderer of their own
    # displayable managers reach the window through its interactor; a generic one needs no display
    interactor = vtk.vtkGenericRenderWindowInteractor()
    interactor.SetRenderWindow(window)
    return window


def _grab(window) -> np.ndarray:
    """RGB pixels of the window, top row first."""
    import vtk
    from vtk.util import numpy_support

    grab = vtk.vtkWindowToImageFilter()
    grab.SetInput(window)
    grab.SetInputBufferTypeToRGB()
    grab.ReadFrontBufferOff()
    grab.Update()
    img = grab.GetOutput()
    w, h, _ = img.GetDimensions()
    arr = numpy_support.vtk_to_numpy(img.GetPointData().GetScalars()).reshape(h, w, -1)
    return arr[::-1].copy()


def save_png(rgb: np.ndarray, path: Union[str, os.PathLike]) -> None:
    """Write an RGB array as a PNG (atomically)."""
    import cv2

    from cardiacmotion.io.atomic import atomic_output

    with atomic_output(path) as tmp:
        if not cv2.imwrite(str(tmp), np.ascontiguousarray(rgb[..., ::-1])):
            raise RuntimeError(f"could not write {path}")


def _slice_logic(scene, layout_name: str):
    import slicer

    app_logic = headless.application_logic()
    slice_node = scene.GetSingletonNode(layout_name, "vtkMRMLSliceNode")
    if slice_node is None:
        # Slicer's orientation presets live on the scene's default slice node; nodes made by the scene get them
        slicer.vtkMRMLSliceNode.AddDefaultSliceOrientationPresets(scene)
        slice_node = scene.CreateNodeByClass("vtkMRMLSliceNode")
        slice_node.UnRegister(None)  # CreateNodeByClass hands over a reference Python also holds
        slice_node.SetName(layout_name)
        slice_node.SetLayoutName(layout_name)
        slice_node.SetSingletonTag(layout_name)
        scene.AddNode(slice_node)
        slice_node.SetOrientation("Axial")  # patient left on screen right, as Slicer's Red view starts
    logic = app_logic.GetSliceLogic(slice_node) if app_logic.GetSliceLogics() else None
    if logic is None:
        import vtk

        logic = slicer.vtkMRMLSliceLogic()
        logic.SetMRMLApplicationLogic(app_logic)
        logic.SetMRMLScene(scene)
        logic.SetSliceNode(slice_node)
        logics = app_logic.GetSliceLogics() or vtk.vtkCollection()
        logics.AddItem(logic)
        app_logic.SetSliceLogics(logics)
    return slice_node, logic


def align_to_volume_slices(slice_node, volume_node) -> bool:
    """Turn the view into the plane of the volume's own slices (its k planes) when it is not there.

    ``RotateToVolumePlane`` picks the volume axis nearest to the view's preset orientation; for an
    oblique short-axis stack that can be an in-plane axis, and the view then cuts across the stack
    (a squashed long-axis cut). Here the view normal is set to the slice normal and the view's
    horizontal axis to the image rows, so the snapshot shows the short-axis slice as acquired.
    Returns True when the view was turned.
    """
    import vtk

    m = vtk.vtkMatrix4x4()
    volume_node.GetIJKToRASDirectionMatrix(m)
    cols = np.array([[m.GetElement(r, c) for c in range(3)] for r in range(3)])
    normal = cols[:, 2] / np.linalg.norm(cols[:, 2])
    view = slice_node.GetSliceToRAS()
    view_normal = np.array([view.GetElement(r, 2) for r in range(3)])
    if abs(float(view_normal @ normal)) > 0.999:
        return False  # already the slice plane (axis-aligned stacks, most scanners)
    # keep the view's sense of the normal so that left/right stays as Slicer would show it
    if float(view_normal @ normal) < 0:
        normal = -normal
    transverse = cols[:, 0] / np.linalg.norm(cols[:, 0])
    centre = [view.GetElement(r, 3) for r in range(3)]
    slice_node.SetSliceToRASByNTP(*normal, *transverse, *centre, 0)
    slice_node.UpdateMatrices()
    return True


def render_slice_view(
    volume_node,
    segmentation_node=None,
    slice_index: Optional[int] = None,
    size: tuple = (256, 256),
    layout_name: str = "Red",
    scene=None,
) -> np.ndarray:
    """Render one slice of ``volume_node`` (in its own plane) with the segmentation outline + fill overlay.

    Args:
        volume_node: the image proxy (scalar volume).
        segmentation_node: segmentation proxy shown on top, or None.
        slice_index: k index of the slice to show (default: the middle slice).
        size: (width, height) in pixels.
        layout_name: slice node name (``Red``).
        scene: the scene.

    Returns:
        RGB ``uint8 [height, width, 3]``.
    """
    import slicer
    import vtk

    scene = scene or headless.get_scene()
    slice_node, logic = _slice_logic(scene, layout_name)
    width, height = int(size[0]), int(size[1])
    slice_node.SetDimensions(width, height, 1)
    composite = logic.GetSliceCompositeNode()
    composite.SetBackgroundVolumeID(volume_node.GetID())
    composite.SetForegroundVolumeID(None)
    composite.SetLabelVolumeID(None)
    slice_node.RotateToVolumePlane(volume_node)
    align_to_volume_slices(slice_node, volume_node)
    logic.FitSliceToVolume(volume_node, width, height)
    dims = volume_node.GetImageData().GetDimensions()
    k = dims[2] // 2 if slice_index is None else int(slice_index)
    m = vtk.vtkMatrix4x4()
    volume_node.GetIJKToRASMatrix(m)
    centre = m.MultiplyPoint(((dims[0] - 1) / 2.0, (dims[1] - 1) / 2.0, float(k), 1.0))
    slice_node.JumpSliceByCentering(centre[0], centre[1], centre[2])
    slice_node.UpdateMatrices()
    logic.UpdateImageData()

    window = _window(width, height)
    renderer = vtk.vtkRenderer()
    renderer.SetBackground(0, 0, 0)
    window.AddRenderer(renderer)
    mapper = vtk.vtkImageMapper()
    mapper.SetInputConnection(logic.GetImageDataConnection())
    mapper.SetColorWindow(255.0)
    mapper.SetColorLevel(127.5)
    actor = vtk.vtkActor2D()
    actor.SetMapper(mapper)
    renderer.AddViewProp(actor)
    group = None
    if segmentation_node is not None:
        factory = slicer.vtkMRMLSliceViewDisplayableManagerFactory.GetInstance()
        factory.SetMRMLApplicationLogic(headless.application_logic())
        for name in ("vtkMRMLSegmentationsDisplayableManager2D",):
            if not factory.IsDisplayableManagerRegistered(name):
                factory.RegisterDisplayableManager(name)
        group = factory.InstantiateDisplayableManagers(renderer)
        group.SetMRMLDisplayableNode(slice_node)
        display = segmentation_node.GetDisplayNode()
        if display is not None:
            display.SetVisibility(True)
            display.SetVisibility2DFill(True)
            display.SetVisibility2DOutline(True)
            display.SetOpacity2DFill(0.4)
    window.Render()
    rgb = _grab(window)
    if group is not None:
        group.SetMRMLDisplayableNode(None)
    window.Finalize()
    return rgb


def render_bullseye_view(model_node, size: tuple = (440, 320), scene=None) -> np.ndarray:
    """Render the bullseye 3D view (model + colour legend) offscreen; returns RGB ``[h, w, 3]``."""
    import slicer
    import vtk

    from cardiacmotion.slicerbridge.bullseye import bullseye_view

    scene = scene or headless.get_scene()
    view = bullseye_view(scene)
    width, height = int(size[0]), int(size[1])
    window = _window(width, height)
    renderer = vtk.vtkRenderer()
    window.AddRenderer(renderer)
    factory = slicer.vtkMRMLThreeDViewDisplayableManagerFactory.GetInstance()
    factory.SetMRMLApplicationLogic(headless.application_logic())
    for name in ("vtkMRMLCameraDisplayableManager", "vtkMRMLViewDisplayableManager", "vtkMRMLModelDisplayableManager",
                 "vtkMRMLColorLegendDisplayableManager", "vtkMRMLMarkupsDisplayableManager"):
        if not factory.IsDisplayableManagerRegistered(name):
            factory.RegisterDisplayableManager(name)
    group = factory.InstantiateDisplayableManagers(renderer)
    group.SetMRMLDisplayableNode(view)
    window.Render()
    legend_dm = group.GetDisplayableManagerByClassName("vtkMRMLColorLegendDisplayableManager")
    display = model_node.GetDisplayNode()
    color_node = display.GetColorNode() if display is not None else None
    if color_node is not None and not _legend_drawn(legend_dm, model_node):
        # slicer-core's legend manager draws nothing offscreen: draw the same legend from the colour table
        renderer.AddViewProp(_legend_actor(color_node))
    window.Render()
    rgb = _grab(window)
    group.SetMRMLDisplayableNode(None)
    window.Finalize()
    return rgb


def render_analysis(folder: Union[str, os.PathLike], image, seg, landmarks=None, function=None, scores=None,
                    size: tuple = (256, 256)) -> dict:
    """Snapshots of an analysis as PNGs in ``folder``: ``slice_ed.png``, ``slice_es.png`` (mid slice with the
    segmentation) and ``bullseye.png`` (when scores are given). What ``cardiacmotion analyze`` can add to its
    figures; raises :class:`NotAvailableError` where no offscreen OpenGL exists.

    Returns:
        ``{name: RGB array}`` of what was written.
    """
    from cardiacmotion.errors import NotAvailableError
    from cardiacmotion.slicerbridge import scene as sc, sequences

    ok, reason = offscreen_available()
    if not ok:
        raise NotAvailableError(f"cannot render the Slicer views here: {reason}")
    headless.get_scene(fresh=True)
    nodes = sc.build_analysis_scene(image, seg, landmarks, function, scores)
    if function is not None and function.get("ed_phase") is not None:
        phases = {"ed": int(function["ed_phase"]), "es": int(function["es_phase"])}
    else:  # largest and smallest LV cavity by voxel count
        from cardiacmotion.cine import LV_CAVITY

        counts = (seg.array == LV_CAVITY[image.modality]).sum(axis=(1, 2, 3))
        phases = {"ed": int(np.argmax(counts)), "es": int(np.argmin(counts))}
    out = {}
    for label, phase in phases.items():
        sequences.select_phase(nodes.browser, phase)
        out[f"slice_{label}"] = render_slice_view(nodes.image, nodes.segmentation, size=size)
        save_png(out[f"slice_{label}"], Path(folder) / f"slice_{label}.png")
    if nodes.bullseye is not None:
        out["bullseye"] = render_bullseye_view(nodes.bullseye)
        save_png(out["bullseye"], Path(folder) / "bullseye.png")
    return out


def _legend_drawn(legend_dm, model_node) -> bool:
    if legend_dm is None:
        return False
    for n in range(model_node.GetNumberOfDisplayNodes()):
        node = model_node.GetNthDisplayNode(n)
        if node is not None and node.IsA("vtkMRMLColorLegendDisplayNode"):
            actor = legend_dm.GetColorLegendActor(node)
            if actor is not None and actor.GetVisibility():
                return True
    return False


def _legend_actor(color_node):
    """A legend box (swatch + name per colour) in the lower-right corner."""
    import vtk

    n = color_node.GetNumberOfColors()
    legend = vtk.vtkLegendBoxActor()
    legend.SetNumberOfEntries(n)
    swatch = vtk.vtkCubeSource()
    swatch.Update()
    for i in range(n):
        rgba = [0.0, 0.0, 0.0, 0.0]
        color_node.GetColor(i, rgba)
        legend.SetEntry(i, swatch.GetOutput(), color_node.GetColorName(i), rgba[:3])
    legend.GetPositionCoordinate().SetCoordinateSystemToNormalizedViewport()
    legend.GetPositionCoordinate().SetValue(0.76, 0.02)
    legend.GetPosition2Coordinate().SetCoordinateSystemToNormalizedViewport()
    legend.GetPosition2Coordinate().SetValue(0.23, 0.25)
    legend.BorderOff()
    legend.GetEntryTextProperty().SetColor(0.1, 0.1, 0.1)
    legend.GetEntryTextProperty().ShadowOff()
    legend.GetEntryTextProperty().SetFontFamilyToArial()
    return legend
