"""cardiacmotion info IMAGE [--json]"""
from __future__ import annotations

import argparse
import json

from cardiacmotion.cli.common import add_common


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("info", help="what was read from an image: shape, geometry, frame times")
    p.add_argument("image", help="NIfTI, DICOM folder, AVI/MP4, MHD or .seq.nrrd")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--modality", default="auto", help="auto|mr|echo")
    p.add_argument("--spacing", type=float, nargs="+", help="pixel spacing (mm) for AVI/MP4")
    add_common(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from cardiacmotion.cine import optional_modality
    from cardiacmotion.io import read_image

    cine = read_image(args.image, modality=optional_modality(args.modality), spacing=args.spacing)
    info = cine.describe()
    if args.json:
        print(json.dumps(info))
    else:
        s = info["shape"]
        print(f"{args.image}: {cine.modality} {cine.view}")
        print(f"  phases x slices x rows x columns: {s['phases']} x {s['slices']} x {s['rows']} x {s['columns']}")
        print(f"  spacing (mm, i j k): {' '.join(f'{v:.4g}' for v in info['spacing_mm'])}")
        print("  IJK->RAS:")
        for row in info["ijk_to_ras"]:
            print("    " + " ".join(f"{v:10.4f}" for v in row))
        ft = cine.frame_times_ms
        print(f"  frame times (ms): {ft[0]:.1f} .. {ft[-1]:.1f} ({len(ft)} frames)")
    return 0
