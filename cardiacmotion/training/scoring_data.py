"""Phantom training data for the learned wall-motion scorer.

Each study is a synthetic cine MR from ``cardiacmotion.phantom.make_mr_case`` with known
per-segment scores; its 16 polar segment sequences are computed with the same sampler inference
uses (``cardiacmotion.scoring.learned.segment_sequences_for``) and cached as ``.npz`` in a
cache folder outside the repository (the system temp dir by default), keyed by seed, options and
sampler, so repeated runs skip the phantom generation.
"""
from __future__ import annotations

import hashlib
import inspect
import json
import os
import tempfile
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

import numpy as np

SAMPLER_VERSION = "1"


def default_cache_dir() -> Path:
    """``$CARDIACMOTION_CACHE/scoring`` or ``<tmp>/cardiacmotion-cache/scoring``."""
    root = os.environ.get("CARDIACMOTION_CACHE") or os.path.join(tempfile.gettempdir(), "cardiacmotion-cache")
    return Path(root) / "scoring"


def _sampler_name() -> str:
    try:
        import cardiacmotion.scoring.polar  # noqa: F401

        return "scoring.polar"
    except ImportError:
        return "fallback"


def case_options(seed: int, balanced: bool = True, fast: bool = False) -> Dict:
    """Phantom options for study ``seed``.

    Class balance: even seeds draw every segment's class uniformly (``wall_motion='balanced'``),
    odd seeds draw a realistic pattern (normal hearts, coronary territories with infarct cores and
    hypokinetic borders, diffuse hypokinesis), so the network sees both isolated abnormal
    segments and contiguous territories; the loss is further weighted by inverse class frequency.
    ``fast``: a 112-pixel field of view, 20 phases and 8 slices (same pixel size and heart, less to
    render: about a quarter of the generation time). The polar samples around the LV are alike;
    training resamples the phases to random lengths, so any frame count is still covered.
    """
    from cardiacmotion.phantom import make_mr_case

    doc = str(inspect.getdoc(make_mr_case))
    opts: Dict = {}
    if balanced and "wall_motion" in doc:
        opts["wall_motion"] = "balanced" if seed % 2 == 0 else "random"
    if fast and "grid" in doc:
        opts.update(grid=112, phases=20, slices=8)
    return opts


SEGMENTATIONS = ("truth", "registration", "memory", "perturbed")


def perturb_labels(labels: np.ndarray, seed: int, pixel_mm: float = 1.5) -> np.ndarray:
    """Truth labels ``[T, K, H, W]`` with the errors a propagated segmentation makes: a smooth random
    in-plane warp per slice that drifts over the cycle (contours lag or lead the wall), a random
    1-pixel grow or shrink of the epicardium per slice, and now and then a slice without its RV.
    Deterministic per seed."""
    from scipy import ndimage as ndi

    rng = np.random.default_rng([int(seed), 33])
    T, K, H, W = labels.shape
    out = labels.copy()
    amp = float(rng.uniform(0.5, 2.5)) / pixel_mm  # mm of contour error, in pixels
    yy, xx = np.meshgrid(np.arange(H, dtype=np.float32), np.arange(W, dtype=np.float32), indexing="ij")
    for k in range(K):
        if not (labels[:, k] > 0).any():
            continue
        coarse0 = rng.normal(0.0, amp, (2, 4, 4))
        coarse1 = rng.normal(0.0, amp, (2, 4, 4))
        grow = int(rng.integers(-1, 2))
        drop_rv = rng.random() < 0.1
        for t in range(T):
            w = 0.5 - 0.5 * np.cos(2 * np.pi * t / max(T, 1))  # systole drifts furthest from the seed phase
            c = (1 - w) * coarse0 + w * coarse1
            dy = ndi.zoom(c[0], (H / 4, W / 4), order=1)[:H, :W]
            dx = ndi.zoom(c[1], (H / 4, W / 4), order=1)[:H, :W]
            lab = ndi.map_coordinates(labels[t, k], [yy + dy, xx + dx], order=0, mode="nearest")
            if grow:
                heart = (lab == 2) | (lab == 3)
                if grow > 0:
                    ring = ndi.binary_dilation(heart) & ~heart & (lab == 0)
                    lab[ring] = 2
                else:
                    edge = heart & ~ndi.binary_erosion(heart) & (lab == 2)
                    lab[edge] = 0
            if drop_rv:
                lab[lab == 1] = 0
            out[t, k] = lab
    return out


def product_segmentation(case, method: str = "registration") -> "Cine":  # noqa: F821
    """The product's own 4D segmentation of a phantom case: propagation by ``method``
    ('registration' or 'memory', the bundled CSTM weights) from the phantom's seed (one mid slice
    at ED), as ``cardiacmotion segment`` would give it."""
    from cardiacmotion.io import seed_from_cine
    from cardiacmotion.propagation.segment import segment_cine

    seeds = seed_from_cine(case.seed, case.image, case.seed_phase)
    seg, _ = segment_cine(case.image, seeds=seeds, method=method, device="cpu")
    return seg


def build_case(seed: int, radial: int, angular: int, balanced: bool = True, fast: bool = False,
               segmentation: str = "truth", randomize: bool = False) -> Tuple[np.ndarray, np.ndarray]:
    """One phantom study: segment sequences [16, T, R, A] float32 and truth scores [16] (1..4).

    ``segmentation``: 'truth' (the phantom's labels), 'perturbed' (the labels with propagation-like
    errors, :func:`perturb_labels`), 'registration' or 'memory' (the product's own 4D segmentation
    from the seed slice by that method, with its errors, as a user's study would be scored).
    ``randomize``: the phantom widened by domain randomisation (``datasets.randomized_mr_case``).
    """
    from cardiacmotion.phantom import make_mr_case
    from cardiacmotion.scoring.learned import segment_sequences_for

    if randomize:
        from cardiacmotion.training.datasets import randomized_mr_case

        case = randomized_mr_case(seed, case_options(seed, balanced, fast))
    else:
        case = make_mr_case(seed, **case_options(seed, balanced, fast))
    if segmentation == "truth":
        seg = case.labels
    elif segmentation == "perturbed":
        seg = case.labels.with_array(perturb_labels(case.labels.array, seed, float(case.image.spacing[0])))
    else:
        seg = product_segmentation(case, segmentation)
    segs = segment_sequences_for(case.image, seg, case.landmarks, radial, angular)
    truth = np.array([int(s["score"]) for s in sorted(case.truth["segments"], key=lambda s: s["id"])[:16]])
    return segs.astype(np.float32), truth


def load_cases(
    seeds: Iterable[int],
    radial: int,
    angular: int,
    cache_dir: Optional[Path] = None,
    balanced: bool = True,
    progress=None,
    fast: bool = False,
    segmentation: str = "truth",
    workers: int = 0,
    randomize: bool = False,
) -> List[Tuple[np.ndarray, np.ndarray]]:
    """Segment sequences and truth for ``seeds``, from the cache when present (``workers`` > 1:
    the missing ones built in parallel processes; the result does not depend on it)."""
    if segmentation not in SEGMENTATIONS:
        raise ValueError(f"segmentation must be one of {SEGMENTATIONS}")
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    seeds = list(seeds)
    # the product's segmentation follows the propagation code and the bundled weights; truth keeps the v0.1 keys
    extra = [] if segmentation == "truth" else [segmentation, _source_version("propagation"), _models_version()]
    if randomize:
        extra += ["randomized"]
    paths = []
    for seed in seeds:
        key = json.dumps([seed, radial, angular, balanced, fast, SAMPLER_VERSION, _sampler_name(), _phantom_version()] + extra)
        paths.append(cache / f"mr{seed}_{hashlib.sha1(key.encode()).hexdigest()[:12]}.npz")
    jobs = [(seed, radial, angular, balanced, fast, segmentation, str(path), randomize) for seed, path in zip(seeds, paths)
            if not path.is_file()]
    if workers > 1 and len(jobs) > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=int(workers), initializer=_one_thread) as pool:
            for n, _ in enumerate(pool.map(_build_and_cache, jobs)):
                if progress:
                    progress((n + 1) / len(jobs), f"phantom {n + 1}/{len(jobs)} ({segmentation})")
    else:
        for n, job in enumerate(jobs):
            _build_and_cache(job)
            if progress:
                progress((n + 1) / len(jobs), f"phantom {n + 1}/{len(jobs)} ({segmentation})")
    out = []
    for path in paths:
        with np.load(path) as z:
            out.append((z["segments"], z["truth"]))
    return out


def _one_thread() -> None:
    """Worker processes: one thread each (the pool already fills the cores)."""
    import cv2
    import torch

    cv2.setNumThreads(1)
    torch.set_num_threads(1)


def _build_and_cache(job: tuple) -> None:
    seed, radial, angular, balanced, fast, segmentation, path, randomize = job
    segs, truth = build_case(seed, radial, angular, balanced, fast, segmentation, randomize)
    path = Path(path)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, segments=segs, truth=truth)
    os.replace(tmp, path)


def _source_version(package: str = "phantom") -> str:
    """A fingerprint of a ``cardiacmotion`` subpackage's source, so cached cases follow its changes."""
    root = Path(__file__).resolve().parents[1] / package
    h = hashlib.sha1()
    for f in sorted(root.glob("*.py")):
        h.update(f.read_bytes())
    return h.hexdigest()[:10] if root.is_dir() else "none"


def _phantom_version() -> str:
    return _source_version("phantom")


def _models_version() -> str:
    """The bundled manifest's fingerprint (the memory method's weights)."""
    manifest = Path(__file__).resolve().parents[2] / "Resources" / "Models" / "models.json"
    return hashlib.sha1(manifest.read_bytes()).hexdigest()[:10] if manifest.is_file() else "none"
