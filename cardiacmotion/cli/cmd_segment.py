"""cardiacmotion segment IMAGE -o SEG.nii.gz [--seed SEED] [--seed-phase K] [--landmarks LM.mrk.json] ..."""
from __future__ import annotations

import argparse

import numpy as np

from cardiacmotion.cli.common import add_common, add_series, make_progress, say
from cardiacmotion.errors import InputError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("segment", help="segment every phase and slice from a seed or three landmarks")
    p.add_argument("image", help="NIfTI, DICOM folder, AVI/MP4, MHD or .seq.nrrd")
    p.add_argument("-o", "--output", required=True, help="output label map (.nii.gz or .seq.nrrd)")
    p.add_argument("--seed", help="seed label map on the image grid (3D MR phase, 2D echo frame, or 4D)")
    add_start_options(p)
    p.add_argument("--modality", default="auto", help="auto|mr|echo")
    p.add_argument("--method", default="auto", choices=["auto", "memory", "registration", "fusion", "tan", "sscf", "pkecho"],
                   help="propagation method (auto: the one models.json records as best on held-out evidence; "
                        "tan: echo, Temporal Affine Network from three landmarks, a seed, or --auto; "
                        "sscf: echo, automatic, no seed; pkecho: echo, automatic, no seed, fastest)")
    p.add_argument("--weights", help="checkpoint for the memory method (default: the bundled weights)")
    p.add_argument("--spacing", type=float, nargs="+", help="pixel spacing (mm) for AVI/MP4")
    p.add_argument("--info-json", help="also write what was done (method, device, time) as JSON")
    p.add_argument("--landmarks-out", help="tan: write the tracked landmarks per frame (JSON, RAS; usable by 'function --landmarks') "
                   "and the first frame's points as <stem>.mrk.json beside it")
    p.add_argument("--extent", default="plane", choices=["plane", "ring", "off"],
                   help="MR: per-phase LV extent after propagation (valve plane fit, basal rule per phase, or off)")
    add_common(p)
    add_series(p)
    p.set_defaults(func=run)


def add_start_options(p: argparse.ArgumentParser) -> None:
    """How a study is started: a seed, landmarks, or nothing (automatic); shared with ``analyze``."""
    p.add_argument("--seed-phase", type=int, default=None,
                   help="phase of a single-phase seed, of the landmarks or of the automatic seed "
                        "(default: the ED phase `cardiacmotion info` shows)")
    p.add_argument("--seed-slice", type=int, default=None,
                   help="only this slice of the seed counts; a 2D seed file (rows x columns) is placed on it")
    p.add_argument("--landmarks", help="Slicer markups JSON with the three landmarks (used when no --seed)")
    p.add_argument("--landmarks-ijk", metavar="'k,j,i;k,j,i;k,j,i'",
                   help="the three landmarks as voxel indices (slice,row,column), in the order "
                        "RV anterior insertion; RV inferior insertion; LV center (echo: apex; annulus septal; annulus lateral)")
    p.add_argument("--auto", action="store_true",
                   help="automatic start: find the LV and build the ED seed and landmarks (the default without seed and landmarks)")


def landmarks_from_ijk(text: str, image) -> dict:
    """``"k,j,i;k,j,i;k,j,i"`` -> ``{name: RAS}`` in the modality's landmark order."""
    from cardiacmotion.io.markups import ECHO_LANDMARKS, MR_LANDMARKS

    names = MR_LANDMARKS if image.modality == "MR" else ECHO_LANDMARKS
    try:
        pts = [[float(v) for v in part.split(",")] for part in text.strip().strip(";").split(";")]
    except ValueError:
        raise InputError(f"--landmarks-ijk {text!r}: expected three 'k,j,i' triples separated by ';'") from None
    if len(pts) != 3 or any(len(x) != 3 for x in pts) or not np.all(np.isfinite(pts)):
        raise InputError(f"--landmarks-ijk {text!r}: expected three 'k,j,i' triples separated by ';' ({'; '.join(names)})")
    kji = np.asarray(pts)
    ras = image.ijk_to_ras_points(kji[:, ::-1])
    return {n: ras[i] for i, n in enumerate(names)}


def resolve_start(args: argparse.Namespace, image) -> tuple:
    """``(seeds, landmarks, seed_phase, notes)`` from the start options; both None = automatic."""
    from cardiacmotion.io import match_landmarks

    given = [x for x, on in (("--seed", args.seed), ("--landmarks", args.landmarks),
                             ("--landmarks-ijk", getattr(args, "landmarks_ijk", None))) if on]
    if getattr(args, "auto", False) and given:
        raise InputError(f"--auto builds its own seed and landmarks; drop {' and '.join(given)} or --auto")
    if args.landmarks and getattr(args, "landmarks_ijk", None):
        raise InputError("give --landmarks or --landmarks-ijk, not both")
    notes = []
    seed_phase = args.seed_phase
    if seed_phase is None and image.modality == "MR" and image.slices > 1 and (args.seed or given):
        from cardiacmotion.propagation.autostart import estimate_ed_es

        est = estimate_ed_es(image)
        seed_phase = int(est["ed_phase"])
        notes.append(f"seed phase {seed_phase}: the ED estimate ({est['ed_source']}); --seed-phase overrides it")
    landmarks = None
    if args.landmarks:
        landmarks = match_landmarks(args.landmarks, image)
    elif getattr(args, "landmarks_ijk", None):
        landmarks = match_landmarks(landmarks_from_ijk(args.landmarks_ijk, image), image)
    seeds = None
    if args.seed:
        from cardiacmotion.io.seeds import load_seed_file

        seeds = load_seed_file(args.seed, image, seed_phase, getattr(args, "seed_slice", None))
    elif getattr(args, "seed_slice", None) is not None:
        raise InputError("--seed-slice chooses a slice of --seed; give the seed too")
    return seeds, landmarks, seed_phase, notes


def run(args: argparse.Namespace) -> int:
    from cardiacmotion.cine import optional_modality
    from cardiacmotion.io import atomic_output, read_image, write_image
    from cardiacmotion.propagation.segment import segment_cine

    from cardiacmotion.io.outputs import IMAGE_SUFFIXES, OutputGuard, check_outputs

    check_outputs([(args.output, "-o", IMAGE_SUFFIXES), (args.info_json, "--info-json", (".json",)),
                   (args.landmarks_out, "--landmarks-out", (".json",))],
                  [args.image, args.seed, args.landmarks])
    progress = make_progress(args)
    progress(0.0, "reading")
    image = read_image(args.image, modality=optional_modality(args.modality), spacing=args.spacing, series=args.series)
    seeds, points, seed_phase, notes = resolve_start(args, image)
    seg, info = segment_cine(
        image, seeds=seeds, landmarks=points, method=args.method, device=args.device,
        progress=progress.sub(0.02, 0.97), weights=args.weights, seed_phase=seed_phase, extent=args.extent,
    )
    progress(0.98, "writing")
    with OutputGuard([args.output, args.info_json, args.landmarks_out]):  # both or none
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
    for note in notes:  # after the work: a failure's stderr stays one line
        say(args, note)
    if info.get("message"):
        say(args, info["message"])
    if info.get("auto_start"):
        rep = info["auto_start"]
        say(args, f"automatic start: LV found on slice {rep['seed_slice']}, ED phase {rep['seed_phase']} "
            f"({rep['ed_source']}), confidence {rep['confidence']:.2f}")
        for note in rep["notes"]:
            say(args, f"  note: {note}")
    say(args, f"segmented {image.phases} phases x {image.slices} slices with {info['method']} on {info['device']} "
        f"in {info['seconds']:.1f} s -> {args.output}")
    return 0
