"""Slicer markups JSON (``.mrk.json``): named control points, stored in LPS, returned in RAS."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Mapping, Union

import numpy as np

from cardiacmotion.cine import lps_to_ras_points, ras_to_lps_points
from cardiacmotion.errors import InputError

SCHEMA = (
    "https://raw.githubusercontent.com/slicer/slicer/master/Modules/Loadable/Markups/Resources/Schema/"
    "markups-schema-v1.0.3.json#"
)

#: Landmark names exactly as the control-point labels (DESIGN section 3).
MR_LANDMARKS = ("RV anterior insertion", "RV inferior insertion", "LV center")
ECHO_LANDMARKS = ("Apex", "Mitral annulus septal", "Mitral annulus lateral")


def read_markups(path: Union[str, Path]) -> dict[str, np.ndarray]:
    """Return ``{label: RAS point (3,)}`` for every defined control point of the first markups node."""
    from cardiacmotion.io.schema import MARKUPS, find_error, parse_json

    p = Path(path)
    if not p.is_file():
        raise InputError(f"no such landmarks file: {path}")
    try:
        doc = parse_json(p.read_bytes(), "the text")
    except (InputError, OSError) as exc:
        raise InputError(f"{path} is not a Slicer markups JSON file ({exc})"[:300]) from None
    reason = find_error(doc, MARKUPS)
    if reason:
        raise InputError(f"{path} is not a Slicer markups JSON file: {reason}")
    node = doc["markups"][0]
    points = node.get("controlPoints", [])
    system = str(node.get("coordinateSystem", "LPS")).upper()
    if system not in ("LPS", "RAS"):
        raise InputError(f"{path}: unknown coordinate system {system!r}")
    out: dict[str, np.ndarray] = {}
    for cp in points:
        if cp.get("positionStatus", "defined") != "defined":
            continue
        if "position" not in cp:
            raise InputError(f"{path}: control point {cp.get('label', '?')!r} has no position")
        pos = np.asarray(cp["position"], dtype=np.float64).reshape(3)
        out[str(cp.get("label", ""))] = lps_to_ras_points(pos) if system == "LPS" else pos
    return out


def markups_document(points: Mapping[str, np.ndarray], unplaced: tuple[str, ...] = ()) -> dict:
    """A markups JSON document (LPS) for RAS points; ``unplaced`` names are added undefined."""
    cps = []
    for n, (label, ras) in enumerate(points.items(), start=1):
        lps = ras_to_lps_points(np.asarray(ras, dtype=np.float64).reshape(3))
        cps.append(_control_point(n, label, [float(v) for v in lps], "defined"))
    for n, label in enumerate(unplaced, start=len(cps) + 1):
        cps.append(_control_point(n, label, [0.0, 0.0, 0.0], "undefined"))
    return {
        "@schema": SCHEMA,
        "markups": [
            {
                "type": "Fiducial",
                "coordinateSystem": "LPS",
                "coordinateUnits": "mm",
                "locked": False,
                "fixedNumberOfControlPoints": False,
                "labelFormat": "%N-%d",
                "lastUsedControlPointNumber": len(cps),
                "controlPoints": cps,
                "measurements": [],
            }
        ],
    }


def _control_point(n: int, label: str, lps: list, status: str) -> dict:
    return {
        "id": str(n),
        "label": label,
        "description": "",
        "associatedNodeID": "",
        "position": lps,
        "orientation": [-1.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, 1.0],
        "selected": True,
        "locked": False,
        "visibility": True,
        "positionStatus": status,
    }


def write_markups(points: Mapping[str, np.ndarray], path: Union[str, Path]) -> None:
    """Write RAS points as a Slicer markups JSON file (LPS on disk), atomically."""
    from cardiacmotion.io.atomic import atomic_output

    with atomic_output(path) as tmp:
        Path(tmp).write_text(json.dumps(markups_document(points), indent=2) + "\n")
