"""``cardiacmotion train pkecho``: PKEcho-Net from echo-phantom ED->ES clips with ED/ES labels only.

Each iteration draws ``--batch`` clips of T frames (ED first, ES last; guide §1), applies one random
transform per clip to all its frames and masks (rotation +-20 deg, scale 0.9-1.1, shift +-5 %,
horizontal flip; brightness and contrast +-15 %), runs the whole clip and upsamples only the first and
last frame: Dice + boundary loss on every iteration's output (deep supervision, guide §3). Adam with a
poly learning rate (power 0.9) over the run's fraction (iterations or the wall-clock budget, whichever
ends first). Other clip lengths train as well (``--frames``); the positional embedding has that length.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HELP = "train PKEcho-Net (echo: decoder-free region proxies + kernel head with temporal attention, ED/ES labels)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("-o", "--output", required=True, help="weights file to write (.pt)")
    p.add_argument("--phantom-per-view", type=int, default=30, help="training-phantom clips per view (A4C and A2C)")
    p.add_argument("--first-seed", type=int, default=100, help="first phantom seed (held-out evaluation uses 9000+)")
    p.add_argument("--size", type=int, default=128, help="network frame size (multiple of 32)")
    p.add_argument("--frames", type=int, default=10, help="clip length T (ED..ES)")
    p.add_argument("--backbone", default="r18", choices=["r18", "r34", "r50"])
    p.add_argument("--base", type=int, default=16, help="ResNet base width (64 = the paper's; 16 for CPU speed)")
    p.add_argument("--classes", type=int, default=3, choices=[1, 3], help="1: LV only (paper); 3: LV / myocardium / LA")
    p.add_argument("--kernel-iterations", type=int, default=3, help="KSS iterations S (0: the predictor only, KSS ablation)")
    p.add_argument("--upsample", default="mrp", choices=["mrp", "bilinear"], help="bilinear: the MRP ablation")
    p.add_argument("--no-temporal", action="store_true", help="per-frame model (temporal attention off)")
    p.add_argument("--cross-video", action="store_true", help="cross-video attention across the batch (off by default)")
    p.add_argument("--batch", type=int, default=2, help="clips per iteration")
    p.add_argument("--iterations", type=int, default=4000)
    p.add_argument("--minutes", type=float, default=30.0, help="wall-clock budget")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--cache", help="folder caching the prepared phantom clips")
    p.add_argument("--randomize", type=float, default=0.0, metavar="F",
                   help="share of the phantom clips re-imaged by the echo domain randomisation (0-1; 0 = off)")
    p.add_argument("--log", help="JSON-lines training log")


def augment(frames: torch.Tensor, labels: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """One random transform per clip (module doc), shared by its T frames and their labels.

    Args:
        frames: ``[B, T, S, S]``; labels: ``[B, T, S, S]`` long (-1 stays -1 where it lands).
    """
    b, t, s, _ = frames.shape
    r = torch.rand(b, 7, generator=gen)
    ang = (r[:, 0] * 2 - 1) * math.radians(20)
    sc = 0.9 + 0.2 * r[:, 1]
    flip = torch.where(r[:, 4] < 0.5, -1.0, 1.0)
    theta = torch.zeros(b, 2, 3)
    theta[:, 0, 0] = torch.cos(ang) / sc * flip
    theta[:, 0, 1] = -torch.sin(ang) / sc
    theta[:, 1, 0] = torch.sin(ang) / sc * flip
    theta[:, 1, 1] = torch.cos(ang) / sc
    theta[:, :, 2] = (r[:, 2:4] * 2 - 1) * 0.05
    grid = F.affine_grid(theta, [b, t, s, s], align_corners=False)
    x = F.grid_sample(frames, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    y = F.grid_sample(labels.float() + 1, grid, mode="nearest", padding_mode="zeros", align_corners=False).long() - 1
    labelled = (labels.amax((-2, -1)) >= 0)[:, :, None, None]
    y = torch.where(labelled, y.clamp_min(0), -1)  # outside the rotated frame: background on labelled frames
    contrast = 1 + (r[:, 5] * 2 - 1) * 0.15
    bright = (r[:, 6] * 2 - 1) * 0.15
    x = (x * contrast[:, None, None, None] + bright[:, None, None, None]).clamp_min(0)
    return x, y


def sample_batch(clips, n: int, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` clips: frames ``[n, T, S, S]`` and labels ``[n, T, S, S]`` (-1 except the first and last frame)."""
    pick = [clips[int(i)] for i in rng.integers(len(clips), size=n)]
    for c in pick:
        assert int(c.labels[1:-1].max()) == -1, "a label of an unlabelled frame reached the training batch"
    return torch.stack([c.frames for c in pick]), torch.stack([c.labels for c in pick])


def targets(labels: torch.Tensor, classes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """First and last frame of ``[B, T, S, S]`` labels -> masks and signed distances ``[B, 2, c, S, S]``."""
    from cardiacmotion.models.pkecho_loss import one_hot_targets, signed_distance

    ends = labels[:, [0, -1]]
    assert int(ends.min()) >= 0, "the ED/ES frames of a training clip must be labelled"
    g = one_hot_targets(ends, classes)
    return g, signed_distance(g)


def train(args: argparse.Namespace) -> int:
    from cardiacmotion.echo.pkecho_data import load_training_clips
    from cardiacmotion.echo.pkecho_weights import save_pkecho
    from cardiacmotion.errors import InputError
    from cardiacmotion.models.pkecho import PKEchoNet, parameter_count
    from cardiacmotion.models.pkecho_loss import pkecho_loss
    from cardiacmotion.models.sscf_teacher import poly_lr

    if args.size % 32:
        raise InputError(f"train pkecho: --size must be a multiple of 32, got {args.size}")
    if args.frames < 2:
        raise InputError(f"train pkecho: --frames must be at least 2 (ED and ES), got {args.frames}")
    torch.set_num_threads(max(1, int(args.threads)))
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    say = (lambda m: print(m, file=sys.stderr, flush=True))
    t_data = time.perf_counter()
    clips = load_training_clips(args.first_seed, args.phantom_per_view, args.size, args.frames, args.cache, log=say,
                                randomize=float(args.randomize))
    say(f"{len(clips)} clips of {args.frames} frames in {time.perf_counter() - t_data:.0f} s")
    model = PKEchoNet(args.backbone, args.base, args.classes, iterations=args.kernel_iterations, frames=args.frames,
                      cross_video=args.cross_video, upsample=args.upsample, temporal=not args.no_temporal)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    logf = open(args.log, "a") if args.log else None
    t0 = time.perf_counter()
    budget = 60.0 * args.minutes
    it, stopped = 0, False
    hist: list[dict] = []
    model.train()
    while it < args.iterations:
        frac = max(it / args.iterations, (time.perf_counter() - t0) / budget)
        if frac >= 1.0:
            stopped = True
            break
        for g in opt.param_groups:
            g["lr"] = poly_lr(args.lr, frac, 1.0)
        x, y = augment(*sample_batch(clips, args.batch, rng), gen)
        g, phi = targets(y, args.classes)
        outs = model(x[:, :, None], frames_out=[0, args.frames - 1], deep=True)
        loss, dice = pkecho_loss(outs, g, phi)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        it += 1
        rec = {"it": it, "loss": float(loss.detach()), "dice_train": dice, "lr": opt.param_groups[0]["lr"],
               "seconds": round(time.perf_counter() - t0, 1)}
        hist.append(rec)
        if logf:
            logf.write(json.dumps(rec) + "\n")
            logf.flush()
        if it % 25 == 0:
            recent = hist[-25:]
            say(f"it {it} loss {np.mean([r['loss'] for r in recent]):.4f} dice(train ED/ES) "
                f"{np.mean([r['dice_train'] for r in recent]):.3f} lr {rec['lr']:.2e} {rec['seconds']:.0f} s")
    minutes = (time.perf_counter() - t0) / 60
    meta = {"iterations": it, "stopped_by_time": stopped, "train_minutes": round(minutes, 2),
            "final_loss": float(np.mean([r["loss"] for r in hist[-50:]])) if hist else None,
            "final_train_dice": float(np.mean([r["dice_train"] for r in hist[-50:]])) if hist else None,
            "parameters": parameter_count(model), "clips": len(clips),
            "args": {k: v for k, v in vars(args).items() if k != "func" and not callable(v)}}
    mm = 256 * 0.475 / args.size  # phantom: 256 rows of 0.45-0.5 mm, square-padded to the network size
    sha = save_pkecho(args.output, model, args.size, meta, mm)
    say(f"wrote {args.output} (sha256 {sha[:12]}..., {it} iterations, {minutes:.1f} min)")
    return 0
