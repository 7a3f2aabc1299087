"""PKEcho-Net inference on a whole echo video, ``segment --method pkecho`` (guide §4).

1. Every frame goes through the per-frame part once (encoder, affinities, reduced features).
2. First pass: sliding clips of T frames (stride T/2) at a frame step close to the training clips'
   spacing (systole ~300 ms over T-1 steps; step 1 when the frame time is unknown), each frame taking
   the kernel output of the clip whose centre is nearest; the kernel head is cheap, so clips overlap freely.
3. ED / ES from the smoothed LV-area curve (:func:`~cardiacmotion.echo.sscf_segment.detect_ed_es`).
4. Second pass: the ED..ES segment as a proper clip (T frames by rounded linspace from ED to ES; when
   ES comes first in the video this is the diastole fed in reverse, which looks like a systole).
5. Only the last iteration's stride-32 logits are lifted through the affinity chain; sigmoid, back to
   the native grid, threshold 0.5 (classes: argmax of those above 0.5), product clean-up.

Labels follow the product's echo convention: 1 LV cavity, 2 myocardium, 3 left atrium (one-class
models write the LV only).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Optional

import numpy as np
import torch

from cardiacmotion.cine import Cine
from cardiacmotion.errors import NotAvailableError

SYSTOLE_MS = 300.0


@dataclass
class PKEchoResult:
    labels: np.ndarray  # [T, H, W] uint8 (1 LV, 2 myocardium, 3 LA)
    lv_area_mm2: np.ndarray  # [T]
    ed: int
    es: int
    seconds: float
    model_seconds: float  # network time only (encoder, heads, upsampling)


def frame_step(frame_ms: Optional[float], clip_frames: int = 10) -> int:
    """Video frames per clip step so that a clip spans about one systole (1 when the frame time is unknown)."""
    if not frame_ms or frame_ms <= 0:
        return 1
    return max(1, int(round(SYSTOLE_MS / (clip_frames - 1) / float(frame_ms))))


def sliding_clips(n: int, t: int, step: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(clip frame indices, frames the clip answers for)`` covering every frame of an ``n``-frame video once.

    Frames ``o, o+step, ...`` of each offset ``o`` form a sequence; windows of ``t`` with stride ``t // 2``
    (the last one aligned to the end) slide over it; each frame belongs to the window whose centre is nearest.
    Sequences shorter than ``t`` are one clip of their own length.
    """
    out = []
    for o in range(min(step, n)):
        seq = np.arange(o, n, step)
        if len(seq) <= t:
            out.append((seq, seq))
            continue
        starts = list(range(0, len(seq) - t + 1, max(1, t // 2)))
        if starts[-1] != len(seq) - t:
            starts.append(len(seq) - t)
        centres = np.asarray(starts) + (t - 1) / 2.0
        owner = np.argmin(np.abs(np.arange(len(seq))[:, None] - centres[None]), axis=1)
        for w, s in enumerate(starts):
            mine = np.nonzero(owner == w)[0]
            if len(mine):
                out.append((seq[s:s + t], seq[mine]))
    return out


def _run_kernels(model, fr: torch.Tensor, idx: np.ndarray) -> torch.Tensor:
    """Last-iteration stride-32 logits ``[len(idx), c, h, w]`` of the clip made of frames ``idx``."""
    return model.kernel_logits(fr[torch.as_tensor(idx)], 1)[-1]


@torch.no_grad()
def run_pkecho(model, frames: np.ndarray, size: int, spacing: tuple[float, float] = (1.0, 1.0), cleanup: bool = True,
               device: str = "cpu", frame_ms: Optional[float] = None, chunk: int = 128) -> PKEchoResult:
    """Segment a video ``[T, H, W]`` (intensities as :func:`~cardiacmotion.echo.clips.normalise_frames`); module doc.

    Frames are always square-padded and resized to ``size`` as in training (no physical resampling): the
    kernel grouping (paper Eq. 1) sums over the stride-32 grid without normalisation, so a larger canvas
    changes the kernels' scale; measured, a 0.95 mm/px canvas of 192 x 224 broke the LV on the independent
    generator's clips (Dice ~0) where the square resize did not.
    """
    from cardiacmotion.echo.sscf_data import from_network, to_network
    from cardiacmotion.echo.sscf_segment import cleanup_labels, detect_ed_es

    t0 = time.perf_counter()
    n, h, w = frames.shape
    x = to_network(frames, size)[:, None].to(device)
    tm = time.perf_counter()
    frs, affs = [], []
    for s in range(0, n, chunk):
        f, a = model.frame_features(x[s:s + chunk])
        frs.append(f)
        affs.append(a)
    fr = frs[0] if len(frs) == 1 else torch.cat(frs)
    if len(affs) == 1:
        affs = affs[0]
    else:
        affs = [torch.cat([a[k] for a in affs]) for k in range(len(affs[0]))] if affs[0] else []
    t_clip = int(model.frames)
    logits = torch.empty(n, model.num_classes, *fr.shape[-2:], device=fr.device)
    for idx, mine in sliding_clips(n, t_clip, frame_step(frame_ms, t_clip)):
        p = _run_kernels(model, fr, idx)
        pos = {int(v): k for k, v in enumerate(idx)}
        logits[torch.as_tensor(mine)] = p[torch.as_tensor([pos[int(v)] for v in mine])]
    model_s = time.perf_counter() - tm

    up_s = [0.0]

    def to_labels(lg: torch.Tensor, frames_idx: np.ndarray) -> np.ndarray:
        """Native-grid labels of the frames ``frames_idx`` from their stride-32 logits."""
        out = np.zeros((len(frames_idx), h, w), np.uint8)
        for s in range(0, len(frames_idx), chunk):
            part = frames_idx[s:s + chunk]
            contiguous = bool(np.all(np.diff(part) == 1))
            sel = slice(int(part[0]), int(part[-1]) + 1) if contiguous else torch.as_tensor(part)  # a view, not a copy
            tu = time.perf_counter()
            up = model.upsample(lg[sel], [a[sel] for a in affs], tuple(x.shape[-2:]))
            up_s[0] += time.perf_counter() - tu
            p = torch.sigmoid(up).float().cpu()
            p = from_network(p, (h, w))
            best, arg = p.max(1)
            out[s:s + chunk] = np.where(best.numpy() >= 0.5, arg.numpy() + 1, 0).astype(np.uint8)
        return cleanup_labels(out) if cleanup else out

    sp_area = float(spacing[0] * spacing[1])
    labels = to_labels(logits, np.arange(n))
    area = (labels == 1).reshape(n, -1).sum(1) * sp_area
    ed, es = detect_ed_es(area, frame_ms)
    if ed != es and n >= 2:  # second pass: ED..ES as a proper clip (no wrap: reversed when ES comes first)
        tm2 = time.perf_counter()
        # fewer frames than T between ED and ES: the clip keeps its own length (embedding resampled)
        idx = np.round(np.linspace(ed, es, min(t_clip, abs(es - ed) + 1))).astype(np.int64)
        logits[torch.as_tensor(idx)] = _run_kernels(model, fr, idx)
        model_s += time.perf_counter() - tm2
        redo = np.unique(idx)  # only the re-run frames change
        labels[redo] = to_labels(logits, redo)
        area = (labels == 1).reshape(n, -1).sum(1) * sp_area
    # model-only time: encoder, heads, kernel passes and every upsampling (resize back, threshold, clean-up excluded)
    return PKEchoResult(labels, area, int(ed), int(es), time.perf_counter() - t0, model_s + up_s[0])


def segment_pkecho(image: Cine, seeds=None, landmarks=None, weights: Optional[str] = None, device: str = "cpu",
                   seed_phase: Optional[int] = None, progress=None, auto: bool = False) -> tuple[Cine, dict]:
    """Segment an echo video with PKEcho-Net (fully automatic: seeds and landmarks are not needed and not used).

    Returns:
        ``(label Cine, info)``; info has ``method`` 'pkecho', ``ed_phase``/``es_phase`` (from the LV area
        curve), ``lv_area_mm2``, ``seconds``, ``model_seconds``, ``frames_per_second``.
    Raises:
        NotAvailableError: not a one-slice echo video; WeightsError: no usable weights.
    """
    from cardiacmotion.echo.clips import normalise_frames
    from cardiacmotion.echo.pkecho_weights import load_pkecho

    if image.modality != "US" or image.slices != 1:
        raise NotAvailableError("PKEcho-Net segments echo videos only (one slice, modality US); use memory or registration for MR")
    model, cfg = load_pkecho(weights, device)
    sp = image.spacing
    times = getattr(image, "frame_times_ms", None)
    frame_ms = float(np.median(np.diff(times))) if times is not None and len(times) > 1 else None
    res = run_pkecho(model, normalise_frames(image.array[:, 0]), int(cfg["size"]), (float(sp[0]), float(sp[1])),
                     device=device, frame_ms=frame_ms)
    seg = image.with_array(res.labels[:, None].astype(np.uint8))
    seg.meta["segmentation_method"] = "pkecho"
    info = {"method": "pkecho", "seed": "none (automatic)", "ed_phase": res.ed, "es_phase": res.es,
            "lv_area_mm2": np.round(res.lv_area_mm2, 2).tolist(), "seconds": round(res.seconds, 3),
            "model_seconds": round(res.model_seconds, 3),
            "frames_per_second": round(image.phases / max(res.seconds, 1e-9), 2)}
    if seeds is not None or landmarks is not None:
        info["message"] = "PKEcho-Net is automatic: the seed/landmarks given were not used"
    return seg, info
