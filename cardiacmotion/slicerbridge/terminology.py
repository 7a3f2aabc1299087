"""Segment names, colours and SNOMED-CT terminology for the cardiac labels (DESIGN section 3)."""
from __future__ import annotations

from dataclasses import dataclass

#: Slicer terminology context the entries are expressed in, and the DICOM anatomic context.
CONTEXT = "Segmentation category and type - DICOM master list"
ANATOMIC_CONTEXT = "Anatomic codes - DICOM master list"

ANATOMICAL_STRUCTURE = ("SCT", "123037004", "Anatomical Structure")
TISSUE = ("SCT", "85756007", "Tissue")
#: Slicer's DICOM master list has no "Myocardium" type among the heart structures: the myocardium is the
#: "Muscle" tissue type with the left ventricle as anatomic region (both in Slicer's lists).
MUSCLE = ("SCT", "71616004", "Muscle")
LEFT_VENTRICLE = ("SCT", "87878005", "Left ventricle")
RIGHT_VENTRICLE = ("SCT", "53085002", "Right ventricle")
LEFT_ATRIUM = ("SCT", "82471001", "Left atrium")
MYOCARDIUM = ("SCT", "74281007", "Myocardium")  # recognised in older scenes, no longer written


def _code(c: tuple = ()) -> str:
    return "^".join(c) if c else "^^"


def terminology_entry(type_code: tuple, region: tuple = (), category: tuple = ANATOMICAL_STRUCTURE) -> str:
    """Slicer's serialised terminology entry ``context~category~type~modifier~anatomicContext~region~modifier``."""
    return "~".join(
        [CONTEXT, _code(category), _code(type_code), _code(), ANATOMIC_CONTEXT, _code(region), _code()]
    )


@dataclass(frozen=True)
class SegmentSpec:
    """One cardiac segment: label value, segment id and name, colour (0-1 RGB) and terminology."""

    label: int
    segment_id: str
    name: str
    color: tuple
    terminology: str


_LV = SegmentSpec(0, "LV_cavity", "LV cavity", (0.85, 0.25, 0.25), terminology_entry(LEFT_VENTRICLE))
_MYO = SegmentSpec(0, "LV_myocardium", "LV myocardium", (0.95, 0.75, 0.30), terminology_entry(MUSCLE, LEFT_VENTRICLE, TISSUE))
_RV = SegmentSpec(0, "RV_cavity", "RV cavity", (0.25, 0.45, 0.90), terminology_entry(RIGHT_VENTRICLE))
_LA = SegmentSpec(0, "Left_atrium", "Left atrium", (0.45, 0.80, 0.45), terminology_entry(LEFT_ATRIUM))


def _with_label(spec: SegmentSpec, label: int) -> SegmentSpec:
    return SegmentSpec(label, spec.segment_id, spec.name, spec.color, spec.terminology)


#: MR (ACDC labels) and echo (CAMUS labels), in label order.
MR_SEGMENTS = (_with_label(_RV, 1), _with_label(_MYO, 2), _with_label(_LV, 3))
US_SEGMENTS = (_with_label(_LV, 1), _with_label(_MYO, 2), _with_label(_LA, 3))


def segment_specs(modality: str) -> tuple:
    """The segments of ``modality`` ('MR' or 'US'), in label order."""
    return MR_SEGMENTS if str(modality).upper() == "MR" else US_SEGMENTS
