"""cardiacmotion phantom mr|echo -o DIR [--seed N] [--view A4C|A2C] [--wall-motion ...]"""
from __future__ import annotations

import argparse
from pathlib import Path

from cardiacmotion.cli.common import add_common, make_progress, say
from cardiacmotion.errors import InputError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "phantom",
        help="synthetic cine MR / echo with exact ground truth",
        description="Write a synthetic case (image.nii.gz, labels.nii.gz, seed.nii.gz, landmarks.mrk.json, "
        "truth.json) into DIR.",
    )
    p.add_argument("kind", choices=["mr", "echo", "independent-mr", "independent-echo"],
                   help="mr: short-axis cine stack; echo: apical video; independent-*: the independent "
                   "test generator (evaluation only, never for training)")
    p.add_argument("-o", "--output", required=True, help="output folder (created if missing)")
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same case)")
    p.add_argument("--view", default="A4C", type=str.upper, choices=["A4C", "A2C"], help="echo view")
    p.add_argument(
        "--wall-motion",
        default=None,
        help="MR wall motion: random (default), balanced, normal, hypokinetic, akinetic, dyskinetic, "
        "or 16 comma-separated AHA scores 1-4",
    )
    add_common(p)
    p.set_defaults(func=run)


def _wall_motion(value):
    if value is None:
        return None
    if "," in value:
        try:
            return [int(v) for v in value.split(",")]
        except ValueError as exc:
            raise InputError(f"--wall-motion: {value!r} is not 16 comma-separated scores") from exc
    return value


def run(args: argparse.Namespace) -> int:
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise InputError(f"output {out} exists and is not a folder")
    if args.seed < 0:
        raise InputError("--seed must be a non-negative integer")
    progress = make_progress(args)
    progress(0.0, f"building a synthetic {args.kind} case (seed {args.seed})")
    if args.kind.startswith("independent-"):
        if args.wall_motion is not None:
            raise InputError("--wall-motion applies to the training MR phantom only")
        from cardiacmotion import independent

        if args.kind == "independent-mr":
            case = independent.generate_mr(args.seed)
        else:
            case = independent.generate_echo(args.seed, view=args.view)
    elif args.kind == "mr":
        from cardiacmotion.phantom.mr import make_mr_case

        case = make_mr_case(args.seed, wall_motion=_wall_motion(args.wall_motion))
    else:
        if args.wall_motion is not None:
            raise InputError("--wall-motion applies to the MR phantom only")
        from cardiacmotion.phantom.echo import make_echo_case

        case = make_echo_case(args.seed, view=args.view)
    progress(0.8, "writing")
    case.save(out)
    progress(1.0, "done")
    t = case.truth
    say(args, f"wrote {out}: {case.image.phases} phases x {case.image.slices} slices, "
              f"EDV {t['lv_edv_ml']:.1f} ml, ESV {t['lv_esv_ml']:.1f} ml, EF {t['lv_ef_pct']:.1f} %")
    return 0
