"""Measure the per-phase LV extent step on synthetic hearts (issue 16).

Each case is propagated once with the extent step off (registration by default, seeded on its mid ED
slice as ``segment`` would be), then the step is applied and compared with the truth:

- ``es_match`` / ``all_match``: the fraction of (slice, phase) pairs at ES / at every phase where the
  step's "slice counted as LV" agrees with the truth (a slice counts when its labels hold LV cavity);
- ``ef`` / ``edv`` / ``esv``: what ``cardiacmotion function`` reports (all slices) against the truth;
- Dice of LV cavity, myocardium and RV over every frame.

Usage::

    python -m cardiacmotion.evaluation.extent_check --source phantom --seeds 300-311
    python -m cardiacmotion.evaluation.extent_check --source independent --seeds 0-19   # evaluation only

Tune only on training-phantom seeds; the independent generator is for evaluation.
"""
from __future__ import annotations

import argparse
import json
from typing import Optional, Sequence

import numpy as np


def _case(source: str, seed: int, options: Optional[dict] = None):
    if source == "phantom":
        from cardiacmotion.phantom import make_mr_case

        return make_mr_case(seed, **(options or {}))
    from cardiacmotion import independent

    return independent.generate_mr(seed, **(options or {}))


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    s = int(a.sum()) + int(b.sum())
    return float("nan") if s == 0 else 2.0 * float((a & b).sum()) / s


def measure_case(source: str, seed: int, method: str = "registration", mode: str = "plane",
                 options: Optional[dict] = None) -> dict:
    """One case: propagation without the step, then the step (``mode``), scored against the truth."""
    from cardiacmotion.function import compute_function
    from cardiacmotion.propagation.extent import lv_extent
    from cardiacmotion.propagation.order import SeedSet
    from cardiacmotion.propagation.segment import segment_cine

    pc = _case(source, seed, options)
    image = pc.image
    seed_arr = pc.seed.array[0]
    labels = np.zeros(image.array.shape, np.uint8)
    labels[pc.seed_phase] = seed_arr
    seeded = np.zeros(image.array.shape[:2], bool)
    seeded[pc.seed_phase] = seed_arr.reshape(seed_arr.shape[0], -1).any(axis=1)
    raw, _ = segment_cine(image, SeedSet(labels=labels, seeded=seeded), method=method, device="cpu", extent="off")
    lab, _ = lv_extent(image, raw.array, seeded, mode=mode)
    truth = np.asarray(pc.labels.array)
    fn = compute_function(image.with_array(lab))
    ours, true = (lab == 3).any(axis=(2, 3)), (truth == 3).any(axis=(2, 3))
    es = int(pc.truth["es_phase"])
    return {
        "seed": int(seed), "base_descent_mm": float(pc.truth["base_descent_mm"]),
        "slice_spacing_mm": float(pc.truth["slice_spacing_mm"]),
        "es_pairs": int(true.shape[1]), "es_agree": int((ours[es] == true[es]).sum()),
        "all_pairs": int(true.size), "all_agree": int((ours == true).sum()),
        "ef": float(fn["lv_ef_pct"]), "ef_true": float(pc.truth["lv_ef_pct"]),
        "edv_error_pct": 100.0 * (float(fn["lv_edv_ml"]) / float(pc.truth["lv_edv_ml"]) - 1.0),
        "esv_error_pct": 100.0 * (float(fn["lv_esv_ml"]) / float(pc.truth["lv_esv_ml"]) - 1.0),
        "dice": {name: _dice(lab == v, truth == v) for name, v in (("LV", 3), ("Myo", 2), ("RV", 1))},
    }


def summarise(rows: Sequence[dict]) -> dict:
    """Pooled slice agreement, mean/max |EF error|, mean/max |EDV| and |ESV| errors, mean Dice."""
    ef = np.array([abs(r["ef"] - r["ef_true"]) for r in rows])
    edv = np.abs([r["edv_error_pct"] for r in rows])
    esv = np.abs([r["esv_error_pct"] for r in rows])
    return {
        "cases": len(rows),
        "es_match": round(sum(r["es_agree"] for r in rows) / sum(r["es_pairs"] for r in rows), 4),
        "all_match": round(sum(r["all_agree"] for r in rows) / sum(r["all_pairs"] for r in rows), 4),
        "ef_abs_error_mean": round(float(ef.mean()), 2), "ef_abs_error_max": round(float(ef.max()), 2),
        "edv_abs_error_pct_mean": round(float(edv.mean()), 1), "edv_abs_error_pct_max": round(float(edv.max()), 1),
        "esv_abs_error_pct_mean": round(float(esv.mean()), 1), "esv_abs_error_pct_max": round(float(esv.max()), 1),
        "dice": {k: round(float(np.nanmean([r["dice"][k] for r in rows])), 4) for k in ("LV", "Myo", "RV")},
    }


def _seeds(text: str) -> list[int]:
    if "-" in text:
        a, b = text.split("-")
        return list(range(int(a), int(b) + 1))
    return [int(s) for s in text.split(",")]


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", choices=("phantom", "independent"), default="phantom")
    ap.add_argument("--seeds", default="300-311", help="'A-B' or 'A,B,C'")
    ap.add_argument("--method", default="registration")
    ap.add_argument("--extent", choices=("plane", "ring", "off"), default="plane")
    ap.add_argument("--json", help="write the per-case rows and the summary here")
    a = ap.parse_args(argv)
    rows = []
    for s in _seeds(a.seeds):
        rows.append(measure_case(a.source, s, a.method, a.extent))
        r = rows[-1]
        print(json.dumps({k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items() if k != "dice"}), flush=True)
    summary = summarise(rows)
    print(json.dumps(summary))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"summary": summary, "cases": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
