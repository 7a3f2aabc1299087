"""``cardiacmotion train sscf``: SSCF from the echo phantom with ED/ES labels only (mean teacher).

Each iteration: ``--labelled`` windows centred on ED or ES of labelled clips (the supervised loss,
on the student), ``--unlabelled`` windows with a random centre from any clip (student vs EMA teacher,
the consistency loss weighted by the ramp ``(t/t_max)^2``). Adam (weight decay 1e-6 = the paper's
L2 term), poly learning rate; t is the fraction of the run (iterations or the wall-clock budget,
whichever ends first). ``--no-teacher`` is the supervised-only ablation. Guide: ``../shared/specs/SSCF.md`` §3.
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

HELP = "train SSCF (echo: three-frame encoders, semantic calibration/fusion, mean teacher on ED/ES labels)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("-o", "--output", required=True, help="weights file to write (.pt)")
    p.add_argument("--phantom-per-view", type=int, default=30, help="training-phantom clips per view (A4C and A2C)")
    p.add_argument("--first-seed", type=int, default=100, help="first phantom seed (held-out evaluation uses 9000+)")
    p.add_argument("--labelled-fraction", type=float, default=1.0, help="share of clips whose ED/ES labels are used (rest unlabelled)")
    p.add_argument("--size", type=int, default=96, help="network frame size (multiple of 2**(levels-1))")
    p.add_argument("--widths", default="8,16,32,64", help="channels per level")
    p.add_argument("--classes", type=int, default=4, choices=[1, 4], help="1: binary LV (paper); 4: LV/myocardium/LA")
    p.add_argument("--encoders", type=int, default=3, choices=[1, 3], help="3 position-specific encoders; 1 shared (ablation)")
    p.add_argument("--fuse-levels", default="all", help="levels with calibration+fusion ('all', e.g. 1,2,3, or 'none': with --encoders 1 a plain U-Net)")
    p.add_argument("--no-teacher", action="store_true", help="supervised only (ablation)")
    p.add_argument("--iterations", type=int, default=4000)
    p.add_argument("--minutes", type=float, default=24.0, help="wall-clock budget")
    p.add_argument("--labelled", type=int, default=2, help="labelled windows per batch")
    p.add_argument("--unlabelled", type=int, default=2, help="unlabelled windows per batch")
    p.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (paper 1e-4 over 100 epochs on a GPU)")
    p.add_argument("--eta", type=float, default=0.99, help="EMA decay")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--cache", help="folder caching the prepared phantom clips")
    p.add_argument("--init", help="start student and teacher from this SSCF checkpoint (continued training)")
    p.add_argument("--consistency-start", type=float, default=0.0,
                   help="ramp floor: lambda_c = s + (1 - s)(t/t_max)^2 (1.0 when continuing a run whose ramp ended)")
    p.add_argument("--mm-per-px", type=float, default=1.2667,
                   help="network pixel size when the cached clips do not record it (phantom: 256 rows x 0.475 mm / 96)")
    p.add_argument("--label-jitter-mm", type=float, default=0.0,
                   help="label-noise variant: smooth boundary jitter (RMS mm) on the training ED/ES masks (guide: ~0.5)")
    p.add_argument("--timing-error-fraction", type=float, default=0.0,
                   help="label-noise variant: share of labelled clips whose ED/ES masks sit one frame off (guide: 0.2)")
    p.add_argument("--randomize", type=float, default=0.0, metavar="F",
                   help="share of the phantom clips re-imaged by the echo domain randomisation (0-1; 0 = off)")
    p.add_argument("--log", help="JSON-lines training log")


def augment(windows: torch.Tensor, labels: torch.Tensor | None, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor | None]:
    """One random geometric transform per window, shared by its three frames and its mask:
    rotation +-15 deg, scale 0.9-1.1, shift +-5 %, horizontal flip with p 0.5."""
    b = windows.shape[0]
    r = torch.rand(b, 5, generator=gen)
    ang = (r[:, 0] * 2 - 1) * math.radians(15)
    sc = 0.9 + 0.2 * r[:, 1]
    flip = torch.where(r[:, 4] < 0.5, -1.0, 1.0)
    theta = torch.zeros(b, 2, 3)
    theta[:, 0, 0] = torch.cos(ang) / sc * flip
    theta[:, 0, 1] = -torch.sin(ang) / sc
    theta[:, 1, 0] = torch.sin(ang) / sc * flip
    theta[:, 1, 1] = torch.cos(ang) / sc
    theta[:, :, 2] = (r[:, 2:4] * 2 - 1) * 0.05
    grid = F.affine_grid(theta, list(windows.shape), align_corners=False)
    w = F.grid_sample(windows, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    lab = None
    if labels is not None:
        lab = F.grid_sample(labels[:, None].float(), grid, mode="nearest", padding_mode="zeros", align_corners=False)[:, 0].long()
    return w, lab


def perturb(windows: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Independent intensity noise per branch: gamma 0.8-1.2 and Gaussian sigma 0.03."""
    g = 0.8 + 0.4 * torch.rand(windows.shape[0], 1, 1, 1, generator=gen)
    x = windows.clamp_min(0) ** g
    return x + 0.03 * torch.randn(windows.shape, generator=gen)


def sample_windows(clips, n: int, labelled: bool, rng: np.random.Generator):
    """``n`` windows ``[n, 3, S, S]`` (+ centre labels ``[n, S, S]`` when ``labelled``)."""
    from cardiacmotion.echo.sscf_data import window_indices

    pool = [c for c in clips if c.labelled.any()] if labelled else clips
    wins, labs = [], []
    for _ in range(n):
        c = pool[rng.integers(len(pool))]
        t = int(rng.choice(np.nonzero(c.labelled)[0])) if labelled else int(rng.integers(c.frames.shape[0]))
        idx = window_indices([t], c.frames.shape[0])[0]
        wins.append(c.frames[idx])
        if labelled:
            assert bool(c.labelled[t]) and int(c.labels[t].min()) >= 0, "an unlabelled frame reached the supervised loss"
            labs.append(c.labels[t])
    return torch.stack(wins), (torch.stack(labs) if labelled else None)


def train(args: argparse.Namespace) -> int:
    from cardiacmotion.echo.sscf_data import load_training_clips
    from cardiacmotion.echo.sscf_weights import save_sscf
    from cardiacmotion.models.sscf import SSCFNet, parameter_count
    from cardiacmotion.models.sscf_teacher import (consistency_loss, consistency_weight, ema_update, make_teacher, poly_lr,
                                                   probabilities, supervised_loss)

    torch.set_num_threads(max(1, int(args.threads)))
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    say = (lambda m: print(m, file=sys.stderr, flush=True))
    t_data = time.perf_counter()
    clips = load_training_clips(args.first_seed, args.phantom_per_view, args.size, args.cache, args.labelled_fraction, log=say,
                                randomize=float(getattr(args, "randomize", 0.0) or 0.0))
    if args.label_jitter_mm > 0 or args.timing_error_fraction > 0:
        from cardiacmotion.echo.sscf_data import add_label_noise

        clips = add_label_noise(clips, args.label_jitter_mm, args.timing_error_fraction, args.seed)
    say(f"{len(clips)} clips ({sum(bool(c.labelled.any()) for c in clips)} with ED/ES labels) in {time.perf_counter() - t_data:.0f} s")
    widths = tuple(int(w) for w in args.widths.split(","))
    fuse = None if args.fuse_levels == "all" else () if args.fuse_levels == "none" else tuple(int(x) for x in args.fuse_levels.split(","))
    model = SSCFNet(widths, args.classes, args.encoders, fuse_levels=fuse)
    if args.init:
        from cardiacmotion.echo.sscf_weights import load_sscf

        model, cfg = load_sscf(args.init)
        if int(cfg["size"]) != args.size:
            from cardiacmotion.errors import InputError

            raise InputError(f"--init {args.init} was trained at {cfg['size']} px, not --size {args.size}")
        model.train()
    teacher = None if args.no_teacher else make_teacher(model)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=1e-6)
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
        xl, yl = sample_windows(clips, args.labelled, True, rng)
        xl, yl = augment(xl, yl, gen)
        parts = [perturb(xl, gen)]
        if teacher is not None:
            xu, _ = sample_windows(clips, args.unlabelled, False, rng)
            xu, _ = augment(xu, None, gen)
            parts.append(perturb(xu, gen))
        logits = model(torch.cat(parts))
        loss_s, dice = supervised_loss(logits[: len(xl)], yl)
        loss, lam, loss_c = loss_s, 0.0, torch.zeros(())
        if teacher is not None:
            with torch.no_grad():
                pt = probabilities(teacher(perturb(xu, gen)))
            loss_c = consistency_loss(logits[len(xl):], pt)
            lam = args.consistency_start + (1 - args.consistency_start) * consistency_weight(frac, 1.0)
            loss = loss_s + lam * loss_c
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if teacher is not None:
            ema_update(teacher, model, args.eta)
        it += 1
        rec = {"it": it, "loss": float(loss.detach()), "sup": float(loss_s.detach()), "cons": float(loss_c.detach()),
               "lambda_c": lam, "dice_train": dice, "lr": opt.param_groups[0]["lr"], "seconds": round(time.perf_counter() - t0, 1)}
        hist.append(rec)
        if logf:
            logf.write(json.dumps(rec) + "\n")
            logf.flush()
        if it % 25 == 0:
            recent = hist[-25:]
            say(f"it {it} loss {np.mean([r['loss'] for r in recent]):.4f} dice(train ED/ES) {np.mean([r['dice_train'] for r in recent]):.3f} "
                f"cons {np.mean([r['cons'] for r in recent]):.5f} lambda {lam:.3f} {rec['seconds']:.0f} s")
    minutes = (time.perf_counter() - t0) / 60
    meta = {"iterations": it, "stopped_by_time": stopped, "train_minutes": round(minutes, 2),
            "final_loss": float(np.mean([r["loss"] for r in hist[-50:]])) if hist else None,
            "final_train_dice": float(np.mean([r["dice_train"] for r in hist[-50:]])) if hist else None,
            "parameters": parameter_count(model), "clips": len(clips), "labelled_clips": int(sum(bool(c.labelled.any()) for c in clips)),
            "mean_teacher": teacher is not None, "args": {k: v for k, v in vars(args).items() if k != "func" and not callable(v)}}
    mms = [c.mm_per_px for c in clips]
    mm = float(np.mean(mms)) if all(m is not None for m in mms) else args.mm_per_px
    sha = save_sscf(args.output, model, args.size, meta, mm)
    if teacher is not None:
        save_sscf(str(args.output).replace(".pt", "") + "-teacher.pt", teacher, args.size, meta, mm)
    say(f"wrote {args.output} (sha256 {sha[:12]}..., {it} iterations, {minutes:.1f} min)")
    return 0
