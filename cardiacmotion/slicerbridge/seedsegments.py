"""Seed segments: create the cardiac segments to paint, and tell which painted segment is which label.

A segment counts as a cardiac structure by its name (ours, or a usual spelling), by its terminology type
code (what Slicer's terminology selector sets), or, for segments still carrying Segment Editor's default
names (``Segment_1``, ``Segment_2``, ...), by order: the first is the LV cavity, then the myocardium, then
the RV (MR) / left atrium (echo) -- the order "Create seed segments" adds them in. The mapping is returned
with a one-line description so the module can show the user what it used.
"""
from __future__ import annotations

import re
from typing import Optional

from cardiacmotion.errors import InputError
from cardiacmotion.slicerbridge import headless
from cardiacmotion.slicerbridge.terminology import (LEFT_ATRIUM, LEFT_VENTRICLE, MUSCLE, MYOCARDIUM, RIGHT_VENTRICLE,
                                                   segment_specs)

#: other spellings users type, lower case, per segment id of :mod:`terminology`.
SYNONYMS = {
    "LV_cavity": ("lv", "lv cavity", "lv blood pool", "left ventricle", "left ventricular cavity", "lv_cavity", "lvc"),
    "LV_myocardium": ("myo", "myocardium", "lv myocardium", "lv myo", "lv wall", "lv_myocardium", "myocard"),
    "RV_cavity": ("rv", "rv cavity", "right ventricle", "rv blood pool", "rv_cavity", "rvc"),
    "Left_atrium": ("la", "left atrium", "left_atrium", "atrium"),
}
_TYPE_CODES = {"LV_cavity": LEFT_VENTRICLE[1], "RV_cavity": RIGHT_VENTRICLE[1], "Left_atrium": LEFT_ATRIUM[1]}
_DEFAULT_NAME = re.compile(r"^segment[_ ]?\d+$", re.IGNORECASE)


def seed_order(modality: str) -> list:
    """The segment specs in painting order: LV cavity, myocardium, then RV (MR) or left atrium (echo)."""
    specs = {s.segment_id: s for s in segment_specs(modality)}
    third = "RV_cavity" if modality == "MR" else "Left_atrium"
    return [specs["LV_cavity"], specs["LV_myocardium"], specs[third]]


def _type_code(terminology: str) -> Optional[str]:
    parts = (terminology or "").split("~")
    if len(parts) < 3:
        return None
    code = parts[2].split("^")
    return code[1] if len(code) > 1 and code[1] else None


def segment_labels(segmentation, modality: str) -> tuple:
    """``({segment id: label value}, description)`` for the segments of a ``vtkSegmentation``.

    Raises:
        InputError: two segments claim the same structure, or none is recognised.
    """
    specs = {s.segment_id: s for s in segment_specs(modality)}
    by_name = {}
    for seg_id, spec in specs.items():
        for name in (spec.name.lower(),) + SYNONYMS.get(seg_id, ()):
            by_name[name] = seg_id
    found, defaults, ignored = {}, [], []
    for n in range(segmentation.GetNumberOfSegments()):
        seg_id = segmentation.GetNthSegmentID(n)
        segment = segmentation.GetSegment(seg_id)
        name = segment.GetName().strip()
        which = by_name.get(name.lower())
        if which is None:
            code = _type_code(segment.GetTerminology())
            if code in (MYOCARDIUM[1], MUSCLE[1]):
                which = "LV_myocardium"  # heart muscle (our seeds name the left ventricle as its region)
            else:
                which = next((k for k, c in _TYPE_CODES.items() if c == code and k in specs), None)
        if which is None or which not in specs:
            (defaults if _DEFAULT_NAME.match(name) else ignored).append((seg_id, name))
            continue
        if which in found.values():
            raise InputError(f"two segments are the {specs[which].name}: rename one of them")
        found[seg_id] = which
    notes = []
    free = [s for s in seed_order(modality) if s.segment_id not in found.values()]
    for (seg_id, name), spec in zip(defaults, free):
        found[seg_id] = spec.segment_id
        notes.append(f"'{name}' taken as {spec.name}")
    if not found:
        expected = ", ".join(s.name for s in seed_order(modality))
        raise InputError(f"no segment is recognised as a cardiac structure: name them {expected}")
    ignored += defaults[len(free):]
    if ignored:
        notes.append("ignored: " + ", ".join(f"'{name}'" for _, name in ignored))
    return {seg_id: specs[which].label for seg_id, which in found.items()}, "; ".join(notes)


def create_seed_segmentation(volume_node, modality: str, name: Optional[str] = None, scene=None):
    """A segmentation on the cine with the empty seed segments (names, colours, terminology) in painting order.

    Returns:
        the ``vtkMRMLSegmentationNode``; its reference geometry is the cine's, ready for Segment Editor.
    """
    scene = scene or headless.get_scene()
    if volume_node is None:
        raise InputError("select the cine first")
    node = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", name or f"{volume_node.GetName()} seed")
    node.CreateDefaultDisplayNodes()
    node.SetReferenceImageGeometryParameterFromVolumeNode(volume_node)
    segmentation = node.GetSegmentation()
    for spec in seed_order(modality):
        seg_id = segmentation.AddEmptySegment(spec.segment_id, spec.name, spec.color)
        segmentation.GetSegment(seg_id).SetTerminology(spec.terminology)
    node.SetAttribute("CardiacMotion.Modality", modality)
    from cardiacmotion.slicerbridge.hierarchy import place_next_to

    place_next_to(node, volume_node)
    return node
