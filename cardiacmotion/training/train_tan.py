"""``cardiacmotion train tan``: the Temporal Affine Network from the echo phantom (or CAMUS / EchoNet).

Loss (paper Eq. 4): ``0.1 L_plane + 0.1 L_landmarks + 10 L_seg`` with ``L_seg`` = mean cross-entropy
plus the OHEM cross-entropy of the 10 % hardest pixels of each image (Eq. 8), ``L_landmarks`` smooth-L1
(beta 1 px) on the drifts from the template in window pixels, ``L_plane`` two-class cross-entropy.
AdamW with a cosine schedule over the run (iterations or wall-clock budget, whichever ends first).
``--tcm`` fine-tunes with the temporal-coherence module (:mod:`cardiacmotion.echo.tcm`).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

HELP = "train TAN (echo: affine window from three landmarks, multi-task network)"
IGNORE = 255


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("-o", "--output", required=True, help="weights file to write (.pt)")
    p.add_argument("--phantom-per-view", type=int, default=40, help="training-phantom clips per view (A4C and A2C)")
    p.add_argument("--first-seed", type=int, default=100, help="first phantom seed (held-out evaluation uses 9000+)")
    p.add_argument("--camus", help="also train on a CAMUS folder")
    p.add_argument("--echonet", help="also train on an EchoNet-Dynamic folder")
    p.add_argument("--ed-es-only", action="store_true", help="hide every label except ED and ES")
    p.add_argument("--size", type=int, default=96, help="window size (multiple of 32)")
    p.add_argument("--widths", default="16,32,48,64,96", help="encoder widths")
    p.add_argument("--iterations", type=int, default=6000)
    p.add_argument("--minutes", type=float, default=24.0, help="wall-clock budget")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--cache", help="folder caching the generated phantom clips")
    p.add_argument("--init", help="start from these weights (fine-tune; keeps their template)")
    p.add_argument("--tcm", action="store_true", help="fine-tune with the temporal-coherence module (needs --init)")
    p.add_argument("--label-noise-mm", type=float, default=0.0, help="perturb training labels per frame (TCM ablation)")
    p.add_argument("--space", default="affine", choices=["affine", "crop"], help="window: TAN's 3-point affine, or a plain crop (ablation)")
    p.add_argument("--randomize", type=float, default=0.0, metavar="F",
                   help="share of the phantom clips re-imaged by the echo domain randomisation (0-1; 0 = off)")
    p.add_argument("--log", help="JSON-lines training log")


def seg_loss(logits: torch.Tensor, target: torch.Tensor, ohem: float = 0.1) -> torch.Tensor:
    """Mean CE + OHEM CE over the ``ohem`` fraction of hardest pixels of each image."""
    ce = F.cross_entropy(logits, target, ignore_index=IGNORE, reduction="none").flatten(1)
    valid = (target != IGNORE).flatten(1)
    mean = (ce * valid).sum() / valid.sum().clamp_min(1)
    k = max(1, int(ohem * ce.shape[1]))
    hard = ce.topk(k, dim=1).values.mean()
    return mean + hard


def tan_loss(out, batch, w_plane: float = 0.1, w_lmk: float = 0.1, w_seg: float = 10.0) -> tuple[torch.Tensor, dict]:
    seg, drift, plane = out
    ls = seg_loss(seg, batch.labels)
    ll = F.smooth_l1_loss(drift, batch.drifts, beta=1.0)
    lp = F.cross_entropy(plane, batch.views)
    return w_seg * ls + w_lmk * ll + w_plane * lp, {"seg": float(ls.detach()), "lmk": float(ll.detach()), "plane": float(lp.detach())}


def phantom_clips(first_seed: int, per_view: int, cache=None, log=print, randomize: float = 0.0):
    """Training-phantom clips (A4C and A2C), cached as .npz when ``cache`` is given; a ``randomize``
    share of them re-imaged by :mod:`cardiacmotion.phantom.echo_randomize` (chosen per seed and view)."""
    from cardiacmotion.echo.clips import EchoClip, phantom_clip
    from cardiacmotion.phantom.echo_randomize import VERSION, randomize_clip, selected

    out = []
    for view in ("A4C", "A2C"):
        n_rand = 0
        for seed in range(first_seed, first_seed + per_view):
            rand = selected(seed, view, randomize)
            n_rand += rand
            path = Path(cache) / f"phantom-{view}-{seed}{f'-rand{VERSION}' if rand else ''}.npz" if cache else None
            if path is not None and path.is_file():
                z = np.load(path)
                out.append(EchoClip(f"phantom-{view}-{seed}", z["frames"], z["labels"], z["labelled"], z["landmarks"], view,
                                    tuple(z["spacing"]), int(z["ed"]), int(z["es"])))
                continue
            c = None
            plain = Path(cache) / f"phantom-{view}-{seed}.npz" if cache and rand else None
            if plain is not None and plain.is_file():
                z = np.load(plain)
                c = EchoClip(f"phantom-{view}-{seed}", z["frames"].astype(np.float32), z["labels"], z["labelled"], z["landmarks"], view,
                             tuple(z["spacing"]), int(z["ed"]), int(z["es"]))
            c = c if c is not None else phantom_clip(seed, view)
            if rand:
                c = randomize_clip(c, seed)
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                np.savez(path, frames=c.frames.astype(np.float16), labels=c.labels, labelled=c.labelled, landmarks=c.landmarks,
                         spacing=np.array(c.spacing), ed=c.ed, es=c.es)
            out.append(c)
        log(f"{view}: {per_view} phantom clips ready ({n_rand} randomised)")
    for c in out:
        c.frames = np.asarray(c.frames, np.float32)
    return out


def train(args: argparse.Namespace) -> int:
    from cardiacmotion.echo.clips import camus_clips, echonet_clips, hide_except_ed_es
    from cardiacmotion.echo.tan_data import TANTrainingSet
    from cardiacmotion.echo.tan_weights import load_tan, save_tan
    from cardiacmotion.models.tan import TANNet

    torch.set_num_threads(max(1, args.threads))
    rng = np.random.default_rng(args.seed)
    torch.manual_seed(args.seed)
    t0 = time.time()
    log = (lambda m: print(m, file=sys.stderr, flush=True))
    randomize = float(getattr(args, "randomize", 0.0) or 0.0)
    clips = phantom_clips(args.first_seed, args.phantom_per_view, args.cache, log, randomize) if args.phantom_per_view > 0 else []
    if args.camus:
        clips += camus_clips(args.camus)
    if args.echonet:
        clips += echonet_clips(args.echonet)
    if args.ed_es_only:
        clips = [hide_except_ed_es(c) for c in clips]
    if args.label_noise_mm > 0:
        from cardiacmotion.echo.tcm import noisy_labels

        clips = [noisy_labels(c, args.label_noise_mm, rng) for c in clips]
    widths = tuple(int(w) for w in args.widths.split(","))
    template = None
    if args.init:
        model, template, cfg = load_tan(args.init)
        args.size = cfg["size"]
    else:
        model = TANNet(args.size, widths)
    space = cfg.get("space", "affine") if args.init else args.space
    data = TANTrainingSet(clips, args.size, template, space=space, crop_scale=cfg.get("crop_scale") if args.init else None)
    log(f"{len(clips)} clips, {sum(len(x) for x in data.labelled)} labelled frames; template {np.round(data.template, 2).tolist()}; "
        f"translation augmentation +-{data.shift:.2f} px ({time.time() - t0:.0f} s)")
    pairs = None
    if args.tcm:
        from cardiacmotion.echo.tcm import TCMPairs

        pairs = TCMPairs(data, rng)
        log(f"TCM: {len(pairs.pairs)} pairs, {pairs.rejected} rejected by the Hausdorff gate")
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    budget = args.minutes * 60.0
    t_train = time.time()
    logf = open(args.log, "a") if args.log else None
    it, hist = 0, []
    model.train()
    while it < args.iterations and time.time() - t_train < budget:
        frac = max(it / args.iterations, (time.time() - t_train) / budget)
        for g in opt.param_groups:
            g["lr"] = args.lr * 0.5 * (1 + math.cos(math.pi * min(frac, 1.0)))
        if pairs is not None and it % 2 == 1:
            loss, parts = pairs.loss(model, args.batch // 2)
        else:
            batch = data.sample(args.batch, rng)
            loss, parts = tan_loss(model(batch.images), batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
        hist.append(float(loss.detach()))
        it += 1
        if it % 100 == 0:
            rec = {"it": it, "loss": float(np.mean(hist[-100:])), **parts, "minutes": round((time.time() - t_train) / 60, 2)}
            log(json.dumps(rec))
            if logf:
                logf.write(json.dumps(rec) + "\n")
                logf.flush()
    meta = {
        "command": "cardiacmotion " + " ".join(sys.argv[1:]) if sys.argv and "train" in sys.argv else "cardiacmotion train tan",
        "iterations": it, "train_minutes": round((time.time() - t_train) / 60, 2), "final_loss": float(np.mean(hist[-200:])) if hist else None,
        "clips": len(clips), "phantom_seeds": [args.first_seed, args.first_seed + args.phantom_per_view - 1],
        "ed_es_only": bool(args.ed_es_only), "tcm": bool(args.tcm), "translation_px": data.shift,
        "label_noise_mm": args.label_noise_mm, "randomize": randomize,
    }
    sha = save_tan(args.output, model, data.template, meta, space=data.space, crop_scale=data.crop_scale)
    log(f"wrote {args.output} (sha256 {sha[:12]}...) after {it} iterations")
    return 0
