"""How the product's propagation does on independently generated MR hearts (evaluation only).

``python -m cardiacmotion.independent.baseline [--n 20] [--methods registration memory] [-o OUT.json]``

Each heart is seeded with its mid ED slice only (the case's own ``seed``); the whole 4D
segmentation is scored against the truth labels (Dice per label pooled over all phases and
slices) and run through ``cardiacmotion.function`` over all slices (EF, EDV, ESV errors).
"""
from __future__ import annotations

import argparse
import json
import time
from typing import Sequence

import numpy as np

from cardiacmotion.independent.case import IndependentCase
from cardiacmotion.independent.mr import generate_mr

LABELS = {"LV": 3, "Myo": 2, "RV": 1}


def dice(a: np.ndarray, b: np.ndarray) -> float:
    """Dice of two boolean arrays (1.0 when both are empty)."""
    s = int(a.sum()) + int(b.sum())
    return 1.0 if s == 0 else 2.0 * float((a & b).sum()) / s


def seed_set(case: IndependentCase):
    """The case's single seeded slice as the propagation's ``SeedSet``."""
    from cardiacmotion.propagation.order import SeedSet

    labels = np.zeros(case.image.array.shape, np.uint8)
    labels[case.seed_phase] = case.seed.array[0]
    seeded = np.zeros(case.image.array.shape[:2], bool)
    seeded[case.seed_phase] = case.seed.array[0].reshape(case.image.slices, -1).any(axis=1)
    return SeedSet(labels=labels, seeded=seeded)


def score_case(case: IndependentCase, method: str) -> dict:
    """Dice per label and function errors of one propagation run on ``case``."""
    from cardiacmotion.function.report import compute_function
    from cardiacmotion.propagation.segment import segment_cine

    t0 = time.process_time()
    seg, info = segment_cine(case.image, seeds=seed_set(case), method=method, device="cpu")
    cpu = time.process_time() - t0
    truth = case.labels.array
    row = {name: dice(seg.array == v, truth == v) for name, v in LABELS.items()}
    for name, v in LABELS.items():
        for phase, key in ((case.truth["ed_phase"], "ED"), (case.truth["es_phase"], "ES")):
            row[f"{name}_{key}"] = dice(seg.array[phase] == v, truth[phase] == v)
    f = compute_function(seg)
    t = case.truth
    row.update({
        "method_used": info["method"], "cpu_s": cpu,
        "ef": f["lv_ef_pct"], "ef_truth": t["lv_ef_pct"], "ef_error": f["lv_ef_pct"] - t["lv_ef_pct"],
        "edv_error_ml": f["lv_edv_ml"] - t["lv_edv_ml"], "esv_error_ml": f["lv_esv_ml"] - t["lv_esv_ml"],
        "pathology": t["pathology"],
    })
    return row


def measure(seeds: Sequence[int], methods: Sequence[str]) -> dict:
    """Per-method means over the independent hearts ``seeds`` (and every per-case row)."""
    rows: dict[str, list] = {m: [] for m in methods}
    for s in seeds:
        case = generate_mr(int(s))
        for m in methods:
            r = score_case(case, m)
            r["seed"] = int(s)
            rows[m].append(r)
    out: dict = {"generator": "cardiacmotion.independent", "cases": len(seeds), "seed_slice": "mid ED slice only"}
    for m, rs in rows.items():
        summary = {k: float(np.mean([r[k] for r in rs])) for k in LABELS}
        summary.update({f"{k}_{p}": float(np.mean([r[f"{k}_{p}"] for r in rs])) for k in LABELS for p in ("ED", "ES")})
        summary["ef_mae"] = float(np.mean([abs(r["ef_error"]) for r in rs]))
        summary["ef_bias"] = float(np.mean([r["ef_error"] for r in rs]))
        summary["edv_mae_ml"] = float(np.mean([abs(r["edv_error_ml"]) for r in rs]))
        summary["esv_mae_ml"] = float(np.mean([abs(r["esv_error_ml"]) for r in rs]))
        summary["cpu_s_per_case"] = float(np.mean([r["cpu_s"] for r in rs]))
        out[m] = {"summary": summary, "per_case": rs}
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20, help="hearts (seeds 0..n-1)")
    ap.add_argument("--first", type=int, default=0, help="first seed")
    ap.add_argument("--methods", nargs="+", default=["registration", "memory"])
    ap.add_argument("-o", "--output", default=None, help="write the full JSON here")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    res = measure(range(args.first, args.first + args.n), args.methods)
    for m in args.methods:
        s = res[m]["summary"]
        print(f"{m:13s} Dice LV {s['LV']:.3f} Myo {s['Myo']:.3f} RV {s['RV']:.3f} | EF MAE {s['ef_mae']:.1f} "
              f"bias {s['ef_bias']:+.1f} | EDV MAE {s['edv_mae_ml']:.1f} ml ESV MAE {s['esv_mae_ml']:.1f} ml")
    if args.output:
        with open(args.output, "w") as fh:
            json.dump(res, fh, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
