"""What the engine must know about a cine loaded in Slicer: modality, view and frame times.

Slicer's sequence browser copies the current item into the proxy node on every frame change, and
``vtkMRMLNode::Copy`` replaces the proxy's attribute map, so nothing kept on a proxy survives browsing.
Everything here lives on the *sequence node* (saved with the scene, never overwritten by browsing).

Frame times honour the sequence's index unit, the way Slicer's own importers fill it:

- ``ms`` / ``s`` (DICOM ultrasound cine import: index name ``time``, unit ``s``) -> converted to ms;
- an empty unit with frame numbers (DICOM MR import through MultiVolumeImporter: index ``0, 1, 2, ...``,
  no name, no unit) -> the acquisition's trigger times that the importer kept on the sequence
  (``MultiVolume.FrameLabels`` with ``MultiVolume.FrameIdentifyingDICOMTagName`` = ``TriggerTime``);
  without them, the frame interval the user gave (RR interval / frame rate, stored here once asked).
  Never guessed: :class:`FrameTimesUnknown` tells the widget to ask.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from cardiacmotion.errors import InputError

MODALITY = "CardiacMotion.Modality"
VIEW = "CardiacMotion.View"
FRAME_INTERVAL = "CardiacMotion.FrameIntervalMs"
#: DICOM tags MultiVolumeImporter may separate frames by whose labels are times (its units are ms).
_TIME_TAGS = ("TriggerTime", "AcquisitionTime", "ContentTime", "SeriesTime", "Time")
_UNIT_SCALE = {"ms": 1.0, "msec": 1.0, "millisecond": 1.0, "milliseconds": 1.0,
               "s": 1000.0, "sec": 1000.0, "second": 1000.0, "seconds": 1000.0}


class FrameTimesUnknown(InputError):
    """The cine's index is a bare frame number and no acquisition times were kept: ask the user."""


def normal_modality(value: Optional[str]) -> Optional[str]:
    """'MR' / 'US' from any spelling (mr, echo, us, MR); None for auto / empty."""
    if not value or str(value).lower() == "auto":
        return None
    return "US" if str(value).upper() in ("US", "ECHO") else "MR"


def default_view(modality: str) -> str:
    return "SAX" if modality == "MR" else "A4C"


def sequence_of(volume_node):
    """``(browser, sequence)`` of a proxy volume; ``(None, None)`` for a plain volume."""
    from cardiacmotion.slicerbridge import headless

    if volume_node is None:
        return None, None
    browser = headless.logic("sequences").GetFirstBrowserNodeForProxyNode(volume_node)
    if browser is None:
        return None, None
    return browser, browser.GetSequenceNode(volume_node)


def remember(seq, modality: Optional[str] = None, view: Optional[str] = None) -> None:
    """Keep the cine's modality and view on its sequence node (what browsing never overwrites)."""
    m = normal_modality(modality)
    if m:
        seq.SetAttribute(MODALITY, m)
    if view:
        seq.SetAttribute(VIEW, str(view).upper())


def modality_of(seq, requested: Optional[str] = None, volume_node=None) -> str:
    """The modality to use: the user's choice, else what the sequence says, else guessed from the shape.

    The guess follows Slicer's own loading: one slice per frame is an echo (ultrasound) cine, a stack is MR.
    """
    chosen = normal_modality(requested) or normal_modality(seq.GetAttribute(MODALITY) if seq is not None else None)
    if chosen:
        return chosen
    node = volume_node
    if node is None and seq is not None and seq.GetNumberOfDataNodes():
        node = seq.GetNthDataNode(0)
    if node is not None and node.GetImageData() is not None:
        dims = node.GetImageData().GetDimensions()
        return "US" if min(dims) == 1 else "MR"
    return "MR"


def view_of(seq, modality: str, requested: Optional[str] = None) -> str:
    """The view: the user's choice when it fits the modality, else the sequence's, else the default."""
    fits = {"MR": ("SAX",), "US": ("A4C", "A2C")}[modality]
    for candidate in (requested, seq.GetAttribute(VIEW) if seq is not None else None):
        if candidate and str(candidate).upper() in fits:
            return str(candidate).upper()
    return default_view(modality)


def set_frame_interval(seq, interval_ms: float) -> None:
    """Remember the user's answer (frame interval in ms) on the sequence, so they are asked once per cine."""
    interval = float(interval_ms)
    if not np.isfinite(interval) or interval <= 0 or interval > 2000:
        raise InputError(f"frame interval {interval_ms} ms is not plausible (expected 1-2000 ms)")
    seq.SetAttribute(FRAME_INTERVAL, repr(interval))


def interval_from_answer(rr_interval_ms: Optional[float] = None, frame_rate_hz: Optional[float] = None,
                         phases: int = 0) -> float:
    """Frame interval from what the user typed: the RR interval (ms, over ``phases`` frames) or the frame rate."""
    if frame_rate_hz:
        return 1000.0 / float(frame_rate_hz)
    if rr_interval_ms and phases:
        return float(rr_interval_ms) / phases
    raise InputError("give the RR interval (ms) or the frame rate (frames/s)")


def _index_values(seq) -> np.ndarray:
    values = []
    for n in range(seq.GetNumberOfDataNodes()):
        try:
            values.append(float(seq.GetNthIndexValue(n)))
        except ValueError as exc:
            raise InputError(f"the sequence index {seq.GetNthIndexValue(n)!r} is not a number") from exc
    return np.asarray(values, dtype=np.float64)


def _acquisition_times(seq, count: int) -> Optional[np.ndarray]:
    tag = seq.GetAttribute("MultiVolume.FrameIdentifyingDICOMTagName") or ""
    labels = seq.GetAttribute("MultiVolume.FrameLabels") or ""
    unit = (seq.GetAttribute("MultiVolume.FrameIdentifyingDICOMTagUnits") or "ms").strip().lower()
    if tag not in _TIME_TAGS or not labels or unit not in _UNIT_SCALE:
        return None
    try:
        times = np.asarray([float(v) for v in labels.split(",")], dtype=np.float64) * _UNIT_SCALE[unit]
    except ValueError:
        return None
    if times.size != count or np.any(np.diff(times) <= 0):
        return None
    return times - times[0]


def frame_times_ms(seq) -> tuple:
    """``(frame times in ms, where they came from)`` for a volume sequence.

    Raises:
        FrameTimesUnknown: frame numbers only, no acquisition times and no frame interval given yet.
        InputError: an index unit that is not time.
    """
    n = seq.GetNumberOfDataNodes()
    if n == 0:
        raise InputError("the volume sequence is empty")
    values = _index_values(seq)
    unit = (seq.GetIndexUnit() or "").strip().lower()
    if unit in _UNIT_SCALE:
        return values * _UNIT_SCALE[unit], f"index values ({seq.GetIndexUnit()})"
    if unit not in ("", "frame", "frames", "#"):
        raise InputError(f"the sequence index unit {seq.GetIndexUnit()!r} is not a time (ms or s)")
    acquired = _acquisition_times(seq, n)
    if acquired is not None:
        return acquired, "DICOM " + seq.GetAttribute("MultiVolume.FrameIdentifyingDICOMTagName")
    interval = seq.GetAttribute(FRAME_INTERVAL)
    if interval:
        return np.arange(n) * float(interval), f"frame interval {float(interval):.1f} ms (given by the user)"
    raise FrameTimesUnknown(
        f"'{seq.GetName()}' is indexed by frame number with no time unit and no acquisition times: "
        "give the RR interval or the frame rate")


def parse_timing_answer(text: str, phases: int) -> float:
    """The frame interval (ms) from what the user typed when asked: ``"850"`` or ``"850 ms"`` is the RR
    interval over ``phases`` frames; ``"25 fps"`` / ``"25 Hz"`` is the frame rate.

    Raises:
        InputError: nothing usable typed.
    """
    import re

    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]*)?)\s*(ms|fps|hz|/s)?\s*", (text or "").lower())
    if not match:
        raise InputError(f"'{text}' is neither an RR interval in ms (e.g. 850) nor a frame rate (e.g. 25 fps)")
    value, unit = float(match.group(1)), match.group(2) or "ms"
    if value <= 0:
        raise InputError("the RR interval / frame rate must be positive")
    if unit == "ms":
        return interval_from_answer(rr_interval_ms=value, phases=phases)
    return interval_from_answer(frame_rate_hz=value)
