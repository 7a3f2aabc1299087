"""``cardiacmotion evaluate table``: every method side by side on the three kinds of evidence.

One row per (source, propagation method): Dice per label (pooled over all phases and slices of a
case where the truth is known, then averaged over cases), the LV EF error as ``cardiacmotion
function`` reports it (all slices of the product's segmentation against the truth EF), and
wall-motion scoring from that segmentation by each scorer (learned MMSA and the training-free
thickening rule): 4-way and abnormal (score >= 2) accuracy and MSI Pearson r. Sources: held-out
seeds of the training phantom, the independent generator, and the real studies (SCD0000101
held out; SCD0000201 and the porcine study marked as trained on).

Markdown and JSON; ``--write-evidence`` records the held-out evidence and the methods ``auto``
picks from it in ``models.json`` (:mod:`cardiacmotion.evaluation.evidence`).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Optional

import numpy as np

from cardiacmotion.errors import InputError

HELP = "every method side by side: training-phantom held-out seeds, independent generator, real studies"
PROPAGATION = ("registration", "memory", "fusion")
SCORERS = ("learned", "thickening")
LABELS = {"LV": 3, "Myo": 2, "RV": 1}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--phantom-cases", type=int, default=4, help="held-out training-phantom MR cases (seeds 9100...)")
    p.add_argument("--independent-cases", type=int, default=20, help="independent-generator MR hearts (seeds 0...)")
    p.add_argument("--real", default="SCD0000101,SCD0000201,porcine",
                   help="real studies (comma-separated; '' none): SCD0000101 is held out, the others were trained on")
    p.add_argument("--data-root", default=None, help="folder with sunnybrook/ and ep-preclinical/ (default ../shared/data)")
    p.add_argument("--real-cache", default=None, help="folder of real-study npz files (save_real_cache), read before --data-root")
    p.add_argument("--methods", default=",".join(PROPAGATION), help="propagation methods to compare")
    p.add_argument("--scorers", default=",".join(SCORERS), help="wall-motion scorers to compare ('' none)")
    p.add_argument("--cstm-weights", default=None, help="memory weights (default: the bundled ones)")
    p.add_argument("--mmsa-weights", default=None, help="MMSA weights (default: the bundled ones)")
    p.add_argument("--extent", default="plane", choices=("plane", "ring", "off"),
                   help="MR per-phase LV extent step after propagation (cardiacmotion.propagation.extent), as segment "
                        "applies it (default plane)")
    p.add_argument("--workers", type=int, default=0,
                   help="processes evaluating cases in parallel (0: this one); each runs the networks on --device "
                        "(registration always runs on the CPU)")
    p.add_argument("--small", action="store_true", help="smaller synthetic cases (tests: 8 phases, 6 slices)")
    p.add_argument("--markdown", default=None, help="write the table as Markdown here")
    p.add_argument("--json", default=None, help="write every number (per case too) as JSON here")
    p.add_argument("--rows-jsonl", default=None, help="also append each case's result here as it finishes (long runs)")
    p.add_argument("--write-evidence", action="store_true",
                   help="record the held-out evidence and the auto choices in models.json (Resources/Models)")


# ---- one case --------------------------------------------------------------------------------


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    s = int(a.sum()) + int(b.sum())
    return float("nan") if s == 0 else 2.0 * float((a & b).sum()) / s


def case_dice(seg: np.ndarray, case) -> dict:
    """Dice per label over the frames where the truth knows it (NaN where no frame does)."""
    out = {}
    for name, v in LABELS.items():
        if v not in case.labels:
            continue
        frames = case.frames.get(name)
        if frames is None or not frames.any():
            continue
        s, t = seg[frames] == v, case.truth[frames] == v
        out[name] = _dice(s, t)
    return out


def _ef(seg_cine) -> Optional[float]:
    from cardiacmotion.function.report import compute_function

    try:
        return compute_function(seg_cine)["lv_ef_pct"]
    except Exception:  # noqa: BLE001 - an unusable segmentation has no EF; the table shows it as missing
        return None


_MODELS: dict = {}


def _segment(case, method: str, device: str, cstm_weights: Optional[str]) -> tuple[np.ndarray, float]:
    """Propagation alone (the extent step comes after, as ``segment_cine`` does after fusing)."""
    from cardiacmotion.propagation.segment import segment_cine

    t = time.perf_counter()
    try:
        seg, _ = segment_cine(case.image, seeds=case.seeds, method=method, device=device, weights=cstm_weights, extent="off")
    except TypeError:  # a segment_cine without the extent step
        seg, _ = segment_cine(case.image, seeds=case.seeds, method=method, device=device, weights=cstm_weights)
    return np.asarray(seg.array), time.perf_counter() - t


def _extent(case, seg: np.ndarray, mode: str) -> np.ndarray:
    """``segment``'s per-phase LV extent step on MR (``mode`` 'plane', 'ring'; 'off' or absent: unchanged)."""
    if mode == "off" or case.image.modality != "MR":
        return seg
    try:
        from cardiacmotion.propagation.extent import lv_extent
    except ImportError:
        return seg
    out, _ = lv_extent(case.image, seg, case.seeds.seeded, mode=mode)
    return np.asarray(out)


def _scores(case, seg: np.ndarray, scorer: str, device: str, mmsa_weights: Optional[str]) -> Optional[list]:
    seg_cine = case.image.with_array(seg.astype(np.uint8))
    if scorer == "learned":
        from cardiacmotion.scoring.learned import load_model, score_learned

        key = (mmsa_weights, device)
        if key not in _MODELS:
            _MODELS[key] = load_model(mmsa_weights, device)
        res = score_learned(case.image, seg_cine, case.landmarks, device=device, model=_MODELS[key])
        return [int(s["score"]) for s in sorted(res["segments"], key=lambda s: s["id"])[:16]]
    from cardiacmotion.scoring.thickening import score_thickening

    res = score_thickening(case.image, seg_cine, case.landmarks)
    # a segment the rule cannot assess (no measurable wall) is read as normal, as its report does
    return [1 if s["score"] is None else int(s["score"]) for s in sorted(res["segments"], key=lambda s: s["id"])[:16]]


def evaluate_case(job: tuple, methods: tuple, scorers: tuple, device: str = "cpu",
                  cstm_weights: Optional[str] = None, mmsa_weights: Optional[str] = None, extent: str = "plane") -> dict:
    """Every method on one case: ``{source, name, held_out, ef_truth, truth_scores, methods: {m: {...}}}``."""
    from cardiacmotion.evaluation.sources import build

    case = build(job)
    row: dict = {"source": case.source, "name": case.name, "held_out": case.held_out, "ef_truth": case.ef_truth,
                 "truth_scores": case.scores, "frames": int(case.image.phases * case.image.slices), "methods": {}}
    segs: dict = {}
    for method in methods:
        if method == "fusion":
            from cardiacmotion.propagation.fusion import fuse_segmentations

            for needed in ("memory", "registration"):
                if needed not in segs:
                    segs[needed] = _segment(case, needed, device, cstm_weights)
            t = time.perf_counter()
            fused = fuse_segmentations(segs["memory"][0], segs["registration"][0], case.image.modality)
            seeded = np.asarray(case.seeds.seeded, bool)
            fused[seeded] = np.asarray(case.seeds.labels)[seeded]
            segs["fusion"] = (fused, segs["memory"][1] + segs["registration"][1] + time.perf_counter() - t)
        elif method not in segs:
            segs[method] = _segment(case, method, device, cstm_weights)
    for method in methods:
        seg, secs = segs[method]
        t = time.perf_counter()
        seg = _extent(case, seg, extent)
        secs += time.perf_counter() - t
        res: dict = {"dice": case_dice(seg, case), "seconds": round(secs, 3)}
        ef = _ef(case.image.with_array(seg.astype(np.uint8)))
        res["ef"] = ef
        res["ef_error"] = None if ef is None or case.ef_truth is None else round(ef - case.ef_truth, 3)
        if case.scores is not None and case.landmarks is not None:
            for scorer in scorers:
                try:
                    res[f"scores_{scorer}"] = _scores(case, seg, scorer, device, mmsa_weights)
                except Exception as exc:  # noqa: BLE001 - one failing scorer is reported, not fatal
                    res[f"scores_{scorer}"] = None
                    res[f"error_{scorer}"] = f"{type(exc).__name__}: {exc}"
        row["methods"][method] = res
    return row


def _worker_init() -> None:
    import cv2
    import torch

    cv2.setNumThreads(1)
    torch.set_num_threads(1)


def _run_job(payload: tuple) -> dict:
    job, methods, scorers, device, cstm, mmsa, extent = payload
    try:
        try:
            row = evaluate_case(job, methods, scorers, device, cstm, mmsa, extent)
        except RuntimeError:
            if device == "cpu":
                raise
            row = evaluate_case(job, methods, scorers, "cpu", cstm, mmsa, extent)  # e.g. CUDA out of memory in a worker
            row["device_fallback"] = "cpu"
    except Exception as exc:  # noqa: BLE001 - a case that cannot be built or run is listed with its reason
        row = {"source": job[0], "name": f"{job[0]}-{job[1]}", "error": f"{type(exc).__name__}: {exc}", "methods": {}}
    row["kind"], row["key"] = job[0], str(job[1])
    return row


# ---- aggregation -------------------------------------------------------------------------------


def _mean(values: list) -> Optional[float]:
    vals = [v for v in values if v is not None and not (isinstance(v, float) and np.isnan(v))]
    return round(float(np.mean(vals)), 4) if vals else None


def summarise(rows: list[dict], methods: tuple, scorers: tuple) -> list[dict]:
    """One summary per (source, method), in source order of appearance."""
    from cardiacmotion.training.train_scoring import wall_motion_metrics

    order: list[str] = []
    for r in rows:
        if r["source"] not in order and "error" not in r:
            order.append(r["source"])
    out = []
    for source in order:
        rs = [r for r in rows if r["source"] == source and "error" not in r]
        for method in methods:
            ms = [r["methods"][method] for r in rs if method in r["methods"]]
            if not ms:
                continue
            s: dict = {"source": source, "method": method, "cases": len(ms), "held_out": all(r["held_out"] for r in rs)}
            for name in LABELS:
                s[f"dice_{name}"] = _mean([m["dice"].get(name) for m in ms])
            errs = [m["ef_error"] for m in ms if m.get("ef_error") is not None]
            s["ef_abs_error"] = round(float(np.mean(np.abs(errs))), 2) if errs else None
            s["ef_bias"] = round(float(np.mean(errs)), 2) if errs else None
            frames = sum(r["frames"] for r in rs if method in r["methods"])
            secs = sum(m["seconds"] for m in ms)
            s["frames_per_s"] = round(frames / max(secs, 1e-9), 1)
            for scorer in scorers:
                pairs = [(r["truth_scores"], r["methods"][method].get(f"scores_{scorer}")) for r in rs
                         if method in r["methods"] and r.get("truth_scores")]
                pairs = [(t, p) for t, p in pairs if p is not None]
                if pairs:
                    m = wall_motion_metrics(np.array([t for t, _ in pairs]), np.array([p for _, p in pairs]))
                    s[f"{scorer}_4way"] = round(m["accuracy_4way"], 4)
                    s[f"{scorer}_abnormal"] = round(m["accuracy_abnormal"], 4)
                    s[f"{scorer}_msi_r"] = None if np.isnan(m["msi_pearson_r"]) else round(m["msi_pearson_r"], 4)
            out.append(s)
    return out


def _fmt(v, pct: bool = False) -> str:
    if v is None:
        return "–"
    if pct:
        return f"{100 * v:.1f} %"
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def markdown(summary: list[dict], scorers: tuple, note: str = "") -> str:
    """The summary as one Markdown table."""
    head = ["source", "method", "cases", "Dice LV", "Dice Myo", "Dice RV", "EF abs err (pts)", "frames/s"]
    for sc in scorers:
        head += [f"{sc} 4-way", f"{sc} abnormal", f"{sc} MSI r"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for s in summary:
        src = s["source"] + ("" if s["held_out"] else " (trained on)")
        cells = [src, s["method"], str(s["cases"]), _fmt(s["dice_LV"]), _fmt(s["dice_Myo"]), _fmt(s["dice_RV"]),
                 "–" if s["ef_abs_error"] is None else f"{s['ef_abs_error']:.1f}", f"{s['frames_per_s']:.0f}"]
        for sc in scorers:
            cells += [_fmt(s.get(f"{sc}_4way"), True), _fmt(s.get(f"{sc}_abnormal"), True), _fmt(s.get(f"{sc}_msi_r"))]
        lines.append("| " + " | ".join(cells) + " |")
    if note:
        lines += ["", note]
    return "\n".join(lines) + "\n"


NOTE = ("Dice pooled over all phases and slices of a case where the truth is known (real Sunnybrook studies: LV at ES, "
        "myocardium at ED, the seed slice left out; porcine: every frame with both automatic contours), averaged over "
        "cases; EF error: `function`'s LV EF over all slices of the segmentation minus the truth EF; scoring from each "
        "row's segmentation (segments the thickening rule cannot assess read as normal). Seeded with one mid ED slice.")


# ---- the command -------------------------------------------------------------------------------


def _default_data_root() -> Optional[Path]:
    env = os.environ.get("CARDIACMOTION_SHARED")
    cands = [Path(env) / "data"] if env else []
    cands += [parent / "shared" / "data" for parent in Path(__file__).resolve().parents[2:]]  # beside / above a worktree
    return next((c for c in cands if c.is_dir()), None)


def _split(text: str, allowed: tuple, what: str) -> tuple:
    items = tuple(s.strip() for s in (text or "").split(",") if s.strip())
    bad = [s for s in items if s not in allowed]
    if bad:
        raise InputError(f"unknown {what} {', '.join(bad)} (expected {', '.join(allowed)})")
    return items


def jobs_for(args: argparse.Namespace) -> list[tuple]:
    from cardiacmotion.evaluation import sources

    small = {"phases": 10, "slices": 6, "grid": 112} if args.small else {}
    jobs = list(sources.phantom_cases(args.phantom_cases, options=small))
    jobs += list(sources.independent_cases(args.independent_cases))
    names = [s.strip() for s in (args.real or "").split(",") if s.strip()]
    if names:
        root = Path(args.data_root) if args.data_root else _default_data_root()
        cache = Path(args.real_cache) if args.real_cache else None
        jobs += sources.real_jobs(root, cache, names)
    return jobs


def _submission_order(payloads: list) -> list:
    """Longest jobs first (real studies, the porcine one has 400 frames) so parallel workers finish together."""
    return sorted(payloads, key=lambda p: 0 if p[0][0] == "real" else 1)


def run(args: argparse.Namespace) -> int:
    """Evaluate, print the Markdown table, write the files asked for."""
    from cardiacmotion.cli.common import make_progress
    from cardiacmotion.device import resolve_device

    methods = _split(args.methods, PROPAGATION, "method")
    scorers = _split(args.scorers, SCORERS, "scorer")
    if not methods:
        raise InputError("no propagation method to evaluate (--methods)")
    for out in (args.markdown, args.json):
        if out and not Path(out).resolve().parent.is_dir():
            raise InputError(f"output folder does not exist: {Path(out).parent}")
    device = str(resolve_device(args.device))
    progress = make_progress(args)
    jobs = jobs_for(args)
    if not jobs:
        raise InputError("nothing to evaluate (no cases from any source)")
    payloads = [(job, methods, scorers, device, args.cstm_weights, args.mmsa_weights, args.extent) for job in jobs]
    t0 = time.time()
    rows: list[dict] = []
    def done(row: dict) -> None:
        rows.append(row)
        progress(len(rows) / len(jobs), f"{row['name']}")
        if args.rows_jsonl:
            with open(args.rows_jsonl, "a") as f:
                f.write(json.dumps(row, default=_jsonable) + "\n")

    if args.workers > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        # CUDA cannot be used in forked workers: spawn them when the networks run on the GPU
        ctx = multiprocessing.get_context("spawn" if device.startswith("cuda") else None)
        with ProcessPoolExecutor(max_workers=args.workers, initializer=_worker_init, mp_context=ctx) as pool:
            futures = [pool.submit(_run_job, p) for p in _submission_order(payloads)]
            for fut in as_completed(futures):
                done(fut.result())
        rank = {(p[0][0], str(p[0][1])): n for n, p in enumerate(payloads)}
        rows.sort(key=lambda r: rank.get((r.get("kind"), str(r.get("key"))), 0))
    else:
        for payload in payloads:
            done(_run_job(payload))
    for r in rows:
        if "error" in r:
            print(f"[evaluate] {r['name']}: {r['error']}", file=sys.stderr)
    summary = summarise(rows, methods, scorers)
    if not summary:
        raise InputError("no case could be evaluated: " + "; ".join(r.get("error", "") for r in rows[:3]))
    text = markdown(summary, scorers, NOTE)
    report = {"summary": summary, "cases": rows, "seconds": round(time.time() - t0, 1), "device": device,
              "workers": args.workers, "methods": list(methods), "scorers": list(scorers), "extent": args.extent,
              "models": _model_ids(args), "command": " ".join(["cardiacmotion"] + sys.argv[1:])}
    from cardiacmotion.evaluation.evidence import auto_choices

    report["auto"] = auto_choices(summary)
    print(text)
    from cardiacmotion.io.atomic import atomic_output

    if args.markdown:
        with atomic_output(args.markdown) as tmp:
            Path(tmp).write_text(text)
    if args.json:
        with atomic_output(args.json) as tmp:
            Path(tmp).write_text(json.dumps(report, indent=1, default=_jsonable) + "\n")
    if args.write_evidence:
        from cardiacmotion.evaluation.evidence import write_evidence

        write_evidence(report)
    return 0


def _jsonable(v):
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    if isinstance(v, np.ndarray):
        return v.tolist()
    return str(v)


def _model_ids(args: argparse.Namespace) -> dict:
    from cardiacmotion.models.weights import manifest_entry

    cstm = manifest_entry("cstm-")
    mmsa = manifest_entry("mmsa-")
    return {"cstm": args.cstm_weights or (cstm or {}).get("id"), "mmsa": args.mmsa_weights or (mmsa or {}).get("id")}
