"""Wall-motion scoring check (issue 20): the training-free rule from the true labels and from the
product's MR default segmentation (registration propagation + the per-phase extent step).

    PYTHONPATH=. OMP_NUM_THREADS=1 python scripts/wall_motion_check.py independent 0 24 [--rule combined|thickening]
    PYTHONPATH=. OMP_NUM_THREADS=1 python scripts/wall_motion_check.py phantom 9100 9112 [--labels-only]

Cases are built as ``cardiacmotion evaluate table`` builds them (evaluation.sources), so the
"segmentation" numbers equal that table's registration / thickening columns; this script adds the
true-label scores, per-level accuracy and the confusion matrices. Evaluation only: never tune on
the independent generator.
"""
from __future__ import annotations

import argparse

import numpy as np

LEVEL = np.array([0] * 6 + [1] * 6 + [2] * 4)


def main() -> None:
    import torch

    from cardiacmotion.evaluation.sources import build
    from cardiacmotion.evaluation.table import _extent, _segment
    from cardiacmotion.scoring.thickening import Thresholds, score_thickening
    from cardiacmotion.training.train_scoring import wall_motion_metrics

    torch.set_num_threads(1)
    p = argparse.ArgumentParser()
    p.add_argument("kind", choices=("independent", "phantom"))
    p.add_argument("first", type=int)
    p.add_argument("stop", type=int)
    p.add_argument("--rule", default="combined", choices=("combined", "thickening"))
    p.add_argument("--labels-only", action="store_true", help="score the true labels only (no propagation)")
    a = p.parse_args()
    th = Thresholds(rule=a.rule)
    sources = ("truth",) if a.labels_only else ("truth", "registration+extent")
    got: dict = {s: ([], []) for s in sources}
    for seed in range(a.first, a.stop):
        case = build((a.kind, seed, {}))
        segs = {"truth": case.truth}
        if not a.labels_only:
            segs["registration+extent"] = _extent(case, _segment(case, "registration", "cpu", None)[0], "plane")
        for name, arr in segs.items():
            out = score_thickening(case.image, case.image.with_array(np.asarray(arr, np.uint8)), case.landmarks, thresholds=th)
            pred = [1 if s["score"] is None else int(s["score"]) for s in sorted(out["segments"], key=lambda s: s["id"])]
            got[name][0].append(case.scores)
            got[name][1].append(pred)
            print(f"{a.kind}-{seed} {name}: truth {''.join(map(str, case.scores))} scored {''.join(map(str, pred))} "
                  f"ED/ES {out['ed_phase']}/{out['es_phase']}", flush=True)
    for name, (t, q) in got.items():
        t, q = np.array(t), np.array(q)
        m = wall_motion_metrics(t, q)
        lv = " ".join(f"{n} {100 * float((t[:, LEVEL == i] == q[:, LEVEL == i]).mean()):.0f} %"
                      for i, n in enumerate(("basal", "mid", "apical")))
        print(f"{a.kind} {name} ({len(t)} hearts, rule {a.rule}): 4-way {100 * m['accuracy_4way']:.1f} %, abnormal "
              f"{100 * m['accuracy_abnormal']:.1f} %, MSI r {m['msi_pearson_r']:.3f}; {lv}; confusion (rows truth 1-4) "
              f"{m['confusion_matrix']}")


if __name__ == "__main__":
    main()
