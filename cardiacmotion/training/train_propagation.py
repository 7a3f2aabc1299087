"""``cardiacmotion train propagation``: train the CSTM memory-propagation network.

The bundled ``cstm-v0.3.0`` is a fine-tune of ``cstm-v0.2.0`` on the widened (domain-randomised,
:mod:`cardiacmotion.phantom.randomize`) issue-16 phantom plus the porcine study and SCD0000201, run
by ``scripts/gpu_train_v03.sh`` on one GPU (2.5-minute cap, in parallel with an MMSA run)::

    cardiacmotion train propagation --device cuda --arch small --size 128 --lr 0.0007 --seed 3 --threads 2 \\
        --randomize 0.75 --sunnybrook SCD0000201 --real-fraction 0.3 --real-cache real_train.npz \\
        --init Resources/Models/cstm-v0.2.0.pt --model-id cstm-v0.3.0 --out Resources/Models/cstm-v0.3.0.pt \\
        --iterations 2600 --batch 32 --mr-phantoms 56 --echo-phantoms 12 --workers 7 --eval-mr 2 --eval-echo 1 \\
        --minutes 2.5

``cstm-v0.2.0`` (its starting point) came from two 6000-iteration stages (commands in ``models.json``,
about 7 + 7 minutes on an H100). On 2 CPU cores the same commands with ``--device cpu`` run at about
0.42 iterations/s (batch 32); the README gives a CPU-sized recipe. The phantoms come from
:mod:`cardiacmotion.phantom`: a change to the generator changes the training data and therefore the
weights. Real studies are read from ``--data-root`` (default ``../shared/data``) or from
``--real-cache`` (an npz written on the first read). The independent test generator
(``cardiacmotion.independent``) is never imported here: it is for evaluation only.

Samples are three frames (through time or through the stack); frame 2 is predicted from frame
1 (memory: ground truth), frame 3 from frames 1 and 2 (memory: ground truth and the soft
prediction), with the bootstrapped cross-entropy on both. ``--minutes`` is a safety cap: a run
stopped by it is not reproducible (the log says so).
"""
from __future__ import annotations

import argparse
import math
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from cardiacmotion.errors import InputError

HELP = "train the learned memory-propagation network (CSTM) on phantoms and real studies"

ARCHS = {
    "tiny": dict(widths=(12, 16, 32, 48), key_dim=24, value_dim=48, name="cstm-tiny"),
    "small": dict(widths=(16, 24, 48, 64), key_dim=32, value_dim=64, name="cstm-small"),
    "base": dict(widths=(32, 48, 96, 128), key_dim=32, value_dim=96, name="cstm-base"),
}
DEFAULT_ID = "cstm-v0.3.0"
MR_PHANTOM_BASE = 1000  # training phantoms use seeds from here; tests hold out seeds below 100
ECHO_PHANTOM_BASE = 2000


def add_arguments(p: argparse.ArgumentParser) -> None:
    from cardiacmotion.models.weights import models_dir

    p.add_argument("--out", default=str(models_dir() / f"{DEFAULT_ID}.pt"), help="weights file to write")
    p.add_argument("--model-id", default=DEFAULT_ID, help="manifest id (name-vX.Y.Z)")
    p.add_argument("--no-manifest", action="store_true", help="do not add/replace the entry in models.json beside --out")
    p.add_argument("--arch", default="tiny", choices=sorted(ARCHS), help="encoder size (tiny: the bundled one)")
    p.add_argument("--size", type=int, default=128, help="input crop side (multiple of 16)")
    p.add_argument("--iterations", type=int, default=320)
    p.add_argument("--minutes", type=float, default=0.0, help="stop after this many minutes (0: no cap)")
    p.add_argument("--batch", type=int, default=6)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads (part of what makes a run reproducible)")
    p.add_argument("--mr-phantoms", type=int, default=12, help=f"MR phantom cases (seeds {MR_PHANTOM_BASE}...)")
    p.add_argument("--randomize", type=float, default=0.0,
                   help="share of the MR phantoms widened by domain randomisation (cardiacmotion.phantom.randomize; 0: none)")
    p.add_argument("--phantom-base", type=int, default=MR_PHANTOM_BASE, help="first MR phantom seed")
    p.add_argument("--echo-phantoms", type=int, default=4, help=f"echo phantom cases (seeds {ECHO_PHANTOM_BASE}...)")
    p.add_argument("--data-root", default=None, help="folder with sunnybrook/ and ep-preclinical/ (default: ../shared/data when present)")
    p.add_argument("--sunnybrook", default="SCD0000201", help="comma-separated Sunnybrook studies to train on ('' none); the others stay held out")
    p.add_argument("--no-porcine", action="store_true")
    p.add_argument("--real-fraction", type=float, default=0.0,
                   help="share of samples drawn from the real studies (0: weight 3 porcine / 2 Sunnybrook per study, as v0.1.0)")
    p.add_argument("--real-cache", default=None,
                   help="an .npz of the real studies: read when it exists, else built from --data-root and written "
                        "(to train where the DICOM files are not)")
    p.add_argument("--workers", type=int, default=0,
                   help="processes generating phantoms and drawing batches (0: in the main process, as v0.1.0)")
    p.add_argument("--acdc", default=None, help="an ACDC-layout folder (patientNNN/...) to add")
    p.add_argument("--mnms", default=None, help="an M&Ms-layout folder (<code>/<code>_sa[_gt].nii.gz) to add")
    p.add_argument("--camus", default=None, help="a CAMUS-layout folder (patientNNNN/...) to add")
    p.add_argument("--init", default=None, help="start from these weights (fine-tuning)")
    p.add_argument("--work-dir", default=None, help="log and intermediate checkpoints (default: a temp folder)")
    p.add_argument("--eval-mr", type=int, default=4, help="held-out MR phantoms evaluated after training (0: none)")
    p.add_argument("--eval-echo", type=int, default=2, help="held-out echo phantoms evaluated after training")
    p.add_argument("--weights", default=None, help="(evaluate) weights to evaluate (default: the bundled ones)")


def _default_data_root() -> Path | None:
    env = os.environ.get("CARDIACMOTION_SHARED")
    cands = [Path(env) / "data"] if env else []
    cands.append(Path(__file__).resolve().parents[2].parent / "shared" / "data")
    for c in cands:
        if c.is_dir():
            return c
    return None


def build_studies(args: argparse.Namespace, log) -> list:
    from cardiacmotion.training import datasets

    studies = []
    t0 = time.time()
    if args.mr_phantoms or args.echo_phantoms:
        studies += datasets.phantom_studies(
            range(args.phantom_base, args.phantom_base + args.mr_phantoms),
            range(ECHO_PHANTOM_BASE, ECHO_PHANTOM_BASE + args.echo_phantoms),
            workers=getattr(args, "workers", 0),
            **({"randomize": float(args.randomize)} if getattr(args, "randomize", 0.0) else {}),
        )
    real = _real_studies(args, datasets)
    if real:
        for s in real:
            s.weight = 3.0 if s.name == "porcine" else 2.0
        frac = float(getattr(args, "real_fraction", 0.0) or 0.0)
        if 0.0 < frac < 1.0 and studies:
            # scale so the real studies make up ``frac`` of the samples (their 3:2 ratio kept)
            synth = sum(s.weight for s in studies)
            scale = frac / (1.0 - frac) * synth / sum(s.weight for s in real)
            for s in real:
                s.weight *= scale
        studies += real
    if args.acdc:
        from cardiacmotion.training.layouts import acdc_studies

        studies += acdc_studies(Path(args.acdc))
    if args.mnms:
        from cardiacmotion.training.layouts import mnms_studies

        studies += mnms_studies(Path(args.mnms))
    if args.camus:
        from cardiacmotion.training.layouts import camus_studies

        studies += camus_studies(Path(args.camus))
    if not studies:
        raise InputError("no training data: give phantoms (--mr-phantoms/--echo-phantoms), --data-root, --acdc or --camus")
    log(event="data", studies=[s.name for s in studies], seconds=round(time.time() - t0, 1))
    return studies


def _real_studies(args: argparse.Namespace, datasets) -> list:
    """The porcine and named Sunnybrook studies, from ``--real-cache`` or ``--data-root``."""
    names = [s for s in (args.sunnybrook or "").split(",") if s]
    cache = Path(args.real_cache) if getattr(args, "real_cache", None) else None
    if cache is not None and cache.is_file():
        real = [s for s in datasets.load_studies(cache) if s.name == "porcine" or s.name in names]
    else:
        root = Path(args.data_root) if args.data_root else _default_data_root()
        if root is None:
            if cache is not None:
                raise InputError(f"--real-cache {cache} does not exist and no --data-root to build it from")
            return []
        real = datasets.real_studies(root, sunnybrook=names)
        if cache is not None:
            datasets.save_studies(real, cache)
    if args.no_porcine:
        real = [s for s in real if s.name != "porcine"]
    return real


def run_training(args: argparse.Namespace, studies: list, log) -> tuple:
    """The optimisation loop; returns ``(net, cfg, info)``."""
    import torch

    from cardiacmotion.device import resolve_device
    from cardiacmotion.models.cstm import CSTM, CSTMConfig
    from cardiacmotion.training.common import bootstrapped_ce, seed_everything, top_p_schedule
    from cardiacmotion.training.datasets import ThreeFrameSampler

    if args.size % 16:
        raise InputError(f"--size must be a multiple of 16, got {args.size}")
    seed_everything(args.seed, args.threads)
    device = resolve_device(getattr(args, "device", "auto"))
    cfg = CSTMConfig(**ARCHS[args.arch])
    net = CSTM(cfg).to(device)
    if args.init:
        from cardiacmotion.propagation.memory import load_network

        init, _ = load_network(args.init)
        if init.cfg.arch_id() != cfg.arch_id():
            raise InputError(f"--init weights are {init.cfg.arch_id()}, not {cfg.arch_id()} (--arch)")
        net.load_state_dict(init.state_dict())
    sampler = ThreeFrameSampler(studies, size=args.size)
    batches = sampler.batches(args.seed, args.batch, getattr(args, "workers", 0))
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=1e-4)
    total = int(args.iterations)
    warm = max(1, total // 30)

    def lr_at(it: int) -> float:
        if it < warm:
            return args.lr * (it + 1) / warm
        return args.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * (it - warm) / max(1, total - warm))))

    work = Path(args.work_dir) if args.work_dir else Path(tempfile.gettempdir()) / f"cardiacmotion-train-{args.model_id}"
    work.mkdir(parents=True, exist_ok=True)
    deadline = time.time() + args.minutes * 60 if args.minutes > 0 else None
    net.train()
    running, stopped_early, it = None, False, 0
    t_start = time.time()
    for it in range(total):
        if deadline and time.time() > deadline:
            stopped_early = True
            log(event="stopped", reason="--minutes cap reached; this run is not reproducible", iteration=it)
            break
        for g in opt.param_groups:
            g["lr"] = lr_at(it)
        x, y = next(batches)
        x = torch.as_tensor(x).to(device, non_blocking=True)
        y = torch.as_tensor(y).to(device, non_blocking=True).long()
        loss = training_loss(net, x, y, top_p_schedule(it, total))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
        opt.step()
        lv = loss.item()
        running = lv if running is None else 0.95 * running + 0.05 * lv
        if it % 25 == 0 or it == total - 1:
            log(event="iter", it=it, loss=round(lv, 4), avg=round(running, 4), lr=round(lr_at(it), 6),
                it_per_s=round((it + 1) / (time.time() - t_start), 3))
        if (it + 1) % 200 == 0:
            torch.save({"it": it + 1, "state_dict": net.state_dict()}, work / "last.ckpt")
    net.eval()
    info = {"iterations": it + 1 if not stopped_early else it, "stopped_early": stopped_early,
            "train_minutes": round((time.time() - t_start) / 60, 1), "final_loss": running}
    return net, cfg, info


def training_loss(net, x, y, top_p: float):
    """Bootstrapped CE of frames 2 and 3 (``x [B,3,S,S]`` images, ``y [B,3,S,S]`` labels, 255 unknown)."""
    import torch
    import torch.nn.functional as F

    from cardiacmotion.propagation.memory import normalise_frames
    from cardiacmotion.training.common import bootstrapped_ce

    b, f, s, _ = x.shape
    frames = normalise_frames(x.reshape(b * f, s, s)).unsqueeze(1)
    feats = net.encode_key(frames)
    per = [{k: v.view(b, f, *v.shape[1:])[:, i] for k, v in feats.items()} for i in range(f)]
    first = y[:, 0].clamp(0, 3)  # the memory frame is fully labelled
    oh = F.one_hot(first, 4).permute(0, 3, 1, 2).float()
    x3 = frames.view(b, f, 1, s, s)
    v8a, v16a = net.encode_value(x3[:, 0], oh, per[0])
    logits2 = net.segment(per[1], per[0]["k8"][:, None], per[0]["k16"][:, None], v8a[:, None], v16a[:, None])
    prob2 = torch.softmax(logits2, dim=1)
    v8b, v16b = net.encode_value(x3[:, 1], prob2, per[1])
    mk8 = torch.stack([per[0]["k8"], per[1]["k8"]], 1)
    mk16 = torch.stack([per[0]["k16"], per[1]["k16"]], 1)
    logits3 = net.segment(per[2], mk8, mk16, torch.stack([v8a, v8b], 1), torch.stack([v16a, v16b], 1))
    return bootstrapped_ce(logits2, y[:, 1], top_p) + bootstrapped_ce(logits3, y[:, 2], top_p)


def export(args: argparse.Namespace, net, cfg, info: dict, metrics: dict, speed: dict, log) -> str:
    """Write the weights and (unless ``--no-manifest``) the manifest entry beside them."""
    from cardiacmotion.models.weights import save_checkpoint, write_manifest_entry

    out = Path(args.out)
    if not out.parent.is_dir():
        raise InputError(f"output folder does not exist: {out.parent}")
    state = {k: v.detach().cpu() for k, v in net.state_dict().items()}
    # only deterministic facts go into the file (its sha256 must reproduce); timings go to the manifest
    meta = {"model_id": args.model_id, "input_size": [args.size, args.size], "capacity": 1,
            "recipe": command_line(args, paths=False), "iterations": info["iterations"]}
    digest = save_checkpoint(out, cfg.arch_id(), cfg.to_dict(), state, meta)
    if not args.no_manifest:
        entry = {
            "id": args.model_id,
            "file": out.name,
            "architecture": cfg.arch_id(),
            "config": cfg.to_dict(),
            "parameters": int(sum(v.numel() for v in state.values() if v.dtype.is_floating_point)),
            "input": {"size": [args.size, args.size], "channels": 1,
                      "normalisation": "heart-region crop resized to size, per-frame zero mean / unit variance",
                      "mask": "one-hot of 4 classes (background + 3 labels of the modality)"},
            "training_data": {
                "mr_phantoms": f"cardiacmotion.phantom.make_mr_case seeds {args.phantom_base}..{args.phantom_base + args.mr_phantoms - 1}",
                "randomized_share": float(getattr(args, "randomize", 0.0)),
                "echo_phantoms": f"make_echo_case seeds {ECHO_PHANTOM_BASE}..{ECHO_PHANTOM_BASE + args.echo_phantoms - 1}",
                "porcine": not args.no_porcine,
                "sunnybrook": [s for s in (args.sunnybrook or "").split(",") if s],
                "acdc": bool(args.acdc), "mnms": bool(args.mnms), "camus": bool(args.camus),
            },
            "training": info,
            "accuracy": metrics,
            "speed": speed,
            "sha256": digest,
            "size_bytes": out.stat().st_size,
            "command": command_line(args),
        }
        write_manifest_entry(entry, out.parent)
    log(event="exported", path=str(out), sha256=digest)
    return digest


def command_line(args: argparse.Namespace, paths: bool = True) -> str:
    """The command that reproduces this run (``paths=False``: without --out / --data-root, which do not change the weights)."""
    parts = ["cardiacmotion train propagation"] + ([f"--out {args.out}"] if paths else [])
    parts += [f"--model-id {args.model_id}", f"--arch {args.arch}",
             f"--size {args.size}", f"--iterations {args.iterations}", f"--batch {args.batch}", f"--lr {args.lr}",
             f"--seed {args.seed}", f"--threads {args.threads}", f"--mr-phantoms {args.mr_phantoms}",
             f"--echo-phantoms {args.echo_phantoms}", f"--sunnybrook '{args.sunnybrook}'", f"--device {getattr(args, 'device', 'auto')}"]
    if args.no_porcine:
        parts.append("--no-porcine")
    if getattr(args, "real_fraction", 0.0):
        parts.append(f"--real-fraction {args.real_fraction}")
    if getattr(args, "workers", 0):
        parts.append(f"--workers {args.workers}")
    if getattr(args, "randomize", 0.0):
        parts.append(f"--randomize {args.randomize}")
    if getattr(args, "phantom_base", MR_PHANTOM_BASE) != MR_PHANTOM_BASE:
        parts.append(f"--phantom-base {args.phantom_base}")
    if getattr(args, "minutes", 0.0):
        parts.append(f"--minutes {args.minutes}")
    if getattr(args, "init", None):
        parts.append(f"--init {args.init}")
    if args.data_root and paths:
        parts.append(f"--data-root {args.data_root}")
    return " ".join(parts)


def train(args: argparse.Namespace) -> int:
    """Train, evaluate on held-out phantoms, measure speed, export weights + manifest entry."""
    from cardiacmotion.training.common import JsonLog

    work = Path(args.work_dir) if args.work_dir else Path(tempfile.gettempdir()) / f"cardiacmotion-train-{args.model_id}"
    log = JsonLog(work / "train.log.jsonl")
    log(event="start", command=command_line(args))
    studies = build_studies(args, log)
    net, cfg, info = run_training(args, studies, log)
    del studies
    metrics, speed = {}, {}
    if args.eval_mr or args.eval_echo:
        from cardiacmotion.training.eval_propagation import evaluate_phantoms, measure_speed

        metrics["phantom"] = evaluate_phantoms(net, args.size, args.eval_mr, args.eval_echo, log=log)
        speed = measure_speed(net, args.size)
        log(event="speed", **speed)
    export(args, net, cfg, info, metrics, speed, log)
    return 0


def evaluate(args: argparse.Namespace) -> int:
    """Evaluate weights (``--weights`` or the bundled ones) on held-out phantoms and Sunnybrook."""
    import json

    from cardiacmotion.propagation.memory import load_network
    from cardiacmotion.training.eval_propagation import evaluate_phantoms, evaluate_sunnybrook

    net, info = load_network(args.weights)
    root = Path(args.data_root) if args.data_root else _default_data_root()
    report = {"model": info["id"], "phantom": evaluate_phantoms(net, info["input_size"][0], args.eval_mr or 4, args.eval_echo)}
    if root is not None and (root / "sunnybrook").is_dir():
        report["sunnybrook"] = evaluate_sunnybrook(net, info["input_size"][0], root / "sunnybrook")
    print(json.dumps(report, indent=2))
    return 0
