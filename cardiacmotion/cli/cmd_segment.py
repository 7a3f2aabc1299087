"""cardiacmotion segment IMAGE -o SEG.nii.gz [--seed SEED] [--seed-phase K] [--landmarks LM.mrk.json] ..."""
from __future__ import annotations

import argparse

import numpy as np

from cardiacmotion.cli.common import add_common, make_progress, say
from cardiacmotion.errors import InputError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("segment", help="segment every phase and slice from a seed or three landmarks")
    p.add_argument("image", help="NIfTI, DICOM folder, AVI/MP4, MHD or .seq.nrrd")
    p.add_argument("-o", "--output", required=True, help="output label map (.nii.gz or .seq.nrrd)")
    p.add_argument("--seed", help="seed label map on the image grid (3D MR phase, 2D echo frame, or 4D)")
    p.add_argument("--seed-phase", type=int, default=None, help="phase index of a single-phase seed or of the landmarks (default 0)")
    p.add_argument("--landmarks", help="Slicer markups JSON with the three landmarks (used when no --seed)")
    p.add_argument("--modality", default="auto", help="auto|mr|echo")
    p.add_argument("--method", default="auto", choices=["auto", "memory", "registration", "fusion", "tan", "sscf"],
                   help="propagation method (tan: echo, Temporal Affine Network from three landmarks, a seed, or --auto; "
                   "sscf: echo, automatic, no seed)")
    p.add_argument("--weights", help="checkpoint for the memory method (default: the bundled weights)")
    p.add_argument("--spacing", type=float, nargs="+", help="pixel spacing (mm) for AVI/MP4")
    p.add_argument("--info-json", help="also write what was done (method, device, time) as JSON")
    p.add_argument("--landmarks-out", help="tan: write the tracked landmarks per frame (JSON, RAS; usable by 'function --landmarks') "
                   "and the first frame's points as <stem>.mrk.json beside it")
    p.add_argument("--auto", action="store_true", help="tan: fully automatic (ignore landmarks; estimate them on the first frame)")
    add_common(p)
    p.set_defaults(func=run)


def _load_seed(path: str, image, seed_phase):
    try:
        from cardiacmotion.io.seeds import load_seed
    except ImportError:  # before the seeds API: same-grid label maps only
        from cardiacmotion.io import read_labels
        from cardiacmotion.propagation.order import SeedSet

        seed = read_labels(path, modality=image.modality)
        if not image.same_grid(seed):
            raise InputError(f"{path} is not on the image grid")
        labels = np.zeros(image.array.shape, np.uint8)
        if seed.phases == 1:
            ph = 0 if seed_phase is None else seed_phase
            if not 0 <= ph < image.phases:
                raise InputError(f"seed phase {ph} is outside the image's {image.phases} phases")
            labels[ph] = seed.array[0]
        elif seed.phases == image.phases:
            labels[:] = seed.array
        else:
            raise InputError(f"{path} has {seed.phases} phases; expected 1 or {image.phases}")
        return SeedSet(labels=labels, seeded=labels.reshape(image.phases, image.slices, -1).any(axis=2))
    return load_seed(path, image, seed_phase)


def _load_landmarks(path: str, image):
    try:
        from cardiacmotion.io.seeds import match_landmarks
    except ImportError:
        from cardiacmotion.io.markups import read_markups

        return read_markups(path)
    return match_landmarks(path, image)


def run(args: argparse.Namespace) -> int:
    from cardiacmotion.cine import optional_modality
    from cardiacmotion.io import atomic_output, check_not_input, read_image, write_image
    from cardiacmotion.propagation.segment import segment_cine

    if not args.seed and not args.landmarks and not (args.method == "tan" and args.auto) and args.method != "sscf":
        raise InputError("give a seed (--seed SEED.nii.gz) or three landmarks (--landmarks LM.mrk.json)")
    check_not_input(args.output, [args.image, args.seed, args.landmarks])
    if args.landmarks_out:
        check_not_input(args.landmarks_out, [args.image, args.seed, args.landmarks, args.output])
    if args.info_json:
        check_not_input(args.info_json, [args.image, args.seed, args.landmarks, args.output])
    progress = make_progress(args)
    progress(0.0, "reading")
    image = read_image(args.image, modality=optional_modality(args.modality), spacing=args.spacing)
    seeds = _load_seed(args.seed, image, args.seed_phase) if args.seed else None
    points = None if seeds is not None or not args.landmarks else _load_landmarks(args.landmarks, image)
    if args.method == "tan" and args.auto:
        seeds, points = None, None
    seg, info = segment_cine(
        image, seeds=seeds, landmarks=points, method=args.method, device=args.device,
        progress=progress.sub(0.02, 0.97), weights=args.weights, seed_phase=args.seed_phase,
    )
    progress(0.98, "writing")
    with atomic_output(args.output) as tmp:
        write_image(seg, tmp)
    if args.info_json:
        from cardiacmotion.cli.common import write_json

        write_json(info, args.info_json)
    if args.landmarks_out and "landmarks_per_frame" in info:
        from cardiacmotion.echo.tan_segment import write_tracked_landmarks

        out = str(args.landmarks_out)
        write_tracked_landmarks(info, out, (out[:-5] if out.endswith(".json") else out) + ".mrk.json")
    progress(1.0, "done")
    if info.get("message"):
        say(args, info["message"])
    say(args, f"segmented {image.phases} phases x {image.slices} slices with {info['method']} on {info['device']} "
        f"in {info['seconds']:.1f} s -> {args.output}")
    return 0
