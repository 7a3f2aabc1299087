"""cardiacmotion analyze IMAGE -o OUTDIR [--seed ... | --landmarks ... | --auto]

Exit codes: 0 everything written; 5 partial: the segmentation, function and (when possible) the
scene were written but a later step (wall-motion scoring, figures, scene) could not run -- the
summary's ``skipped`` says which and why; 2 bad input, 3 method unavailable, 4 weights.
"""
from __future__ import annotations

import argparse

from cardiacmotion.cli.common import add_common, add_series, make_progress, say
from cardiacmotion.cli.cmd_segment import add_start_options, resolve_start

#: exit status of a run that wrote its core results but skipped a later step
EXIT_PARTIAL = 5


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("analyze", help="segment + function + score + figures + a Slicer scene (scene.mrb)")
    p.add_argument("image", help="NIfTI, DICOM folder, AVI/MP4, MHD or .seq.nrrd")
    p.add_argument("-o", "--output", required=True, help="output folder")
    p.add_argument("--seed", help="seed label map (3D MR seed phase, 2D echo frame, 4D corrected phases, or a Slicer .seg.nrrd)")
    add_start_options(p)
    p.add_argument("--ed-phase", type=int, help="end-diastolic phase for function and scoring (default: from the volume curve)")
    p.add_argument("--es-phase", type=int, help="end-systolic phase for function and scoring (default: from the volume curve)")
    p.add_argument("--modality", default="auto", help="auto|mr|echo")
    p.add_argument("--spacing", type=float, nargs="+", help="pixel spacing (mm) for AVI/MP4")
    p.add_argument("--method", default="auto", choices=["auto", "memory", "registration", "fusion"], help="propagation method")
    p.add_argument("--score-method", default="auto", choices=["auto", "learned", "thickening"])
    p.add_argument("--no-scene", action="store_true", help="skip scene.mrb and the Slicer view snapshots")
    p.add_argument("--extent", default="plane", choices=["plane", "ring", "off"],
                   help="MR: per-phase LV extent after propagation (valve plane fit, basal rule per phase, or off)")
    p.add_argument("--basal-limit", metavar="K|PHASE:K,...",
                   help="MR: most basal slice counted as LV, for every phase or per phase")
    p.add_argument("--apical-limit", metavar="K|PHASE:K,...",
                   help="MR: most apical slice counted as LV, for every phase or per phase")
    add_common(p)
    add_series(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from cardiacmotion.analyze import analyze
    from cardiacmotion.cine import optional_modality
    from cardiacmotion.errors import InputError
    from cardiacmotion.function.slices import parse_limits
    from cardiacmotion.io import read_image
    from cardiacmotion.io.outputs import check_output

    check_output(args.output, [args.image, args.seed, args.landmarks], folder=True)
    image = read_image(args.image, modality=optional_modality(args.modality), spacing=args.spacing, series=args.series)
    for name in ("ed_phase", "es_phase"):
        value = getattr(args, name)
        if value is not None and not 0 <= value < image.phases:
            raise InputError(f"--{name.replace('_', '-')} {value} is outside 0..{image.phases - 1}")
    basal = parse_limits(args.basal_limit, image.phases)
    apical = parse_limits(args.apical_limit, image.phases)
    seeds, landmarks, seed_phase, notes = resolve_start(args, image)
    summary = analyze(image, args.output, seeds=seeds, landmarks=landmarks, method=args.method,
                      score_method=args.score_method, device=args.device, progress=make_progress(args),
                      scene=not args.no_scene, seed_phase=seed_phase, ed_phase=args.ed_phase, es_phase=args.es_phase,
                      extent=args.extent, basal_limit=basal, apical_limit=apical)
    f = summary["function"]
    line = f"{args.output}: LV EF {f['lv_ef_pct']:.1f} % (EDV {f['lv_edv_ml']:.1f} ml, ESV {f['lv_esv_ml']:.1f} ml)"
    if summary.get("motion_score_index") is not None:
        line += f", MSI {summary['motion_score_index']:.2f}"
    say(args, line)
    for note in notes:  # after the work: a failure's stderr stays one line
        say(args, f"  note: {note}")
    auto = summary.get("segmentation", {}).get("auto_start")
    if auto:
        say(args, f"  automatic start: LV on slice {auto['seed_slice']}, seed phase {auto['seed_phase']}, "
            f"confidence {auto['confidence']:.2f} (check views/ and landmarks.mrk.json)")
    for note in summary["notes"]:
        say(args, f"  note: {note}")
    if summary.get("skipped"):
        for step, why in summary["skipped"].items():
            say(args, f"  skipped {step}: {why}")
        say(args, f"  partial result (exit {EXIT_PARTIAL}): segmentation and function were written")
        return EXIT_PARTIAL
    return 0
