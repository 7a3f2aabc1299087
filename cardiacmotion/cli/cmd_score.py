"""cardiacmotion score IMAGE --seg SEG --landmarks LM.mrk.json -o SCORES.json [--method ...] [--bullseye PNG]"""
from __future__ import annotations

import argparse

from cardiacmotion.cli.common import add_common, add_series, make_progress, say, write_json
from cardiacmotion.errors import InputError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("score", help="AHA wall-motion scores (16 segments), motion score index and bullseye")
    p.add_argument("image", help="short-axis cine MR (NIfTI, DICOM folder, .seq.nrrd, MHD)")
    p.add_argument("--seg", required=True, help="4D segmentation on the image grid (ACDC labels)")
    p.add_argument("--landmarks", required=True, help="markups JSON with RV anterior insertion, RV inferior insertion, LV center")
    p.add_argument("-o", "--output", required=True, help="SCORES.json to write")
    p.add_argument("--method", default="auto", choices=["auto", "learned", "thickening"],
                   help="auto (the scorer models.json records as better on held-out evidence; without a record learned "
                        "when the MMSA weights load and apply, else thickening), learned, thickening")
    p.add_argument("--weights", help="MMSA checkpoint for --method learned/auto (default: the bundled mmsa-v0.2.0)")
    p.add_argument("--bullseye", help="write the score bullseye PNG here")
    p.add_argument("--thickening-bullseye", help="write the thickening %% bullseye PNG here")
    p.add_argument("--ed-phase", type=int, help="end-diastolic phase (default: largest LV cavity in the half cycle before ES)")
    p.add_argument("--es-phase", type=int, help="end-systolic phase (default: smallest LV cavity)")
    p.add_argument("--normal-pct", type=float, default=30.0, help="thickening above this is normal (default 30)")
    p.add_argument("--akinetic-pct", type=float, default=10.0, help="thickening below this is akinetic (default 10)")
    p.add_argument("--dyskinetic-thinning-pct", type=float, default=5.0,
                   help="systolic thinning beyond this is dyskinetic (default 5)")
    p.add_argument("--dyskinetic-outward-mm", type=float, default=1.0,
                   help="outward endocardial motion beyond this is dyskinetic (default 1.0 mm; --rule thickening)")
    p.add_argument("--rule", default="combined", choices=["combined", "thickening"],
                   help="training-free rule: combined (thickening and endocardial shortening, normalised to the "
                        "heart's best-moving segments; default) or thickening (thickening alone)")
    add_common(p)
    add_series(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from cardiacmotion.io import read_image, read_labels
    from cardiacmotion.io.markups import read_markups

    from cardiacmotion.io.outputs import OutputGuard, check_outputs

    inputs = [args.image, args.seg, args.landmarks]
    check_outputs([(args.output, "-o", (".json",)), (args.bullseye, "--bullseye", (".png",)),
                   (args.thickening_bullseye, "--thickening-bullseye", (".png",))], inputs)
    progress = make_progress(args)
    progress(0.0, "reading")
    image = read_image(args.image, modality="MR", series=args.series)
    seg = read_labels(args.seg, modality="MR")
    if not image.same_grid(seg) or image.phases != seg.phases:
        raise InputError(f"{args.seg} is not on the grid of {args.image} (shape, phases or geometry differ)")
    landmarks = read_markups(args.landmarks)
    progress(0.3, "scoring")
    from cardiacmotion.scoring.thickening import Thresholds

    thresholds = Thresholds(
        normal_pct=args.normal_pct,
        akinetic_pct=args.akinetic_pct,
        dyskinetic_thinning_pct=args.dyskinetic_thinning_pct,
        dyskinetic_outward_mm=args.dyskinetic_outward_mm,
        rule=args.rule,
    )
    # auto follows the held-out evidence recorded in models.json (analyze.score_segmentation); without a
    # record it prefers the learned scorer, with thickening as the fallback
    from cardiacmotion.analyze import score_segmentation
    from cardiacmotion.device import resolve_device

    device = resolve_device(args.device) if args.method != "thickening" else "cpu"
    scores = score_segmentation(image, seg, landmarks, method=args.method, ed_phase=args.ed_phase,
                                es_phase=args.es_phase, weights=args.weights, device=device, thresholds=thresholds)
    if scores.get("weights_note"):
        say(args, scores["weights_note"])
    if scores.get("method_note"):
        say(args, scores["method_note"])
    elif scores.get("method") == "learned":
        say(args, f"learned wall-motion scoring (MMSA) on {device}")
    progress(0.8, "writing")
    with OutputGuard([args.output, args.bullseye, args.thickening_bullseye]):  # all or none
        write_json(scores, args.output)
        if args.bullseye or args.thickening_bullseye:
            from cardiacmotion.scoring.bullseye import write_score_bullseye, write_thickening_bullseye

            if args.bullseye:
                write_score_bullseye(scores, args.bullseye)
            if args.thickening_bullseye:
                write_thickening_bullseye(scores, args.thickening_bullseye)
    progress(1.0, "done")
    say(args, f"MSI {scores['motion_score_index']:.2f}, abnormal segments: {scores['abnormal_segments'] or 'none'}")
    return 0
