"""Accuracy of 4D propagation against ground truth (phantoms, synthetic cines, Sunnybrook).

``python -m cardiacmotion.propagation.evaluate [--mr N] [--echo N] [--sunnybrook DIR]`` prints the
numbers reported in the issue.
"""
from __future__ import annotations

import argparse
import json
import time
from typing import Optional

import numpy as np

from cardiacmotion.cine import Cine
from cardiacmotion.propagation.order import SeedSet


def dice(a: np.ndarray, b: np.ndarray) -> float:
    """Dice of two boolean arrays (1.0 when both are empty)."""
    s = int(a.sum()) + int(b.sum())
    return 1.0 if s == 0 else 2.0 * float((a & b).sum()) / s


def single_slice_seed(labels: np.ndarray, phase: int, slice_: int, keep: Optional[list[int]] = None) -> SeedSet:
    """A seed made of one slice of the truth (optionally only some labels)."""
    src = labels[phase, slice_]
    lab = np.where(np.isin(src, keep), src, 0) if keep else src
    return SeedSet.single(lab, labels.shape[0], labels.shape[1], phase, slice_)


def expert_mid_seed(truth: np.ndarray, epi: np.ndarray) -> tuple[int, int, SeedSet]:
    """``(ed, k0, seeds)``: the mid slice of the expert contours at ED (the first phase with an epicardial
    contour), seeded with its LV cavity and myocardium — how a user seeds a real study."""
    ed = int(np.where(epi.any(axis=1))[0][0])
    ks = np.where(epi[ed])[0]
    k0 = int(ks[len(ks) // 2])
    return ed, k0, single_slice_seed(truth, ed, k0, keep=[2, 3])


def case(kind: str, seed: int):
    """``(image Cine, labels array, seed SeedSet, landmarks)``: the phantom when installed, else synthetic."""
    try:
        from cardiacmotion import phantom  # type: ignore

        make = phantom.make_mr_case if kind == "mr" else phantom.make_echo_case
        pc = make(seed)
        s = pc.seed.array[0] if pc.seed.phases == 1 else pc.seed.array[pc.seed_phase]
        labels = np.zeros(pc.image.array.shape, np.uint8)
        labels[pc.seed_phase] = s
        seeded = np.zeros(pc.image.array.shape[:2], bool)
        seeded[pc.seed_phase] = s.reshape(s.shape[0], -1).any(axis=1)
        return pc.image, pc.labels.array, SeedSet(labels, seeded), pc.landmarks, "phantom"
    except (ImportError, AttributeError):
        from cardiacmotion.propagation import synthetic

        sc = synthetic.make_mr(seed) if kind == "mr" else synthetic.make_echo(seed)
        ss = single_slice_seed(sc.labels.array, sc.seed_phase, sc.seed_slice)
        return sc.image, sc.labels.array, ss, sc.landmarks, "synthetic"


def dice_4d(seg: np.ndarray, truth: np.ndarray, values: dict[str, int]) -> dict[str, float]:
    """Dice per structure pooled over all phases and slices."""
    return {name: dice(seg == v, truth == v) for name, v in values.items()}


def evaluate_synthetic(kind: str, n, method: str = "registration", landmarks: bool = False) -> dict:
    """Mean whole-4D Dice over cases seeded on one mid slice at ED (or from landmarks).

    Args:
        kind: 'mr' or 'echo'.
        n: number of cases (seeds 0..n-1) or an explicit list of case seeds.
        method: propagation method.
        landmarks: start from the case's three landmarks instead of its mask seed.
    """
    from cardiacmotion.propagation.segment import segment_cine

    values = {"LV": 3, "Myo": 2, "RV": 1} if kind == "mr" else {"LV": 1, "Myo": 2}
    rows, seed_dice, seconds, source = [], [], 0.0, ""
    ids = list(range(n)) if isinstance(n, int) else list(n)
    for s in ids:
        image, truth, seeds, lms, source = case(kind, s)
        t0 = time.perf_counter()
        if landmarks:
            from cardiacmotion.propagation.landmarks_init import seed_from_landmarks

            seeds = seed_from_landmarks(image, lms, int(np.where(seeds.seeded.any(axis=1))[0][0]))
            t, k = np.argwhere(seeds.seeded)[0]
            seed_dice.append(dice_4d(seeds.labels[t, k], truth[t, k], values))
        seg, _ = segment_cine(image, seeds=seeds, method=method, device="cpu")
        seconds += time.perf_counter() - t0
        rows.append(dice_4d(seg.array, truth, values))
    out = {"source": source, "cases": len(ids), "seconds": round(seconds, 2)}
    out.update({k: round(float(np.mean([r[k] for r in rows])), 4) for k in values})
    out["per_case"] = [{k: round(v, 4) for k, v in r.items()} for r in rows]
    if seed_dice:
        out["seed_dice"] = {k: round(float(np.mean([r[k] for r in seed_dice])), 4) for k in values}
    return out


def evaluate_sunnybrook(study_dir: str, contours_dir: str, method: str = "registration") -> dict:
    """Seed the mid contoured slice at ED (LV + myocardium); score the other contoured slices."""
    from cardiacmotion.io.sunnybrook import load_sunnybrook  # type: ignore
    from cardiacmotion.propagation.segment import segment_cine

    image, truth, endo, epi = load_sunnybrook(study_dir, contours_dir)
    ed, k0, seeds = expert_mid_seed(truth, epi)
    es = int([t for t in np.where(endo.any(axis=1))[0] if t != ed][0])
    ks = np.where(epi[ed])[0]
    t0 = time.perf_counter()
    seg, info = segment_cine(image, seeds=seeds, method=method, device="cpu")
    secs = time.perf_counter() - t0
    s = seg.array
    other_es = [k for k in np.where(endo[es])[0] if k != k0]
    other_ed = [k for k in ks if k != k0]
    out = {
        "study": study_dir.rstrip("/").split("/")[-1],
        "lv_dice_es": round(float(np.mean([dice(s[es, k] == 3, truth[es, k] == 3) for k in other_es])), 4),
        "lv_dice_ed": round(float(np.mean([dice(s[ed, k] == 3, truth[ed, k] == 3) for k in other_ed])), 4),
        "myo_dice_ed": round(float(np.mean([dice(s[ed, k] == 2, truth[ed, k] == 2) for k in other_ed])), 4),
    }
    out.update(sunnybrook_function(seg, truth, endo, ed, es))
    out.update({
        "seconds": round(secs, 2),
        "method": info["method"],
    })
    return out


def sunnybrook_function(seg: Cine, truth: np.ndarray, endo: np.ndarray, ed: int, es: int) -> dict:
    """Clinical numbers of a Sunnybrook segmentation against the expert's.

    ``ef_pred`` / ``edv_pred_ml`` / ``esv_pred_ml`` / ``mass_pred_g``: what ``cardiacmotion function``
    reports (all slices, its own ED/ES phases); ``ef_true`` etc.: the expert contours (every slice
    they contoured, at the expert's ED and ES frames). ``ef_*_contoured``: EF over only the slices
    contoured at both ED and ES, from the same frames (the older, narrower measure).
    """
    from cardiacmotion.function import compute_function

    s = np.asarray(seg.array)
    fn = compute_function(seg)
    vox = seg.voxel_volume_ml
    cont = np.where(endo[es] & endo[ed])[0]

    def ef_over(a: np.ndarray, ks) -> float:
        v_ed, v_es = float((a[ed][ks] == 3).sum()), float((a[es][ks] == 3).sum())
        return 100.0 * (v_ed - v_es) / max(v_ed, 1.0)

    edv, esv = float((truth[ed] == 3).sum() * vox), float((truth[es] == 3).sum() * vox)
    return {
        "ef_pred": round(float(fn["lv_ef_pct"]), 2),
        "edv_pred_ml": round(float(fn["lv_edv_ml"]), 1),
        "esv_pred_ml": round(float(fn["lv_esv_ml"]), 1),
        "mass_pred_g": round(float(fn["lv_mass_g"]), 1),
        "ef_true": round(100.0 * (edv - esv) / edv, 2),
        "edv_true_ml": round(edv, 1),
        "esv_true_ml": round(esv, 1),
        "mass_true_g": round(float((truth[ed] == 2).sum() * vox * 1.05), 1),
        "ef_pred_contoured": round(ef_over(s, cont), 2),
        "ef_true_contoured": round(ef_over(truth, cont), 2),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--mr", type=int, default=10)
    ap.add_argument("--echo", type=int, default=5)
    ap.add_argument("--landmarks", action="store_true")
    ap.add_argument("--sunnybrook", help="folder with SCD0000101, SCD0000201 and contours/")
    ap.add_argument("--method", default="registration")
    a = ap.parse_args(argv)
    res = {}
    if a.mr:
        res["mr"] = evaluate_synthetic("mr", a.mr, a.method)
        if a.landmarks:
            res["mr_landmarks"] = evaluate_synthetic("mr", a.mr, a.method, landmarks=True)
    if a.echo:
        res["echo"] = evaluate_synthetic("echo", a.echo, a.method)
        if a.landmarks:
            res["echo_landmarks"] = evaluate_synthetic("echo", a.echo, a.method, landmarks=True)
    if a.sunnybrook:
        for st, ct in (("SCD0000101", "SC-HF-I-1"), ("SCD0000201", "SC-HF-I-2")):
            res[st] = evaluate_sunnybrook(f"{a.sunnybrook}/{st}", f"{a.sunnybrook}/contours/{ct}", a.method)
    print(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
