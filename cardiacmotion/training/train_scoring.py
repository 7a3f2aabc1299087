"""Train / evaluate the MMSA learned wall-motion scorer on phantom cine MR.

Reproduce the bundled weights (one GPU; about 3 minutes of phantom generation with 11 worker
processes, then 2.5 minutes of training; the phantom segment sequences are cached in
``$CARDIACMOTION_CACHE`` or the system temp dir, never in the repository). ``--segmentation both``
samples every training phantom twice: from its true labels and from the product's own registration
segmentation, so the scorer learns to read imperfect contours::

    cardiacmotion train scoring --device cuda --threads 2 --fast-phantoms --segmentation both --workers 11 \\
        --train-seeds 0-239 --val-seeds 5000-5015 --epochs 24 --batch 8 --lr 0.003 --seed 0 \\
        -o Resources/Models/mmsa-v0.2.0.pt

The bundled file came from this command with ``--max-minutes 2.5``, which stopped it after epoch 23
of 24 (the best validation epoch is kept), so it is not bit-reproducible. The same command with
``--device cpu`` runs on a CPU too (not timed end to end here: the 480 phantom studies with their
registration segmentations alone take on the order of an hour on 2 cores); two short CPU stages (``--epochs 2``, then
``--init`` from the first) gave the earlier ``mmsa-v0.1.0`` (4-way 75 %).

Evaluate (held-out seeds, never used in training) and compare with the thickening method::

    cardiacmotion evaluate scoring --weights Resources/Models/mmsa-v0.2.0.pt --eval-seeds 9000-9039 \\
        --eval-segmentation memory --workers 2 --json out.json
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from cardiacmotion.errors import InputError

HELP = "learned wall-motion scoring (MMSA) on phantom cine MR"


def parse_seeds(text: str) -> List[int]:
    """``"0-99,200,300-309"`` -> list of ints."""
    out: List[int] = []
    try:
        for part in text.split(","):
            part = part.strip()
            if "-" in part:
                a, b = part.split("-")
                out.extend(range(int(a), int(b) + 1))
            elif part:
                out.append(int(part))
    except ValueError:
        raise InputError(f"cannot read seeds {text!r} (expected e.g. 0-99,200)") from None
    if not out:
        raise InputError("no seeds given")
    return out


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``cardiacmotion train scoring`` and ``evaluate scoring``."""
    p.add_argument("-o", "--output", default="mmsa.pt", help="weights file to write (train)")
    p.add_argument("--weights", default=None, help="checkpoint to evaluate (default: the bundled one)")
    p.add_argument("--train-seeds", default="0-299", help="phantom seeds for training, e.g. 0-399")
    p.add_argument("--val-seeds", default="5000-5015", help="phantom seeds for validation during training")
    p.add_argument("--eval-seeds", default="9000-9039", help="held-out phantom seeds for evaluate")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch", type=int, default=2, help="studies per step (16 segments each)")
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--flow-weight", type=float, default=1.0, help="weight of the unsupervised flow loss")
    p.add_argument("--seed", type=int, default=0, help="random seed (weights init, order, augmentation)")
    p.add_argument("--threads", type=int, default=2, help="CPU threads for torch")
    p.add_argument("--max-minutes", type=float, default=0.0, help="stop training after this many minutes (0: no limit)")
    p.add_argument("--cache-dir", default=None, help="where phantom segment sequences are cached (default: temp dir)")
    p.add_argument("--fast-phantoms", action="store_true",
                   help="train on phantoms with a smaller field of view (same heart, ~2x faster to generate)")
    p.add_argument("--init", default=None, help="start from this checkpoint's weights (fine-tuning)")
    p.add_argument("--segmentation", default="truth",
                   help="segmentation(s) the training sequences are sampled with, comma-separated: truth (the phantom "
                        "labels), perturbed (labels with propagation-like errors), registration / memory (the product's "
                        "own propagation from the seed slice); 'both' = truth,registration. Each seed once per "
                        "segmentation; validation uses the last one")
    p.add_argument("--randomize", action="store_true",
                   help="train on phantoms widened by domain randomisation (cardiacmotion.phantom.randomize)")
    p.add_argument("--eval-segmentation", default="truth", choices=("truth", "registration", "memory"),
                   help="evaluate: score from the phantom labels or from the product's own segmentation by that method")
    p.add_argument("--workers", type=int, default=0, help="processes building phantom cases (0: in this process)")
    p.add_argument("--json", default=None, help="write the evaluation metrics here (evaluate)")
    p.add_argument("--no-compare", action="store_true", help="evaluate: skip the thickening comparison")
    p.add_argument("--manifest", action="store_true",
                   help="evaluate: write the weights' entry (sha256, accuracy, speed) into Resources/Models/models.json")


def training_segmentations(text: str) -> List[str]:
    """``--segmentation`` as a list ('both' is truth + registration)."""
    from cardiacmotion.training.scoring_data import SEGMENTATIONS

    segs = ["truth", "registration"] if text == "both" else [s.strip() for s in text.split(",") if s.strip()]
    bad = [s for s in segs if s not in SEGMENTATIONS]
    if bad or not segs:
        raise InputError(f"--segmentation {text!r}: expected 'both' or a comma-separated list of {', '.join(SEGMENTATIONS)}")
    return segs


def _set_seed(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


def class_weights(truths: Sequence[np.ndarray]) -> np.ndarray:
    """Inverse-frequency weights of the four classes (normalised to mean 1) for the loss."""
    counts = np.bincount(np.concatenate(truths) - 1, minlength=4).astype(float)
    w = np.where(counts > 0, counts.sum() / np.maximum(counts, 1) / 4.0, 0.0)
    return w / w[counts > 0].mean()


def _augment(x, rng: np.random.Generator):
    """Per batch: resample the cycle to a random frame count (cines have 16-35 phases), intensity
    gamma / scale and noise (MR intensities vary between scanners)."""
    import torch

    from cardiacmotion.models.mmsa_blocks import resample_time

    if rng.random() < 0.5:
        # another acquisition rate: resample the cycle to 16-30 frames (the network resamples to its own count)
        x = resample_time(x, int(rng.integers(16, 31)), dim=2)
    gamma = float(rng.uniform(0.7, 1.4))
    x = x.clamp_min(0).pow(gamma) * float(rng.uniform(0.8, 1.2))
    return x + float(rng.uniform(0.0, 0.05)) * torch.randn_like(x)


def train(args: argparse.Namespace) -> int:
    """Train MMSA on phantoms; writes the weights file (architecture id, config, state dict, metadata)."""
    import torch
    import torch.nn.functional as F

    from cardiacmotion.cli.common import make_progress
    from cardiacmotion.device import resolve_device
    from cardiacmotion.models.mmsa import ARCHITECTURE, MMSAConfig, MMSANet, normalise_segments
    from cardiacmotion.training.scoring_data import _sampler_name, load_cases

    torch.set_num_threads(max(1, args.threads))
    _set_seed(args.seed)
    device = resolve_device(args.device)
    progress = make_progress(args)
    cfg = MMSAConfig()
    train_seeds, val_seeds = parse_seeds(args.train_seeds), parse_seeds(args.val_seeds)
    if set(train_seeds) & set(val_seeds):
        raise InputError("training and validation seeds overlap")
    t0 = time.time()
    raw_r = cfg.radial * cfg.radial_oversample  # cached as sampled; pooled exactly as inference pools
    segs = training_segmentations(args.segmentation)
    randomize = bool(getattr(args, "randomize", False))
    train_cases = []
    for seg in segs:
        train_cases += load_cases(train_seeds, raw_r, cfg.angular, args.cache_dir, progress=lambda f, m: progress(0.3 * f, m),
                                  fast=args.fast_phantoms, segmentation=seg, workers=args.workers, randomize=randomize)
    val_cases = load_cases(val_seeds, raw_r, cfg.angular, args.cache_dir, fast=args.fast_phantoms,
                           segmentation=segs[-1], workers=args.workers, randomize=randomize)
    train_cases = [(cfg.pool_radial(s), t) for s, t in train_cases]
    val_cases = [(cfg.pool_radial(s), t) for s, t in val_cases]
    _log(f"data: {len(train_cases)} train / {len(val_cases)} val studies in {time.time() - t0:.0f} s; "
         f"class counts {np.bincount(np.concatenate([c[1] for c in train_cases]) - 1, minlength=4).tolist()}")
    weights = torch.tensor(class_weights([c[1] for c in train_cases]), dtype=torch.float32, device=device)

    model = MMSANet(cfg).to(device)
    if args.init:
        import torch as _t

        model.load_state_dict(_t.load(args.init, map_location="cpu", weights_only=True)["state_dict"])
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    steps_per_epoch = max(1, len(train_cases) // args.batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.epochs * steps_per_epoch, pct_start=0.15)
    rng = np.random.default_rng(args.seed)
    out = Path(args.output)
    best = (-1.0, None)
    t_train = time.time()
    stopped = False
    for epoch in range(args.epochs):
        model.train()
        order = rng.permutation(len(train_cases))
        losses = []
        for step in range(steps_per_epoch):
            idx = order[step * args.batch:(step + 1) * args.batch]
            x, y = _batch([train_cases[i] for i in idx], device)
            x = _augment(normalise_segments(x), rng)
            logits, fwd, bwd = model(x)
            ce = F.cross_entropy(logits.reshape(-1, 4), y.reshape(-1), weight=weights)
            flow = model.flow_loss(x, fwd, bwd)
            loss = ce + args.flow_weight * flow
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            sched.step()
            losses.append((ce.item(), flow.item()))
            progress(0.3 + 0.7 * (epoch + (step + 1) / steps_per_epoch) / args.epochs, f"epoch {epoch + 1} step {step + 1}")
            if args.max_minutes and time.time() - t_train > 60 * args.max_minutes:
                stopped = True
                break
        metrics = evaluate_cases(model, val_cases, device)
        ce_m, fl_m = np.mean(losses, 0)
        _log(f"epoch {epoch + 1}: ce {ce_m:.3f} flow {fl_m:.4f} | val acc4 {metrics['accuracy_4way']:.3f} "
             f"abn {metrics['accuracy_abnormal']:.3f} msi r {metrics['msi_pearson_r']:.3f} | {time.time() - t_train:.0f} s")
        if metrics["accuracy_4way"] >= best[0]:
            best = (metrics["accuracy_4way"], {k: v.detach().cpu().clone() for k, v in model.state_dict().items()})
        _save(out.with_suffix(".last.pt"), model.state_dict(), cfg, {"epoch": epoch + 1, "val": metrics})
        if stopped:
            _log("time budget reached")
            break
    meta = {
        "train_seeds": args.train_seeds, "val_seeds": args.val_seeds, "epochs_run": epoch + 1,
        "seed": args.seed, "val_accuracy_4way": best[0], "sampler": _sampler_name(), "train_seconds": round(time.time() - t_train, 1),
        "segmentation": args.segmentation, "fast_phantoms": bool(args.fast_phantoms), "batch": args.batch, "lr": args.lr,
        "randomized": randomize, "init": Path(args.init).name if args.init else None,
        "device": str(device),
    }
    _save(out, best[1], cfg, meta)
    out.with_suffix(".last.pt").unlink(missing_ok=True)
    _log(f"wrote {out} (architecture {ARCHITECTURE}, best val 4-way accuracy {best[0]:.3f})")
    progress(1.0, "done")
    return 0


def _batch(cases, device):
    import torch

    frames = min(c[0].shape[1] for c in cases)  # studies of one batch share a frame count
    x = torch.from_numpy(np.stack([c[0][:, :frames] for c in cases])).to(device)
    y = torch.from_numpy(np.stack([c[1] for c in cases]).astype(np.int64) - 1).to(device)
    return x, y


def _save(path: Path, state: Dict, cfg, meta: Dict) -> None:
    import torch

    from cardiacmotion.io.atomic import atomic_output
    from cardiacmotion.models.mmsa import ARCHITECTURE

    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(path) as tmp:
        from cardiacmotion.models.weights import tensor_digest

        torch.save({"architecture": ARCHITECTURE, "config": cfg.to_dict(), "state_dict": state, "meta": meta,
                    "tensor_sha256": tensor_digest(state)}, tmp)  # verified at load (issue 19)


def _log(msg: str) -> None:
    print(f"[train scoring] {msg}", file=sys.stderr, flush=True)


def wall_motion_metrics(truth: np.ndarray, pred: np.ndarray) -> Dict:
    """4-way and abnormality (score >= 2) accuracy, MSI Pearson r, confusion matrix (rows truth 1-4).

    ``truth``, ``pred``: [studies, 16] scores 1..4.
    """
    truth, pred = np.asarray(truth), np.asarray(pred)
    conf = np.zeros((4, 4), int)
    for t, p in zip(truth.ravel(), pred.ravel()):
        conf[t - 1, p - 1] += 1
    msi_t, msi_p = truth.mean(1), pred.mean(1)
    if msi_t.std() > 0 and msi_p.std() > 0:
        r = float(np.corrcoef(msi_t, msi_p)[0, 1])
    else:
        r = float("nan")
    return {
        "studies": int(truth.shape[0]),
        "segments": int(truth.size),
        "accuracy_4way": float((truth == pred).mean()),
        "accuracy_abnormal": float(((truth >= 2) == (pred >= 2)).mean()),
        "msi_pearson_r": r,
        "msi_mean_abs_error": float(np.abs(msi_t - msi_p).mean()),
        "confusion_matrix": conf.tolist(),
    }


def evaluate_cases(model, cases, device) -> Dict:
    """Metrics of ``model`` on cached cases [(segments, truth)]."""
    from cardiacmotion.scoring.learned import predict_probabilities

    model.eval()
    preds = [np.argmax(predict_probabilities(model, s, device), 1) + 1 for s, _ in cases]
    return wall_motion_metrics(np.stack([t for _, t in cases]), np.stack(preds))


def evaluate(args: argparse.Namespace) -> int:
    """Score held-out phantoms end to end (image + ground-truth segmentation + landmarks) with
    MMSA and, unless ``--no-compare``, the thickening method; print (and write) the metrics."""
    import torch

    from cardiacmotion.cli.common import make_progress
    from cardiacmotion.device import resolve_device
    from cardiacmotion.scoring.learned import load_model

    torch.set_num_threads(max(1, args.threads))
    device = resolve_device(args.device)
    progress = make_progress(args)
    load_model(args.weights, device)  # a bad checkpoint fails here, once, with its one-line reason
    seeds = parse_seeds(args.eval_seeds)
    jobs = [(seed, args.weights, str(device) if args.workers <= 1 else "cpu", args.eval_segmentation, not args.no_compare)
            for seed in seeds]
    rows = []
    if args.workers > 1:
        from concurrent.futures import ProcessPoolExecutor

        from cardiacmotion.training.scoring_data import _one_thread

        with ProcessPoolExecutor(max_workers=args.workers, initializer=_one_thread) as pool:
            for n, row in enumerate(pool.map(_evaluate_seed, jobs)):
                rows.append(row)
                progress((n + 1) / len(seeds), f"case {n + 1}/{len(seeds)}")
    else:
        for n, job in enumerate(jobs):
            rows.append(_evaluate_seed(job))
            progress((n + 1) / len(seeds), f"case {n + 1}/{len(seeds)}")
    truth = [r["truth"] for r in rows]
    pred = [r["learned"] for r in rows]
    thick = [r["thickening"] for r in rows if r.get("thickening") is not None]
    seconds = [r["seconds"] for r in rows]
    report = {"learned": wall_motion_metrics(np.array(truth), np.array(pred)),
              "seconds_per_study": float(np.median(seconds)), "device": jobs[0][2], "eval_seeds": args.eval_seeds,
              "segmentation": args.eval_segmentation}
    if thick and len(thick) == len(truth):
        report["thickening"] = wall_motion_metrics(np.array(truth), np.array(thick))
    text = json.dumps(report, indent=2)
    print(text)
    if args.manifest:
        write_manifest_entry(Path(args.weights) if args.weights else None, report)
    if args.json:
        from cardiacmotion.io.atomic import atomic_output

        with atomic_output(args.json) as tmp:
            Path(tmp).write_text(text)
    return 0


_MODELS: Dict = {}


def _evaluate_seed(job: tuple) -> Dict:
    """Truth, learned and thickening scores of one held-out phantom (runs in a worker process too)."""
    from cardiacmotion.phantom import make_mr_case
    from cardiacmotion.scoring.learned import load_model, score_learned
    from cardiacmotion.scoring.thickening import score_thickening
    from cardiacmotion.training.scoring_data import case_options, product_segmentation

    seed, weights, device, segmentation, compare = job
    key = (weights, device)
    if key not in _MODELS:
        _MODELS[key] = load_model(weights, device)
    case = make_mr_case(seed, **case_options(seed))
    seg = case.labels if segmentation == "truth" else product_segmentation(case, segmentation)
    row: Dict = {"seed": seed, "truth": [int(s["score"]) for s in sorted(case.truth["segments"], key=lambda s: s["id"])[:16]]}
    t = time.perf_counter()
    result = score_learned(case.image, seg, case.landmarks, device=device, model=_MODELS[key])
    row["seconds"] = time.perf_counter() - t
    row["learned"] = [s["score"] for s in result["segments"]]
    if compare:
        res = score_thickening(case.image, seg, case.landmarks)
        # A segment thickening cannot assess (no measurable wall) is read as normal, the default report.
        thick = sorted(res["segments"], key=lambda s: s["id"])[:16]
        row["thickening"] = [1 if s["score"] is None else int(s["score"]) for s in thick]
        row["thickening_unassessed"] = sum(s["score"] is None for s in thick)
    return row


TRAINING_COMMAND = ("cardiacmotion train scoring --device cuda --threads 2 --fast-phantoms --segmentation both "
                    "--workers 11 --train-seeds 0-239 --val-seeds 5000-5015 --epochs 24 --batch 8 --lr 0.003 --seed 0 "
                    "-o Resources/Models/mmsa-v0.2.0.pt")


def write_manifest_entry(weights: Optional[Path], report: Dict) -> Path:
    """Insert or replace the MMSA object in ``models.json`` (``{"models": [...]}``), atomically."""
    import torch

    from cardiacmotion.io.atomic import atomic_output
    from cardiacmotion.models.mmsa import ARCHITECTURE
    from cardiacmotion.scoring.learned import DEFAULT_WEIGHTS, MODEL_ID, MODELS_DIR, sha256_of

    weights = weights or DEFAULT_WEIGHTS
    ckpt = torch.load(weights, map_location="cpu", weights_only=True)
    meta, cfg = ckpt.get("meta", {}), ckpt["config"]
    entry = {
        "id": MODEL_ID,
        "file": weights.name,
        "architecture": ARCHITECTURE,
        "task": "regional wall-motion scoring of the 16 AHA segments from short-axis cine MR "
                "(1 normal, 2 hypokinetic, 3 akinetic, 4 dyskinetic)",
        "paper": "Xue et al., MMSA (multi-scale motion-based spatial attention)",
        "input": {
            "segments": "16 polar segment sequences [16, T, R, A] from cardiacmotion.scoring.polar.segment_sequences "
                        "(image + 4D segmentation + RV insertion landmarks), ED first, any T",
            "radial": cfg["radial"], "angular": cfg["angular"],
            "intensity": "per-study 1st-99th percentile to [0, 1]",
        },
        "config": cfg,
        "training_data": {
            "source": "synthetic cine MR phantoms (cardiacmotion.phantom.make_mr_case), class-balanced segment scores",
            "train_seeds": meta.get("train_seeds"), "val_seeds": meta.get("val_seeds"),
            "epochs": meta.get("epochs_run"), "seed": meta.get("seed"), "train_seconds": meta.get("train_seconds"),
            "train_device": meta.get("device", "cpu"), "segmentation": meta.get("segmentation", "truth"),
        },
        "accuracy": {"eval_seeds": report["eval_seeds"], "learned": report["learned"],
                     "thickening_same_cases": report.get("thickening"),
                     "segmentation_used": ("ground-truth phantom labels" if report.get("segmentation", "truth") == "truth"
                                           else f"the product's own {report['segmentation']} segmentation from the seed slice")},
        "speed": {"seconds_per_study": round(report["seconds_per_study"], 3), "device": report["device"],
                  "includes": "polar sampling + network"},
        "sha256": sha256_of(weights),
        "size_bytes": weights.stat().st_size,
        "training_command": TRAINING_COMMAND,
        "evaluation_command": (f"cardiacmotion evaluate scoring --device cpu --eval-seeds {report['eval_seeds']} "
                               f"--eval-segmentation {report.get('segmentation', 'truth')} --workers 2 --manifest"),
    }
    path = MODELS_DIR / "models.json"
    data = json.loads(path.read_text()) if path.is_file() else {"models": []}
    models = data.get("models", []) if isinstance(data, dict) else list(data)
    models = [m for m in models if m.get("id") != MODEL_ID] + [entry]
    data = {"models": sorted(models, key=lambda m: str(m.get("id")))} if isinstance(data, list) else {**data, "models": sorted(models, key=lambda m: str(m.get("id")))}
    MODELS_DIR.mkdir(parents=True, exist_ok=True)
    with atomic_output(path) as tmp:
        Path(tmp).write_text(json.dumps(data, indent=2) + "\n")
    return path
