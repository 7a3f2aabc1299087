"""Accuracy of wall-motion scoring against known scores (phantom MR with ground-truth labels).

Measuring a case (thickening % and excursion per segment) is the slow part and does not depend on
the class thresholds, so it is split from classifying: :func:`measure_phantom_cases` returns (and
optionally caches as JSON) per-segment measurements with the true scores; :func:`summarise` turns
them into the paper's metrics (MMSA section IV-C): 4-way accuracy, abnormality accuracy and kappa,
MSI Pearson correlation, and the 4x4 confusion matrix (rows = truth 1-4, columns = predicted).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Iterable, Optional, Sequence, Union

import numpy as np

from cardiacmotion.scoring.thickening import Thresholds, classify, classify_combined, heart_gain, score_thickening


def measure_case(image, labels, landmarks, truth: dict, ed_phase: Optional[int] = None, es_phase: Optional[int] = None) -> dict:
    """Thickening measurements of one case next to its true scores.

    Returns:
        ``{"segments": [{id, true_score, thickening_pct, endocardial_excursion_mm, endocardial_shortening_pct,
        level}], "true_msi",
        "ed_phase", "es_phase"}``.
    """
    scores = score_thickening(image, labels, landmarks, ed_phase=ed_phase, es_phase=es_phase)
    true = {int(s["id"]): int(s["score"]) for s in truth["segments"]}
    rows = [
        {
            "id": s["id"],
            "true_score": true[s["id"]],
            "thickening_pct": s["thickening_pct"],
            "endocardial_excursion_mm": s["endocardial_excursion_mm"],
            "endocardial_shortening_pct": s.get("endocardial_shortening_pct"),
            "level": s["level"],
        }
        for s in scores["segments"]
    ]
    true_msi = truth.get("motion_score_index")
    return {
        "segments": rows,
        "true_msi": float(true_msi if true_msi is not None else np.mean(list(true.values()))),
        "ed_phase": scores["ed_phase"],
        "es_phase": scores["es_phase"],
    }


def _code_fingerprint() -> str:
    """Hash of the phantom and scoring sources, so a cache never outlives the code that made it."""
    import hashlib

    import cardiacmotion

    root = Path(cardiacmotion.__file__).parent
    h = hashlib.sha256()
    for path in sorted(list((root / "phantom").rglob("*.py")) + list((root / "scoring").glob("*.py"))):
        if path.name != "evaluate.py" and path.name != "bullseye.py":
            h.update(path.name.encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:12]


def _labels_only_supported() -> bool:
    try:
        from cardiacmotion.phantom import mr
    except ImportError:  # pragma: no cover
        return False
    return "image" in getattr(mr, "MR_OPTIONS", ())


def measure_phantom_cases(
    seeds: Iterable[int],
    cache_dir: Optional[Union[str, Path]] = None,
    progress: Optional[Callable[[float, str], None]] = None,
    labels_only: bool = True,
    **case_options,
) -> list[dict]:
    """Build phantom MR cases and measure them (ground-truth labels as the segmentation).

    Args:
        seeds: phantom seeds.
        cache_dir: folder for one JSON per case (reused when present; key = seed, options and a
            hash of the phantom and scoring sources).
        progress: ``(fraction, message)`` callback.
        labels_only: skip rendering the image (the thickening method reads only the labels, and the
            phantom's labels do not depend on the image); ignored if the phantom cannot.
        case_options: passed to :func:`cardiacmotion.phantom.make_mr_case`.
    """
    from cardiacmotion.phantom import make_mr_case

    seeds = list(seeds)
    if labels_only and _labels_only_supported():
        case_options = {"image": False, **case_options}
    key = "-".join(f"{k}={case_options[k]}" for k in sorted(case_options)) or "default"
    key += "-" + _code_fingerprint()
    out = []
    for n, seed in enumerate(seeds):
        path = Path(cache_dir) / f"mr-{seed}-{key}.json" if cache_dir else None
        if path is not None and path.is_file():
            record = json.loads(path.read_text())
        else:
            case = make_mr_case(int(seed), **case_options)
            record = measure_case(case.image, case.labels, case.landmarks, case.truth)
            record["seed"] = int(seed)
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(".tmp")
                tmp.write_text(json.dumps(record))
                tmp.replace(path)
        out.append(record)
        if progress:
            progress((n + 1) / len(seeds), f"case {seed}")
    return out


def _kappa(truth: np.ndarray, pred: np.ndarray) -> float:
    po = float((truth == pred).mean())
    pe = sum(float((truth == c).mean()) * float((pred == c).mean()) for c in np.union1d(truth, pred))
    return 1.0 if pe >= 1.0 else (po - pe) / (1.0 - pe)


def summarise(records: Sequence[dict], thresholds: Optional[Thresholds] = None) -> dict:
    """Metrics of the training-free classes (the rule of ``thresholds``) over measured cases.

    Returns:
        ``{cases, segments, accuracy_4way, accuracy_abnormal, kappa_abnormal, msi_pearson_r,
        msi_mean_abs_error, confusion (4x4, rows truth 1-4, cols predicted 1-4), per_class_recall,
        thresholds}``.
    """
    thresholds = thresholds or Thresholds()
    truth, pred, msi_true, msi_pred = [], [], [], []
    for rec in records:
        segs = [s for s in rec["segments"] if s["thickening_pct"] is not None]
        if thresholds.rule == "combined" and segs and all(s.get("endocardial_shortening_pct") is not None for s in segs):
            th = np.array([s["thickening_pct"] for s in segs], dtype=float)
            sh = np.array([s["endocardial_shortening_pct"] for s in segs], dtype=float)
            th = th * heart_gain(th, thresholds.reference_thickening_pct, thresholds)
            sh = sh * heart_gain(sh, thresholds.reference_shortening_pct, thresholds)
            case_pred = classify_combined(th, sh, np.array([s.get("level") == "apical" for s in segs]), thresholds)[0].tolist()
        else:  # the thickening rule (or records measured before shortening was recorded)
            case_pred = [classify(s["thickening_pct"], s["endocardial_excursion_mm"], thresholds) for s in segs]
        truth.extend(s["true_score"] for s in segs)
        pred.extend(case_pred)
        msi_true.append(rec["true_msi"])
        msi_pred.append(float(np.mean(case_pred)) if case_pred else np.nan)
    t, p = np.asarray(truth), np.asarray(pred)
    conf = np.zeros((4, 4), dtype=int)
    np.add.at(conf, (t - 1, p - 1), 1)
    mt, mp = np.asarray(msi_true), np.asarray(msi_pred)
    ok = np.isfinite(mp)
    r = float(np.corrcoef(mt[ok], mp[ok])[0, 1]) if ok.sum() > 2 and mt[ok].std() > 0 and mp[ok].std() > 0 else float("nan")
    recall = {int(c): (float(conf[c - 1, c - 1] / conf[c - 1].sum()) if conf[c - 1].sum() else None) for c in range(1, 5)}
    return {
        "cases": len(records),
        "segments": int(t.size),
        "accuracy_4way": float((t == p).mean()) if t.size else float("nan"),
        "accuracy_abnormal": float(((t >= 2) == (p >= 2)).mean()) if t.size else float("nan"),
        "kappa_abnormal": _kappa(t >= 2, p >= 2) if t.size else float("nan"),
        "msi_pearson_r": r,
        "msi_mean_abs_error": float(np.abs(mt[ok] - mp[ok]).mean()) if ok.any() else float("nan"),
        "confusion": conf.tolist(),
        "per_class_recall": recall,
        "thresholds": thresholds.to_dict(),
    }


def evaluate_phantom(
    seeds: Iterable[int],
    thresholds: Optional[Thresholds] = None,
    cache_dir: Optional[Union[str, Path]] = None,
    progress: Optional[Callable[[float, str], None]] = None,
    **case_options,
) -> dict:
    """Measure phantom MR cases (ground-truth labels in) and summarise the thickening method."""
    return summarise(measure_phantom_cases(seeds, cache_dir=cache_dir, progress=progress, **case_options), thresholds)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``python -m cardiacmotion.scoring.evaluate [--cases N] [--start S] [--cache DIR]``: print the metrics JSON."""
    import argparse

    p = argparse.ArgumentParser(description="thickening wall-motion scoring on phantom MR with ground-truth labels")
    p.add_argument("--cases", type=int, default=30)
    p.add_argument("--start", type=int, default=1000, help="first phantom seed")
    p.add_argument("--cache", help="folder caching per-case measurements")
    args = p.parse_args(argv)
    result = evaluate_phantom(range(args.start, args.start + args.cases), cache_dir=args.cache)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
