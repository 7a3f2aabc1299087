"""A MRML scene that works in real Slicer and on the ``slicer-core`` wheel (no Qt, no application).

In Slicer, :func:`get_scene` returns ``slicer.mrmlScene``. Outside Slicer (pytest, the ``cardiacmotion
analyze`` command) it builds what the bridge needs from the wheel: a scene, the application logic and the
module logics (colours, volumes, segmentations, sequences, markups, plots, tables), registered with the
application logic, and publishes them as ``slicer.mrmlScene`` and ``slicer.modules.<name>.logic()`` so that
``slicer.util`` helpers keep working.
"""
from __future__ import annotations

import types
from typing import Optional

#: module name -> logic class name, in registration order (Sequences before any scene read).
_LOGICS = (
    ("colors", "vtkSlicerColorLogic"),
    ("volumes", "vtkSlicerVolumesLogic"),
    ("segmentations", "vtkSlicerSegmentationsModuleLogic"),
    ("sequences", "vtkSlicerSequencesLogic"),
    ("markups", "vtkSlicerMarkupsLogic"),
    ("plots", "vtkSlicerPlotsLogic"),
    ("tables", "vtkSlicerTablesLogic"),
)

_state: dict = {}


def available() -> tuple:
    """``(ok, reason)``: whether MRML can be used here (Slicer, or the ``slicer-core`` wheel).

    ``cardiacmotion analyze`` asks this before writing ``scene.mrb`` and says why it skips when it cannot.
    """
    try:
        import slicer
    except ImportError:
        return False, "slicer-core is not installed (pip install 'cardiacmotion[slicer]')"
    missing = [name for _, name in _LOGICS if not hasattr(slicer, name)]
    if not hasattr(slicer, "vtkMRMLScene") or missing:
        return False, "this 'slicer' package lacks the MRML module logics: " + ", ".join(missing or ["vtkMRMLScene"])
    return True, "slicer-core" if not in_slicer_application() else "3D Slicer"


def in_slicer_application() -> bool:
    """True inside the real Slicer application (``slicer.app`` exists)."""
    import slicer

    return hasattr(slicer, "app")


def get_scene(fresh: bool = False):
    """The scene to work in: Slicer's own, or a headless one built from ``slicer-core``.

    Args:
        fresh: headless only: drop the current headless scene and build a new one (tests use this for a
            clean scene, like ``slicer.mrmlScene.Clear()`` in Slicer).

    Returns:
        a ``vtkMRMLScene`` that has the module logics the bridge uses.
    """
    import slicer

    if in_slicer_application():
        return slicer.mrmlScene
    if fresh or "scene" not in _state:
        _build_headless()
    return _state["scene"]


def _attach_data_io(scene) -> None:
    """``ReadFromMRB`` needs a data I/O manager with a cache folder (the application sets one up)."""
    import tempfile

    import slicer

    cache_dir = _state.get("cache_dir")
    if cache_dir is None:
        import atexit
        import shutil

        cache_dir = tempfile.mkdtemp(prefix="cardiacmotion-mrml-cache-")
        atexit.register(shutil.rmtree, cache_dir, True)  # leave no folder behind
    _state["cache_dir"] = cache_dir
    cache = slicer.vtkCacheManager()
    cache.SetRemoteCacheDirectory(cache_dir)
    io_manager = slicer.vtkDataIOManager()
    io_manager.SetCacheManager(cache)
    scene.SetCacheManager(cache)
    scene.SetDataIOManager(io_manager)
    _state["io"] = (cache, io_manager)


def _build_headless() -> None:
    import slicer
    import vtk

    old = _state.get("scene")
    if old is not None:
        old.Clear(1)
    scene = slicer.vtkMRMLScene()
    app_logic = slicer.vtkSlicerApplicationLogic()
    app_logic.SetMRMLScene(scene)
    _attach_data_io(scene)
    modules = types.SimpleNamespace()
    logics = {}
    for name, cls_name in _LOGICS:
        quiet = name == "colors"  # it complains that it has no Slicer home with colour files; none needed
        if quiet:
            vtk.vtkObject.GlobalWarningDisplayOff()
        logic = getattr(slicer, cls_name)()
        logic.SetMRMLApplicationLogic(app_logic)
        logic.SetMRMLScene(scene)
        app_logic.SetModuleLogic(name.capitalize(), logic)
        logics[name] = logic
        if quiet:
            vtk.vtkObject.GlobalWarningDisplayOn()
        setattr(modules, name, types.SimpleNamespace(logic=(lambda lg=logic: lg)))
    slicer.mrmlScene = scene
    slicer.modules = modules
    _state.update(scene=scene, app_logic=app_logic, logics=logics)


def logic(name: str):
    """A module logic by module name (``'sequences'``, ``'segmentations'``, ...), in Slicer or headless."""
    import slicer

    if in_slicer_application():
        return getattr(slicer.modules, name).logic()
    get_scene()
    return _state["logics"][name]


def application_logic() -> Optional[object]:
    """The application logic (headless: the one built here; Slicer: ``slicer.app.applicationLogic()``)."""
    import slicer

    if in_slicer_application():
        return slicer.app.applicationLogic()
    get_scene()
    return _state["app_logic"]
