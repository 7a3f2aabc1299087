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


def case_options(seed: int, balanced: bool = True) -> Dict:
    """Phantom options for study ``seed``: class-balanced wall-motion patterns when the phantom supports them."""
    from cardiacmotion.phantom import make_mr_case

    params = inspect.signature(make_mr_case).parameters
    opts: Dict = {}
    if balanced:
        for name in ("wall_motion", "segment_scores", "scores", "wall_motion_pattern", "pattern"):
            if name in params:
                opts[name] = "random" if name in ("wall_motion_pattern", "pattern") else _balanced_scores(seed)
                break
    return opts


def _balanced_scores(seed: int) -> List[int]:
    """Per-segment scores with every class equally likely, in contiguous territories (as infarcts are)."""
    rng = np.random.default_rng(10_000 + seed)
    scores = np.ones(16, int)
    if rng.random() < 0.2:
        return scores.tolist()  # some fully normal hearts
    for _ in range(rng.integers(1, 4)):
        cls = int(rng.integers(2, 5))
        start = int(rng.integers(0, 16))
        for s in range(start, start + int(rng.integers(2, 7))):
            scores[s % 16] = cls
    return scores.tolist()


def build_case(seed: int, radial: int, angular: int, balanced: bool = True) -> Tuple[np.ndarray, np.ndarray]:
    """One phantom study: segment sequences [16, T, R, A] float32 and truth scores [16] (1..4)."""
    from cardiacmotion.phantom import make_mr_case
    from cardiacmotion.scoring.learned import segment_sequences_for

    case = make_mr_case(seed, **case_options(seed, balanced))
    segs = segment_sequences_for(case.image, case.labels, case.landmarks, radial, angular)
    truth = np.array([int(s["score"]) for s in sorted(case.truth["segments"], key=lambda s: s["id"])[:16]])
    return segs.astype(np.float32), truth


def load_cases(
    seeds: Iterable[int],
    radial: int,
    angular: int,
    cache_dir: Optional[Path] = None,
    balanced: bool = True,
    progress=None,
) -> List[Tuple[np.ndarray, np.ndarray]]:
    """Segment sequences and truth for ``seeds``, from the cache when present."""
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    seeds = list(seeds)
    out = []
    for n, seed in enumerate(seeds):
        key = json.dumps([seed, radial, angular, balanced, SAMPLER_VERSION, _sampler_name(), _phantom_version()])
        path = cache / f"mr{seed}_{hashlib.sha1(key.encode()).hexdigest()[:12]}.npz"
        if path.is_file():
            with np.load(path) as z:
                out.append((z["segments"], z["truth"]))
        else:
            segs, truth = build_case(seed, radial, angular, balanced)
            tmp = path.with_suffix(".tmp.npz")
            np.savez(tmp, segments=segs, truth=truth)
            os.replace(tmp, path)
            out.append((segs, truth))
        if progress:
            progress((n + 1) / len(seeds), f"phantom {n + 1}/{len(seeds)}")
    return out


def _phantom_version() -> str:
    """A fingerprint of the phantom generator's source, so cached cases follow its changes."""
    try:
        import cardiacmotion.phantom as ph

        root = Path(ph.__file__).parent
        h = hashlib.sha1()
        for f in sorted(root.glob("*.py")):
            h.update(f.read_bytes())
        return h.hexdigest()[:10]
    except Exception:
        return "none"
