"""Echo speed benchmark (``cardiacmotion benchmark --echo``): PKEcho-Net beside the other echo methods, one run.

Guide §7.2: eval mode under ``torch.inference_mode``, FP32, warm-up runs first, then median and p90
latency per 10-frame clip and frames/s = frames / median. Rows:

- ``pkecho model-only``: a fixed synthetic clip ``[1, T, 1, S, S]``, the last iteration's output only;
- ``bare encoder``: the same frames through the ResNet encoder alone (hardware-independent ratio);
- ``pkecho clip end-to-end``: T native frames -> square pad + resize, model, sigmoid, resize back, threshold;
- whole-video rows (``pkecho``, ``sscf``, ``tan-auto``): the product path on the same echo-phantom video
  (every frame, ED/ES detection and clean-up included), one timed run after one warm-up.
"""
from __future__ import annotations

import statistics
import time
from typing import Callable, Optional, Sequence

import numpy as np
import torch


def _latency(fn: Callable[[], object], warmup: int, runs: int) -> dict:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return {"median_s": statistics.median(times), "p90_s": times[min(len(times) - 1, int(round(0.9 * (len(times) - 1))))]}


def _video_runner(method: str, weights: Optional[str]) -> Callable[[np.ndarray, tuple, Optional[float]], object]:
    if method == "pkecho":
        from cardiacmotion.echo.pkecho_segment import run_pkecho
        from cardiacmotion.echo.pkecho_weights import load_pkecho

        model, cfg = load_pkecho(weights)
        return lambda f, sp, ms: run_pkecho(model, f, int(cfg["size"]), sp, frame_ms=ms)
    if method == "sscf":
        from cardiacmotion.echo.sscf_segment import run_sscf
        from cardiacmotion.echo.sscf_weights import load_sscf

        model, cfg = load_sscf()
        return lambda f, sp, ms: run_sscf(model, f, int(cfg["size"]), sp, frame_ms=ms, mm_per_px=cfg.get("mm_per_px"))
    if method == "tan-auto":
        from cardiacmotion.echo.tan_track import TANTracker

        tracker = TANTracker.from_weights(None)
        return lambda f, sp, ms: tracker.track(f, None)
    raise ValueError(f"no whole-video echo runner for {method!r}")


@torch.inference_mode()
def echo_benchmark(weights: Optional[str] = None, threads: int = 2, runs: int = 20, warmup: int = 3,
                   video_methods: Sequence[str] = ("pkecho", "sscf", "tan-auto"), video_seed: int = 9000, log=None) -> dict:
    """The rows of the module doc; ``{"threads", "rows", "encoder_ratio", "load_average"}``."""
    import os

    from cardiacmotion.echo.clips import phantom_clip
    from cardiacmotion.echo.pkecho_weights import load_pkecho
    from cardiacmotion.echo.sscf_data import from_network, to_network

    torch.set_num_threads(int(threads))
    model, cfg = load_pkecho(weights)
    size, t = int(cfg["size"]), int(cfg["frames"])
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(1, t, 1, size, size, generator=gen)
    rows = []

    def add(name: str, lat: dict, frames: int, note: str) -> None:
        rows.append({"row": name, "frames": frames, "median_s": round(lat["median_s"], 4), "p90_s": round(lat["p90_s"], 4),
                     "frames_per_second": round(frames / max(lat["median_s"], 1e-9), 1), "scope": note})
        if log:
            log(f"{name}: {rows[-1]['frames_per_second']} frames/s")

    model_lat = _latency(lambda: model(x, deep=False), warmup, runs)
    add("pkecho model-only", model_lat, t, f"synthetic clip [1,{t},1,{size},{size}], last output")
    enc_lat = _latency(lambda: model.encoder(x[0]), warmup, runs)
    add("bare encoder", enc_lat, t, f"{cfg['backbone']} base {cfg['base']} encoder only, same frames")
    clip = phantom_clip(video_seed, "A4C")
    native = clip.frames[:t]

    def clip_e2e():
        p = torch.sigmoid(model(to_network(native, size)[None, :, None], deep=False)[0][0])
        p = from_network(p, native.shape[1:])
        best, arg = p.max(1)
        return torch.where(best >= 0.5, arg + 1, 0).to(torch.uint8)

    add("pkecho clip end-to-end", _latency(clip_e2e, warmup, runs), t,
        f"{t} native {native.shape[1]}x{native.shape[2]} frames: resize, model, sigmoid, resize back, threshold")
    times = getattr(clip.cine, "frame_times_ms", None)
    ms = float(np.median(np.diff(times))) if times is not None and len(times) > 1 else None
    for m in video_methods:
        try:
            run = _video_runner(m, weights if m == "pkecho" else None)
        except Exception as exc:  # noqa: BLE001 - a method without weights is reported, the others still run
            rows.append({"row": f"{m} whole video", "error": f"{type(exc).__name__}: {exc}"})
            continue
        add(f"{m} whole video", _latency(lambda: run(clip.frames, clip.spacing, ms), 1, 1), clip.length,
            f"echo-phantom video {clip.name} ({clip.length} frames {clip.frames.shape[1]}x{clip.frames.shape[2]}), product path")
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {"threads": torch.get_num_threads(), "rows": rows, "torch": torch.__version__,
            "encoder_ratio": round(model_lat["median_s"] / max(enc_lat["median_s"], 1e-9), 3),
            "load_average": None if load is None else [round(v, 2) for v in load], "config": {k: cfg[k] for k in ("backbone", "base", "size", "frames")}}
