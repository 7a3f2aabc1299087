"""cardiacmotion landmarks IMAGE -o LM.mrk.json: the automatic MR landmarks, for the user to check.

Writes the three short-axis landmarks (``RV anterior insertion``, ``RV inferior insertion``,
``LV center``; with ``--modality echo`` the apex and the two annulus points of an apical clip) the
automatic start finds, as a Slicer markups file: open it over the image in
Slicer, move the points where needed, save, and give it to ``segment``/``analyze --landmarks``.
"""
from __future__ import annotations

import argparse
import json

import numpy as np

from cardiacmotion.cli.common import add_common, add_series, say


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("landmarks", help="write the automatic short-axis landmarks (Slicer markups) for checking")
    p.add_argument("image", help="short-axis cine MR: DICOM folder, NIfTI, MHD or .seq.nrrd")
    p.add_argument("-o", "--output", required=True, help="output markups file (.mrk.json)")
    p.add_argument("--phase", type=int, default=None, help="phase to place them on (default: the ED estimate)")
    p.add_argument("--json", action="store_true", help="also print where they were found as JSON")
    p.add_argument("--modality", default="mr", choices=("mr", "echo", "auto"),
                   help="mr (default): short-axis stack; echo: an apical clip (apex and annulus from the moving cavity)")
    add_common(p)
    add_series(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from cardiacmotion.cine import optional_modality
    from cardiacmotion.io import check_not_input, read_image
    from cardiacmotion.io.markups import write_markups
    from cardiacmotion.propagation.autostart import auto_seed

    check_not_input(args.output, [args.image])
    image = read_image(args.image, modality=optional_modality(getattr(args, "modality", "mr")), series=args.series)
    _seeds, landmarks, report = auto_seed(image, args.phase)
    write_markups(landmarks, args.output)
    ijk = image.ras_to_ijk_points(np.asarray(list(landmarks.values()), float))
    if args.json:
        print(json.dumps({**report, "landmarks_ijk": {n: [round(float(v), 2) for v in p[::-1]]
                                                         for n, p in zip(landmarks, ijk)}}))
    say(args, f"{args.output}: slice {report['seed_slice']}, phase {report['seed_phase']} "
        f"({report['ed_source']}), confidence {report['confidence']:.2f}")
    for n, p in zip(landmarks, ijk):
        say(args, f"  {n}: k,j,i = {p[2]:.0f},{p[1]:.0f},{p[0]:.0f}")
    for note in report["notes"]:
        say(args, f"  note: {note}")
    return 0
