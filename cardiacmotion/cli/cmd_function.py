"""``cardiacmotion function``: volume curves, ED/ES, EF, LV mass and rates from a 4D segmentation.

Writes FUNCTION.json, the per-phase CSV beside it (same stem) and optionally the curve PNG.
"""
from __future__ import annotations

import argparse

from cardiacmotion.cli.common import add_common, add_series, make_progress, say
from cardiacmotion.errors import InputError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "function",
        help="volume curves, EF, mass from a segmentation",
        description=(
            "LV/RV volume curves, ED/ES, EDV/ESV/SV/EF, LV mass and peak ejection/filling rates from a 4D "
            "segmentation: MR by disc summation over slices, echo by the method of discs (biplane with --a2c). "
            "The CSV is written next to the JSON. MR: the JSON's lv_slices_per_phase (and the CSV's lv_slices) "
            "list the slices counted as LV per phase; --basal-limit/--apical-limit set them."
        ),
    )
    p.add_argument("seg", metavar="SEG", help="4D segmentation (labels per DESIGN: MR ACDC, echo CAMUS)")
    p.add_argument("-o", "--output", required=True, metavar="FUNCTION.json", help="output JSON (CSV beside it)")
    p.add_argument("--image", help="the image the segmentation belongs to (frame times, modality, view)")
    p.add_argument("--modality", default="auto", choices=["auto", "mr", "echo", "us"], help="override the modality")
    p.add_argument("--landmarks", metavar="LM.mrk.json", help="echo: Apex and mitral annulus points (long axis); or the per-frame JSON of segment --landmarks-out (tracked axis)")
    p.add_argument("--plot", metavar="CURVE.png", help="write the volume-curve figure")
    p.add_argument("--a2c", metavar="SEG2", help="echo: segmentation of the other apical view of the same heart (biplane)")
    p.add_argument("--a2c-landmarks", metavar="LM2.mrk.json", help="echo: landmarks of the --a2c view")
    p.add_argument("--ed-phase", type=int, help="ED phase from trigger times (default: largest LV volume)")
    p.add_argument("--es-phase", type=int, help="ES phase from trigger times (default: smallest LV volume)")
    p.add_argument("--basal-limit", metavar="K|PHASE:K,...",
                   help="MR: most basal slice counted as LV (slice index), for every phase ('3') or per phase "
                        "('0:2,8:3'); the LV beyond it is not counted")
    p.add_argument("--apical-limit", metavar="K|PHASE:K,...",
                   help="MR: most apical slice counted as LV, for every phase or per phase")
    add_common(p)
    add_series(p)
    p.set_defaults(func=run)


def _read_landmarks(path: str):
    """Markups (same points every frame) or the tracked per-frame JSON of ``segment --landmarks-out``."""
    import json

    from cardiacmotion.io.markups import read_markups

    try:
        doc = json.loads(open(path).read())
    except (OSError, ValueError):
        doc = None
    if isinstance(doc, dict) and "landmarks_per_frame" in doc:
        from cardiacmotion.echo.tan_segment import read_tracked_landmarks

        return read_tracked_landmarks(path)
    return read_markups(path)


def run(args: argparse.Namespace) -> int:
    from cardiacmotion.cine import optional_modality
    from cardiacmotion.function import compute_function, csv_path_for, write_function_outputs
    from cardiacmotion.io import check_not_input, read_image, read_labels
    from cardiacmotion.io.markups import read_markups

    progress = make_progress(args)
    inputs = [args.seg, args.image, args.landmarks, args.a2c, args.a2c_landmarks]
    from cardiacmotion.io.outputs import OutputGuard, check_outputs

    check_not_input(args.output, inputs)  # the most important refusal first
    if not str(args.output).lower().endswith(".json"):
        raise InputError(f"the output must be a .json file (the CSV is written beside it), got {args.output}")
    if args.plot and not str(args.plot).lower().endswith(".png"):
        raise InputError(f"--plot must name a .png file, got {args.plot}")
    check_outputs([(args.output, "-o", (".json",)), (csv_path_for(args.output), "the CSV beside -o", (".csv",)),
                   (args.plot, "--plot", (".png",))], inputs)
    if args.a2c_landmarks and not args.a2c:
        raise InputError("--a2c-landmarks needs --a2c (the second view's segmentation)")
    modality = optional_modality(args.modality)
    progress(0.05, "reading the segmentation")
    seg = read_labels(args.seg, modality=modality)
    if args.image:
        image = read_image(args.image, series=args.series)
        if not image.same_grid(seg) or image.phases != seg.phases:
            raise InputError(
                f"the segmentation {args.seg} is not on the grid of the image {args.image} "
                f"(shapes {tuple(seg.array.shape)} vs {tuple(image.array.shape)})"
            )
        seg.frame_times_ms = image.frame_times_ms.copy()
        seg.view = image.view or seg.view
        seg.meta.update({k: image.meta[k] for k in ("rr_interval_ms", "trigger_times_reliable") if k in image.meta})
        if modality is None:
            seg.modality = image.modality
    landmarks = _read_landmarks(args.landmarks) if args.landmarks else None
    if landmarks is not None and seg.modality == "MR":
        say(args, "note: landmarks are not used for MR function (disc summation needs none)")
        landmarks = None
    second = None
    if args.a2c:
        if seg.modality != "US":
            raise InputError("--a2c (biplane) applies to echo segmentations only")
        seg2 = read_labels(args.a2c, modality="US")
        if not seg2.view or seg2.view == seg.view:
            seg2.view = "A2C"
        lm2 = read_markups(args.a2c_landmarks) if args.a2c_landmarks else None
        second = (seg2, lm2)
    from cardiacmotion.function.slices import parse_limits

    basal = parse_limits(args.basal_limit, seg.phases)
    apical = parse_limits(args.apical_limit, seg.phases)
    progress(0.3, "computing volumes")
    result = compute_function(
        seg, landmarks_per_frame=landmarks, second_view=second, ed_phase=args.ed_phase, es_phase=args.es_phase,
        basal_limit=basal, apical_limit=apical,
    )
    progress(0.8, "writing outputs")
    with OutputGuard([args.output, csv_path_for(args.output), args.plot]):  # all three or none
        write_function_outputs(result, args.output, args.plot, inputs=inputs)
    progress(1.0, "done")
    ef = result["lv_ef_pct"]
    say(
        args,
        f"LV EDV {result['lv_edv_ml']:.1f} ml, ESV {result['lv_esv_ml']:.1f} ml, EF {ef:.1f} % "
        f"(ED phase {result['ed_phase']}, ES phase {result['es_phase']})",
    )
    for w in result["warnings"]:
        say(args, f"warning: {w}")
    return 0
