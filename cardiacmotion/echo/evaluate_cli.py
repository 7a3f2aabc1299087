"""``cardiacmotion evaluate echo``: the echo methods side by side on the same clips (see :mod:`cardiacmotion.echo.harness`)."""
from __future__ import annotations

import argparse
import sys

from cardiacmotion.errors import InputError


def add_echo_target(evaluate_parser: argparse.ArgumentParser) -> None:
    """Add the ``echo`` target to the ``evaluate`` sub-command's targets."""
    from cardiacmotion.cli.common import add_common

    actions = [a for a in evaluate_parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not actions:
        return
    p = actions[0].add_parser("echo", help="echo methods side by side (Dice, HD95, landmarks, EF, ED/ES, frames/s)")
    p.add_argument("--phantom-per-view", type=int, default=3, help="held-out training-phantom clips per view")
    p.add_argument("--first-seed", type=int, default=9000, help="first held-out phantom seed")
    p.add_argument("--independent-per-view", type=int, default=0, help="clips per view of the independent echo generator")
    p.add_argument("--independent-first-seed", type=int, default=0)
    p.add_argument("--methods", default="memory,registration,tan,tan-auto,sscf,pkecho", help="comma-separated methods")
    p.add_argument("--weights", help="TAN weights (default: bundled)")
    p.add_argument("--frames", type=int, help="phantom clip length (default: the phantom's 30-80)")
    p.add_argument("--randomize", type=float, default=0.0, metavar="F",
                   help="share of the held-out phantom clips re-imaged by the echo domain randomisation (robustness check)")
    p.add_argument("--json-out", help="write rows and summary as JSON")
    p.add_argument("--cache", help="folder caching the generated clips between runs")
    p.add_argument("--write-evidence", action="store_true",
                   help="record the echo auto choice (memory/fusion vs registration on the independent clips) in models.json")
    add_common(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from cardiacmotion.echo import harness

    torch.set_num_threads(1)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in methods if m not in harness.RUNNERS]
    if unknown:
        raise InputError(f"unknown echo method {unknown[0]!r} (known: {', '.join(harness.RUNNERS)})")
    log = (lambda m: print(m, file=sys.stderr, flush=True))
    groups = []
    if args.phantom_per_view > 0:
        opts = {"frames": args.frames} if args.frames else {}
        clips = harness.phantom_clips(args.first_seed, args.phantom_per_view, args.cache, randomize=args.randomize, **opts)
        groups.append(("held-out training-phantom clips", clips))
    if args.independent_per_view > 0:
        try:
            clips = harness.independent_clips(args.independent_first_seed, args.independent_per_view, args.cache)
        except ImportError:
            raise InputError("the independent echo generator (cardiacmotion.independent) is not installed") from None
        groups.append(("independent echo generator clips", clips))
    if not groups:
        raise InputError("no clips: give --phantom-per-view and/or --independent-per-view")
    result = {}
    for title, clips in groups:
        res = harness.evaluate(clips, methods, args.weights, log)
        result[title] = res
        print(harness.table(res["summary"], f"{title} ({len(clips)})"))
        print()
    if args.json_out:
        from cardiacmotion.cli.common import write_json

        write_json(result, args.json_out)
    if getattr(args, "write_evidence", False):
        _write_evidence(result, args, methods)
    return 0


def _write_evidence(result: dict, args: argparse.Namespace, methods: list) -> None:
    from cardiacmotion.evaluation.evidence import choose_echo_propagation, write_echo_evidence

    record = choose_echo_propagation(result)
    if record is None:
        raise InputError("--write-evidence needs registration on independent clips (--independent-per-view N)")
    cmd = (f"cardiacmotion evaluate echo --phantom-per-view {args.phantom_per_view} --independent-per-view "
           f"{args.independent_per_view} --methods {','.join(methods)} --write-evidence")
    write_echo_evidence(record, {"command": cmd, "device": "cpu"})
    print(f"echo auto: {record['choice']} (eligible {', '.join(record['eligible'])}; mean Dice "
          + ", ".join(f"{m} {v}" for m, v in record["mean_dice"].items()) + ")", file=sys.stderr)
