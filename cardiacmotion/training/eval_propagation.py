"""Accuracy and speed of a memory-propagation network in the 4D order (held-out data only).

Phantom cases use seeds below 100 (training uses 1000+ / 2000+); each is seeded as the phantom
says (MR: the mid slice at ED) and propagated with :func:`cardiacmotion.propagation.order.propagate_4d`.
Dice is pooled over all phases and slices of a case, then averaged over cases; basal and apical
thirds (of the slices with LV myocardium at ED) are reported separately.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import torch

from cardiacmotion.propagation.memory import MemoryPropagator

MR_VALUES = {"LV": 3, "Myo": 2, "RV": 1}
ECHO_VALUES = {"LV": 1, "Myo": 2}


def make_factory(net, size: int, device: Optional[torch.device] = None) -> Callable[..., MemoryPropagator]:
    """``make(labels, memory_frames=2)`` for :func:`propagate_4d`, from an in-memory network."""
    device = device or next(net.parameters()).device

    def make(labels, memory_frames: int = 2) -> MemoryPropagator:
        return MemoryPropagator(device, labels, net, input_size=(size, size), capacity=max(1, int(memory_frames) - 1))

    return make


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    s = int(a.sum()) + int(b.sum())
    return float("nan") if s == 0 else 2.0 * float((a & b).sum()) / s


def _phantom(kind: str, seed: int):
    from cardiacmotion import phantom
    from cardiacmotion.propagation.order import SeedSet

    pc = (phantom.make_mr_case if kind == "mr" else phantom.make_echo_case)(seed)
    T = pc.image.array.shape[0]
    s = pc.seed.array[0] if pc.seed.array.shape[0] == 1 else pc.seed.array[pc.seed_phase]
    labels = np.zeros(pc.image.array.shape, np.uint8)
    labels[pc.seed_phase] = s
    seeded = np.zeros(pc.image.array.shape[:2], bool)
    seeded[pc.seed_phase] = s.reshape(s.shape[0], -1).any(axis=1)
    assert T == labels.shape[0]
    return pc, SeedSet(labels=labels, seeded=seeded)


def _levels(truth: np.ndarray, ed: int, apex: int) -> dict[str, list[int]]:
    """Basal / mid / apical thirds of the slices with myocardium at ED (apex side from the geometry)."""
    ks = [k for k in range(truth.shape[1]) if (truth[ed, k] == 2).any()]
    if apex < 0:
        ks = ks[::-1]
    n = len(ks)
    a, b = n // 3, n - n // 3
    return {"basal": ks[:a], "mid": ks[a:b], "apical": ks[b:]}


def evaluate_phantoms(net, size: int, n_mr: int, n_echo: int = 0, first_seed: int = 0, log=None) -> dict:
    """Mean Dice on held-out phantoms (seeds ``first_seed..``) and frames/s of the 4D run."""
    from cardiacmotion.propagation.order import apex_step, propagate_4d

    make = make_factory(net, size)
    out: dict = {}
    for kind, n, values in (("mr", n_mr, MR_VALUES), ("echo", n_echo, ECHO_VALUES)):
        if n <= 0:
            continue
        rows, frames, secs = [], 0, 0.0
        for s in range(first_seed, first_seed + n):
            try:
                pc, seeds = _phantom(kind, s)
            except (ImportError, AttributeError) as exc:
                out[kind] = {"skipped": f"{kind} phantom not available ({exc})"}
                break
            truth = np.asarray(pc.labels.array)
            t0 = time.perf_counter()
            seg = propagate_4d(pc.image, seeds, make)
            secs += time.perf_counter() - t0
            frames += truth.shape[0] * truth.shape[1]
            row = {k: _dice(seg == v, truth == v) for k, v in values.items()}
            if kind == "mr":
                ed = int(pc.truth.get("ed_phase", pc.seed_phase))
                for level, ks in _levels(truth, ed, apex_step(pc.image)).items():
                    for k, v in values.items():
                        row[f"{level}_{k}"] = _dice(seg[:, ks] == v, truth[:, ks] == v) if ks else float("nan")
            rows.append(row)
            if log:
                log(event="eval", kind=kind, case=s, **{k: round(x, 4) for k, x in row.items()})
        else:
            keys = rows[0].keys()
            out[kind] = {k: round(float(np.nanmean([r[k] for r in rows])), 4) for k in keys}
            out[kind].update(cases=f"seeds {first_seed}..{first_seed + n - 1}", frames_per_s=round(frames / max(secs, 1e-9), 1))
    return out


def evaluate_sunnybrook(net, size: int, root: Path) -> list[dict]:
    """Both studies seeded on the mid contoured ED slice (LV + myocardium); other slices scored.

    The propagation gets the per-phase LV extent step as ``segment`` applies it, and the clinical
    numbers are what ``function`` reports over all slices (``ef_pred``, ``edv_pred_ml``, ...;
    ``ef_expert`` is the expert's EF over every slice it contoured); ``ef_pred_contoured`` /
    ``ef_expert_contoured`` keep the older measure over the slices contoured at ED and ES only.
    """
    from cardiacmotion.io.sunnybrook import load_sunnybrook, sunnybrook_studies
    from cardiacmotion.propagation.evaluate import sunnybrook_function
    from cardiacmotion.propagation.extent import lv_extent
    from cardiacmotion.propagation.evaluate import expert_mid_seed
    from cardiacmotion.propagation.order import propagate_4d

    make = make_factory(net, size)
    rows = []
    for study_dir, contours_dir in sunnybrook_studies(root):
        image, truth, endo, epi = load_sunnybrook(study_dir, contours_dir)
        ed, k0, seeds = expert_mid_seed(truth, epi)
        es = int([t for t in np.where(endo.any(axis=1))[0] if t != ed][0])
        ks = np.where(epi[ed])[0]
        t0 = time.perf_counter()
        seg = propagate_4d(image, seeds, make)
        seg, _ = lv_extent(image, seg, seeds.seeded)
        secs = time.perf_counter() - t0
        other_es = [k for k in np.where(endo[es])[0] if k != k0]
        other_ed = [k for k in ks if k != k0]
        fn = sunnybrook_function(image.with_array(seg), truth, endo, ed, es)
        rows.append({
            "study": Path(study_dir).name,
            "lv_dice_es": round(float(np.mean([_dice(seg[es, k] == 3, truth[es, k] == 3) for k in other_es])), 4),
            "myo_dice_ed": round(float(np.mean([_dice(seg[ed, k] == 2, truth[ed, k] == 2) for k in other_ed])), 4),
            "ef_expert": fn["ef_true"],
            "ef_pred": fn["ef_pred"],
            "edv_expert_ml": fn["edv_true_ml"], "edv_pred_ml": fn["edv_pred_ml"],
            "esv_expert_ml": fn["esv_true_ml"], "esv_pred_ml": fn["esv_pred_ml"],
            "mass_expert_g": fn["mass_true_g"], "mass_pred_g": fn["mass_pred_g"],
            "ef_expert_contoured": fn["ef_true_contoured"],
            "ef_pred_contoured": fn["ef_pred_contoured"],
            "seconds": round(secs, 2),
        })
    return rows


def measure_speed(net, size: int, phases: int = 20, slices: int = 12, crop: int = 96, repeats: int = 2) -> dict:
    """Frames/s of a ``phases x slices`` cine with a ``crop``-pixel heart region (best of ``repeats``)."""
    from cardiacmotion.cine import Cine
    from cardiacmotion.propagation.order import SeedSet, propagate_4d

    rng = np.random.default_rng(0)
    h = crop * 2
    img = rng.normal(size=(phases, slices, h, h)).astype(np.float32)
    seed = np.zeros(img.shape, np.uint8)
    c = h // 2
    yy, xx = np.mgrid[:h, :h]
    r = np.hypot(yy - c, xx - c)
    seed[0, slices // 2][r < crop * 0.2] = 3
    seed[0, slices // 2][(r >= crop * 0.2) & (r < crop * 0.28)] = 2
    seed[0, slices // 2][(np.hypot(yy - c, xx - c + crop * 0.4) < crop * 0.2) & (r >= crop * 0.28)] = 1
    seeded = np.zeros((phases, slices), bool)
    seeded[0, slices // 2] = True
    cine = Cine(img, np.diag([1.5, 1.5, 8.0, 1.0]), frame_times_ms=np.arange(phases) * 40.0, modality="MR")
    make = make_factory(net, size)
    best, best_cpu = float("inf"), float("inf")
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        propagate_4d(cine, SeedSet(labels=seed, seeded=seeded), make)
        best = min(best, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    threads = torch.get_num_threads()
    # CPU seconds / threads: what the run takes on idle cores (the wall clock here is shared)
    return {"cine": f"{phases}x{slices}", "crop": crop, "input_size": size, "threads": threads,
            "frames_per_s": round(phases * slices / best, 1), "seconds": round(best, 2),
            "frames_per_s_from_cpu_time": round(phases * slices * threads / max(best_cpu, 1e-9), 1),
            "device": str(next(net.parameters()).device)}


def architecture_table(archs: dict, sizes=(96, 128), repeats: int = 2) -> list[dict]:
    """Speed of untrained networks of each architecture and input size (for choosing one)."""
    from cardiacmotion.models.cstm import CSTM, CSTMConfig

    rows = []
    for name, spec in archs.items():
        net = CSTM(CSTMConfig(**spec)).eval()
        params = sum(p.numel() for p in net.parameters())
        for size in sizes:
            row = measure_speed(net, size, repeats=repeats)
            rows.append({"arch": name, "parameters": params, **row})
    return rows
