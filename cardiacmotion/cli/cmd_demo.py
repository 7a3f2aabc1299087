"""cardiacmotion demo [-o OUTDIR]: synthetic MR and echo cases through analyze, checked against their truth."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from cardiacmotion.cli.common import add_common, make_progress, say


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="synthetic MR and echo cases through analyze, compared with their truth")
    p.add_argument("-o", "--output", default="demo-output", help="output folder (default demo-output)")
    p.add_argument("--seed", type=int, default=7, help="phantom seed")
    p.add_argument("--method", default="auto", choices=["auto", "memory", "registration", "fusion"])
    p.add_argument("--no-scene", action="store_true", help="skip scene.mrb and the Slicer view snapshots")
    add_common(p)
    p.set_defaults(func=run)


def _dice(a, b) -> float:
    s = int(a.sum()) + int(b.sum())
    return 1.0 if s == 0 else 2.0 * int((a & b).sum()) / s


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from cardiacmotion.analyze import analyze
    from cardiacmotion.io import seed_from_cine
    from cardiacmotion.phantom import make_echo_case, make_mr_case
    from cardiacmotion.progress import sub_progress

    out = Path(args.output)
    if out.exists() and not out.is_dir():
        from cardiacmotion.errors import InputError

        raise InputError(f"-o {out}: exists and is a file, not a folder")
    out.mkdir(parents=True, exist_ok=True)
    progress = make_progress(args)
    cases = [("mr", lambda: make_mr_case(args.seed)), ("echo_a4c", lambda: make_echo_case(args.seed, view="A4C"))]
    report = {}
    for n, (name, make) in enumerate(cases):
        step = sub_progress(progress, n / len(cases), (n + 1) / len(cases))
        step(0.0, f"{name}: making the phantom")
        case = make()
        case.save(out / name / "input")
        seeds = seed_from_cine(case.seed, case.image, case.seed_phase)
        summary = analyze(case.image, out / name / "analysis", seeds=seeds, landmarks=case.landmarks,
                          method=args.method, device=args.device, progress=sub_progress(step, 0.1, 1.0),
                          scene=not args.no_scene, seed_phase=case.seed_phase)
        from cardiacmotion.io import read_labels

        seg = read_labels(out / name / "analysis" / "segmentation.nii.gz").array
        truth = case.truth
        lv = 3 if case.image.modality == "MR" else 1
        entry = {
            "method": summary["segmentation"].get("method"),
            "lv_dice": round(_dice(seg == lv, case.labels.array == lv), 4),
            "myo_dice": round(_dice(seg == 2, case.labels.array == 2), 4),
            "lv_ef_pct": summary["function"]["lv_ef_pct"],
            "truth_lv_ef_pct": truth.get("lv_ef_pct"),
            "seconds": summary["seconds"].get("segment"),
        }
        if case.image.modality == "MR":
            entry["rv_dice"] = round(_dice(seg == 1, case.labels.array == 1), 4)
            entry["motion_score_index"] = summary.get("motion_score_index")
            entry["truth_motion_score_index"] = truth.get("motion_score_index")
        report[name] = entry
        say(args, f"{name}: {json.dumps(entry)}")
    (out / "demo_report.json").write_text(json.dumps(report, indent=2, default=float) + "\n")
    say(args, f"demo outputs in {out}/ (open */analysis/scene.mrb in 3D Slicer)")
    return 0
