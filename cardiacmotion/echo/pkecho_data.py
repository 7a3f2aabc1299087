"""PKEcho-Net data: ED->ES clips of T frames at network size, labels on the first and last frame only.

A clip is ``T`` frames picked by rounding ``linspace(ED, ES, T)`` (guide §1), so frame 1 is ED and
frame T is ES exactly. Phantom videos are one periodic cycle and ES may come before ED in frame order;
the clip then runs forward through the cycle's end (cyclic indices), still from ED to ES. Frames are
zero-padded to a square and resized (:mod:`cardiacmotion.echo.sscf_data`). Only the ED and ES labels
ever reach a training clip (:func:`~cardiacmotion.echo.clips.hide_except_ed_es`); the others are -1.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np
import torch

from cardiacmotion.echo.clips import EchoClip, hide_except_ed_es
from cardiacmotion.echo.sscf_data import labels_to_network, to_network


def clip_indices(ed: int, es: int, length: int, frames: int = 10) -> np.ndarray:
    """``frames`` indices from ``ed`` to ``es`` (rounded linspace; cyclic when ``es < ed``)."""
    stop = es if es >= ed else es + length
    return np.round(np.linspace(ed, stop, frames)).astype(np.int64) % length


@dataclass
class PKClip:
    """An ED->ES clip at network size; ``labels`` is -1 on every frame but the first and the last."""

    name: str
    frames: torch.Tensor  # [T, S, S] float
    labels: torch.Tensor  # [T, S, S] long (0 background, 1 LV, 2 myocardium, 3 LA; -1 unlabelled)
    truth: Optional[torch.Tensor] = None  # [T, S, S] every frame's truth (evaluation only, never trained on)
    indices: Optional[np.ndarray] = None  # the video frames the clip was drawn from


def prepare(clip: EchoClip, size: int, frames: int = 10, keep_truth: bool = False) -> PKClip:
    """The ED->ES clip of ``clip`` at ``size`` px with ED/ES labels only (``keep_truth``: also every frame's
    truth, for held-out scoring)."""
    idx = clip_indices(int(clip.ed), int(clip.es), clip.length, frames)
    truth = labels_to_network(clip.labels[idx], size) if keep_truth else None
    hidden = hide_except_ed_es(clip)
    lab = labels_to_network(hidden.labels[idx], size)
    keep = np.zeros(frames, bool)
    keep[[0, -1]] = hidden.labelled[idx[[0, -1]]]
    lab[~torch.as_tensor(keep)] = -1
    return PKClip(clip.name, to_network(clip.frames[idx], size), lab, truth, idx)


def load_training_clips(first_seed: int, per_view: int, size: int, frames: int = 10, cache: Optional[str] = None,
                        keep_truth: bool = False, log=print, randomize: float = 0.0, **phantom_options) -> list[PKClip]:
    """Training-phantom ED->ES clips (A4C and A2C of each seed), ED/ES labels only; cached per clip as .npz.

    ``randomize``: share of the clips re-imaged by the echo domain randomisation
    (:mod:`cardiacmotion.phantom.echo_randomize`; deterministic per seed and view).
    """
    from cardiacmotion.echo.clips import phantom_clip
    from cardiacmotion.phantom.echo_randomize import randomize_clip, selected

    def source(seed: int, view: str):
        clip = phantom_clip(seed, view, **phantom_options)
        return randomize_clip(clip, seed) if selected(seed, view, randomize) else clip

    tag = "".join(f"-{k}{v}" for k, v in sorted(phantom_options.items()))
    out: list[PKClip] = []
    for seed in range(first_seed, first_seed + per_view):
        for view in ("A4C", "A2C"):
            rand = "-rand" if selected(seed, view, randomize) else ""
            path = Path(cache) / f"pkecho-{view}-{seed}-{size}-t{frames}{tag}{rand}.npz" if cache else None
            if path is not None and path.is_file():
                z = np.load(path)
                truth = torch.as_tensor(z["truth"]).long() if keep_truth and "truth" in z else None
                c = PKClip(str(z["name"]), torch.as_tensor(z["frames"]), torch.as_tensor(z["labels"]).long(), truth, z["indices"])
                if keep_truth and truth is None:
                    c = prepare(source(seed, view), size, frames, True)
            else:
                c = prepare(source(seed, view), size, frames, keep_truth=True)
                if path is not None:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    np.savez_compressed(path, name=c.name, frames=c.frames.numpy(), labels=c.labels.numpy().astype(np.int8),
                                        truth=c.truth.numpy().astype(np.int8), indices=c.indices)
                if not keep_truth:
                    c.truth = None
                log(f"clip {c.name}: frames {c.indices.tolist()}")
            out.append(c)
    return out
