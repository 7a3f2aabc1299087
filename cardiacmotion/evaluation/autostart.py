"""``cardiacmotion evaluate autostart``: how often the automatic start succeeds.

Runs :func:`~cardiacmotion.propagation.autostart.auto_seed` (no user input at all) on hearts of the
independent test generator (:mod:`cardiacmotion.independent`, evaluation only: nothing in the
automatic start is tuned on it) and, when the shared data are there, on the real studies against
the expert ED contour of the seed slice.

A start **succeeds** when the LV is found (no error), the seed's LV cavity Dice against the truth
of its slice and phase is at least ``--success-dice`` (0.80), its myocardium Dice at least
``--success-myo`` (0.50, a ring rather than a blob), and the seed phase is within one phase of
the true ED (cyclically). Success rate, Dice medians and minima, and every heart's row are reported.
With ``--echo-phantom``/``--echo-independent`` it also measures the echo automatic start
(:mod:`cardiacmotion.propagation.echo_autostart`): seed-frame Dice and whole-clip Dice after propagation.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Optional

import numpy as np

from cardiacmotion.errors import InputError

HELP = "automatic start (no input): success rate on independent-generator hearts, seed Dice on real studies"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--hearts", type=int, default=20, help="independent-generator MR hearts (seeds 0..N-1)")
    p.add_argument("--first-seed", type=int, default=0, help="first independent-generator seed")
    p.add_argument("--real", default="", help="real studies too, comma-separated (SCD0000101,SCD0000201,porcine)")
    p.add_argument("--data-root", default=None, help="folder with sunnybrook/ and ep-preclinical/ (default ../shared/data)")
    p.add_argument("--success-dice", type=float, default=0.80, help="seed LV cavity Dice a success needs")
    p.add_argument("--success-myo", type=float, default=0.50, help="seed myocardium Dice a success needs")
    p.add_argument("--echo-phantom", default="", help="echo: training-phantom clip seeds, comma-separated (held out: 9100,...)")
    p.add_argument("--echo-independent", type=int, default=0, help="echo: independent-generator clips (seeds 0..N-1)")
    p.add_argument("--echo-method", default="registration",
                   help="echo: propagate each automatic seed with this method and report whole-clip Dice ('' seed only)")
    p.add_argument("--json", default=None, help="write every number (per heart too) as JSON here")


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    s = int(a.sum()) + int(b.sum())
    return 0.0 if s == 0 else 2.0 * float((a & b).sum()) / s


def judge(seeds, report: dict, truth_slice: np.ndarray, true_ed: Optional[int], phases: int,
          success_dice: float = 0.80, success_myo: float = 0.50) -> dict:
    """One automatic start against the truth labels (MR values) of its seed slice and phase."""
    ph, k = int(report["seed_phase"]), int(report["seed_slice"])
    s = seeds.labels[ph, k]
    row = {"seed_phase": ph, "seed_slice": k, "confidence": report.get("confidence"),
           "lv_dice": round(_dice(s == 3, truth_slice == 3), 4), "myo_dice": round(_dice(s == 2, truth_slice == 2), 4)}
    if (truth_slice == 1).any():
        row["rv_dice"] = round(_dice(s == 1, truth_slice == 1), 4)
    phase_ok = True
    if true_ed is not None:
        off = abs(ph - int(true_ed)) % phases
        row["ed_offset"] = int(min(off, phases - off))
        phase_ok = row["ed_offset"] <= 1
    row["success"] = bool(row["lv_dice"] >= success_dice and row["myo_dice"] >= success_myo and phase_ok)
    return row


def independent_heart(seed: int, success_dice: float = 0.80, success_myo: float = 0.50) -> dict:
    """The automatic start on independent-generator MR heart ``seed`` (a failure row when no LV is found)."""
    from cardiacmotion import independent
    from cardiacmotion.propagation.autostart import auto_seed

    case = independent.generate_mr(seed)
    true_ed = int(case.truth.get("ed_phase", case.seed_phase))
    t0 = time.perf_counter()
    try:
        seeds, landmarks, report = auto_seed(case.image)
    except InputError as exc:
        return {"heart": seed, "success": False, "error": str(exc), "seconds": round(time.perf_counter() - t0, 2)}
    truth = np.asarray(case.labels.array)
    row = judge(seeds, report, truth[report["seed_phase"], report["seed_slice"]], true_ed, case.image.phases,
                success_dice, success_myo)
    centre = np.rint(case.image.ras_to_ijk_points(np.asarray(landmarks["LV center"])[None])[0]).astype(int)
    row["centre_in_cavity"] = bool(truth[report["seed_phase"], report["seed_slice"], centre[1], centre[0]] == 3)
    row.update(heart=seed, seconds=round(time.perf_counter() - t0, 2))
    return row


def real_study(name: str, data_root: Path) -> dict:
    """The automatic start on a shared real study, against the expert contour of the seed slice.

    Sunnybrook: seeded at the expert's ED phase (its last contoured phase); porcine: at the estimate.
    """
    from cardiacmotion.io.sunnybrook import load_porcine, load_sunnybrook
    from cardiacmotion.propagation.autostart import auto_seed

    if name == "porcine":
        cine, labels, _endo, epi = load_porcine(data_root / "ep-preclinical")
        ed = None
    else:
        contours = {"SCD0000101": "SC-HF-I-1", "SCD0000201": "SC-HF-I-2"}[name]
        cine, labels, _endo, epi = load_sunnybrook(data_root / "sunnybrook" / name, data_root / "sunnybrook" / "contours" / contours)
        ed = int(np.flatnonzero(epi.any(axis=1))[-1])
    seeds, _landmarks, report = auto_seed(cine, ed)
    row = judge(seeds, report, labels[report["seed_phase"], report["seed_slice"]], None, cine.phases)
    row.update(study=name, expert_contoured=bool(epi[report["seed_phase"], report["seed_slice"]]))
    return row


def echo_clip(source: str, seed: int, method: str = "registration") -> dict:
    """The echo automatic start on one clip: seed-frame Dice, and whole-clip Dice after ``method``."""
    from cardiacmotion.propagation.echo_autostart import echo_auto_seed

    if source == "phantom":
        from cardiacmotion.propagation.evaluate import case

        image, truth, _seeds, _landmarks, _src = case("echo", seed)
    else:
        from cardiacmotion import independent

        clip = independent.generate_echo(seed)
        image, truth = clip.image, np.asarray(clip.labels.array)
    row: dict = {"source": source, "clip": seed}
    try:
        seeds, _landmarks, report = echo_auto_seed(image)
    except InputError as exc:
        return {**row, "error": str(exc)}
    ph = int(report["seed_phase"])
    s, t = seeds.labels[ph, 0], truth[ph, 0]
    row.update(seed_phase=ph, seed_lv_dice=round(_dice(s == 1, t == 1), 4), seed_myo_dice=round(_dice(s == 2, t == 2), 4))
    if method:
        from cardiacmotion.propagation.segment import segment_cine

        seg, _info = segment_cine(image, seeds=seeds, method=method, device="cpu")
        a = np.asarray(seg.array)
        row.update(method=method, clip_lv_dice=round(_dice(a == 1, truth == 1), 4), clip_myo_dice=round(_dice(a == 2, truth == 2), 4))
    return row


def summarise(rows: list) -> dict:
    """Success rate and Dice statistics over rows of :func:`independent_heart`."""
    ok = [r for r in rows if "lv_dice" in r]
    out = {"hearts": len(rows), "successes": sum(r["success"] for r in rows)}
    out["success_rate"] = round(out["successes"] / max(len(rows), 1), 4)
    for key in ("lv_dice", "myo_dice"):
        vals = [r[key] for r in ok]
        if vals:
            out[f"{key}_median"] = round(float(np.median(vals)), 4)
            out[f"{key}_min"] = round(float(np.min(vals)), 4)
    out["failed"] = [r["heart"] for r in rows if not r["success"]]
    return out


def run(args: argparse.Namespace) -> int:
    rows = []
    for seed in range(args.first_seed, args.first_seed + args.hearts):
        row = independent_heart(seed, args.success_dice, args.success_myo)
        rows.append(row)
        print(json.dumps(row), flush=True)
    result = {"definition": f"LV found, seed LV Dice >= {args.success_dice}, myocardium >= {args.success_myo}, "
                            "seed phase within 1 of the true ED",
              "independent": summarise(rows), "per_heart": rows}
    if args.real:
        root = Path(args.data_root) if args.data_root else Path("../shared/data")
        if not root.is_dir():
            print(f"error: no shared data at {root}", file=sys.stderr)
            return 2
        result["real"] = [real_study(name.strip(), root) for name in args.real.split(",") if name.strip()]
    clips = [("phantom", int(v)) for v in args.echo_phantom.split(",") if v.strip()]
    clips += [("independent", n) for n in range(args.echo_independent)]
    if clips:
        result["echo"] = []
        for source, seed in clips:
            result["echo"].append(echo_clip(source, seed, args.echo_method))
            print(json.dumps(result["echo"][-1]), flush=True)
    print(json.dumps({k: v for k, v in result.items() if k != "per_heart"}, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n")
    return 0
