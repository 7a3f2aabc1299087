"""cardiacmotion info IMAGE [--json] [--series S]

On a DICOM folder it first lists every study/series found (patient, study date, series number and
description, orientation, slices x phases, modality); a folder with several cine series is listed
and refused (exit 2) until ``--series`` chooses one. Then: what was read, and the ED/ES phases the
other commands would use.
"""
from __future__ import annotations

import argparse
import json
import sys

from cardiacmotion.cli.common import add_common, add_series
from cardiacmotion.errors import InputError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("info", help="studies and series found, what was read (shape, geometry, frame times), ED/ES")
    p.add_argument("image", help="NIfTI, DICOM folder, AVI/MP4, MHD or .seq.nrrd")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--list", action="store_true", help="only list the studies/series of a DICOM folder (exit 0)")
    p.add_argument("--modality", default="auto", help="auto|mr|echo")
    p.add_argument("--spacing", type=float, nargs="+", help="pixel spacing (mm) for AVI/MP4")
    add_common(p)
    add_series(p)
    p.set_defaults(func=run)


def series_table(infos) -> str:
    """The series of a DICOM folder as a fixed-width table (``#`` is what ``--series`` takes)."""
    head = ("#", "patient", "date", "series", "description", "orientation", "slices x phases", "modality", "folder / note")
    rows = []
    for s in infos:
        note = s.folder if s.problem is None else f"{s.folder}: not a cine ({s.problem})"
        rows.append(("-" if s.index is None else str(s.index), s.patient_id or "?", s.study_date or "?",
                     s.series_number or "?", s.description or "", s.orientation or "", f"{s.slices} x {s.phases}",
                     s.modality, note))
    widths = [max(len(r[c]) for r in rows + [head]) for c in range(len(head) - 1)]
    lines = []
    for r in [head] + rows:
        lines.append("  ".join(v.ljust(w) for v, w in zip(r[:-1], widths)) + "  " + r[-1])
    return "\n".join(lines)


def _phases(cine) -> dict:
    from cardiacmotion.propagation.autostart import estimate_ed_es

    try:
        return estimate_ed_es(cine)
    except InputError as exc:
        return {"ed_phase": None, "es_phase": None, "ed_source": f"unknown ({exc})", "es_source": None}


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from cardiacmotion.cine import optional_modality
    from cardiacmotion.io import read_image

    infos = None
    if Path(args.image).is_dir():
        from cardiacmotion.io.dicom import list_series, several_series_message

        infos = list_series(args.image)
        n_cine = sum(s.index is not None for s in infos)
        if args.list:
            print(json.dumps({"series": [s.to_dict() for s in infos]}) if args.json else series_table(infos))
            return 0
        if n_cine > 1 and args.series is None:
            # the table for a person; with --json stdout stays empty on an error (use --list)
            if not args.json:
                print(series_table(infos))
            print(f"cardiacmotion: error: {several_series_message(args.image, infos)}", file=sys.stderr)
            return InputError.exit_code
    cine = read_image(args.image, modality=optional_modality(args.modality), spacing=args.spacing, series=args.series)
    info = cine.describe()
    phases = _phases(cine)
    info.update(phases)
    if infos is not None:
        info["series"] = [s.to_dict() for s in infos]
    if args.json:
        print(json.dumps(info))
        return 0
    if infos is not None:
        print(series_table(infos))
    s = info["shape"]
    meta = cine.meta
    who = " ".join(x for x in (meta.get("series_number") and f"series {meta['series_number']}",
                               meta.get("series_description")) if x)
    print(f"{args.image}: {cine.modality} {cine.view}" + (f" ({who})" if who else ""))
    print(f"  phases x slices x rows x columns: {s['phases']} x {s['slices']} x {s['rows']} x {s['columns']}")
    print(f"  spacing (mm, i j k): {' '.join(f'{v:.4g}' for v in info['spacing_mm'])}")
    print("  IJK->RAS:")
    for row in info["ijk_to_ras"]:
        print("    " + " ".join(f"{v:10.4f}" for v in row))
    ft = cine.frame_times_ms
    print(f"  frame times (ms): {ft[0]:.1f} .. {ft[-1]:.1f} ({len(ft)} frames)")
    numbers = meta.get("instance_numbers")
    if numbers and len(numbers) > 1:
        # the engine orders slices along the slice normal, which may run against the DICOM numbering
        first, last = numbers[0], numbers[-1]
        print(f"  slice order: slice 0 = DICOM images {min(first)}-{max(first)}, slice {len(numbers) - 1} = "
              f"DICOM images {min(last)}-{max(last)}")
    if phases.get("ed_phase") is not None:
        print(f"  ED phase: {phases['ed_phase']} ({phases['ed_source']})")
    else:
        print(f"  ED phase: {phases.get('ed_source')}")
    if phases.get("es_phase") is not None:
        print(f"  ES phase: {phases['es_phase']} ({phases['es_source']})")
    return 0
