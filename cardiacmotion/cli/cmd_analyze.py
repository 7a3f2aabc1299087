"""cardiacmotion analyze IMAGE -o OUTDIR [--seed ...] [--landmarks ...]"""
from __future__ import annotations

import argparse

from cardiacmotion.cli.common import add_common, add_series, make_progress, say


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("analyze", help="segment + function + score + figures + a Slicer scene (scene.mrb)")
    p.add_argument("image", help="NIfTI, DICOM folder, AVI/MP4, MHD or .seq.nrrd")
    p.add_argument("-o", "--output", required=True, help="output folder")
    p.add_argument("--seed", help="seed label map (3D MR seed phase, 2D echo frame, or 4D corrected phases)")
    p.add_argument("--seed-phase", type=int, help="phase of a 3D seed / of the landmark slice (default 0)")
    p.add_argument("--landmarks", help="Slicer markups JSON with the three landmarks")
    p.add_argument("--modality", default="auto", help="auto|mr|echo")
    p.add_argument("--spacing", type=float, nargs="+", help="pixel spacing (mm) for AVI/MP4")
    p.add_argument("--method", default="auto", choices=["auto", "memory", "registration", "fusion"], help="propagation method")
    p.add_argument("--score-method", default="auto", choices=["auto", "learned", "thickening"])
    p.add_argument("--no-scene", action="store_true", help="skip scene.mrb and the Slicer view snapshots")
    add_common(p)
    add_series(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from cardiacmotion.analyze import analyze
    from cardiacmotion.cine import optional_modality
    from cardiacmotion.errors import InputError
    from cardiacmotion.io import check_not_input, load_seed, match_landmarks, read_image
    from cardiacmotion.io.markups import read_markups

    check_not_input(args.output, [args.image, args.seed, args.landmarks])
    image = read_image(args.image, modality=optional_modality(args.modality), spacing=args.spacing, series=args.series)
    seeds = load_seed(args.seed, image, seed_phase=args.seed_phase) if args.seed else None
    landmarks = match_landmarks(read_markups(args.landmarks), image) if args.landmarks else None
    if seeds is None and landmarks is None:
        raise InputError("give a seed (--seed) or three landmarks (--landmarks)")
    summary = analyze(image, args.output, seeds=seeds, landmarks=landmarks, method=args.method,
                      score_method=args.score_method, device=args.device, progress=make_progress(args),
                      scene=not args.no_scene, seed_phase=args.seed_phase)
    f = summary["function"]
    line = f"{args.output}: LV EF {f['lv_ef_pct']:.1f} % (EDV {f['lv_edv_ml']:.1f} ml, ESV {f['lv_esv_ml']:.1f} ml)"
    if summary.get("motion_score_index") is not None:
        line += f", MSI {summary['motion_score_index']:.2f}"
    say(args, line)
    for note in summary["notes"]:
        say(args, f"  note: {note}")
    return 0
