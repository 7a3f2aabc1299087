"""Learned wall-motion scoring with the bundled MMSA network.

``score_learned(image, seg, landmarks)`` samples the 16 AHA segment sequences in polar space
(the same sampler the training used), runs :class:`~cardiacmotion.models.mmsa.MMSANet` and returns
the SCORES.json shape (DESIGN section 4) with per-segment class probabilities.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Union

import numpy as np

from cardiacmotion.cine import Cine
from cardiacmotion.errors import InputError, NotAvailableError, WeightsError

MODELS_DIR = Path(os.environ.get("CARDIACMOTION_MODELS") or Path(__file__).resolve().parents[2] / "Resources" / "Models")
MODEL_ID = "mmsa-v0.2.0"
DEFAULT_WEIGHTS = MODELS_DIR / f"{MODEL_ID}.pt"
SEGMENT_NAMES = (
    "basal anterior", "basal anteroseptal", "basal inferoseptal", "basal inferior", "basal inferolateral",
    "basal anterolateral", "mid anterior", "mid anteroseptal", "mid inferoseptal", "mid inferior",
    "mid inferolateral", "mid anterolateral", "apical anterior", "apical septal", "apical inferior",
    "apical lateral",
)
MIN_PHASES = 8  # the flow branch compares frames 3 apart over a periodic cycle
SCORE_LABELS = {1: "normal", 2: "hypokinetic", 3: "akinetic", 4: "dyskinetic"}


def segment_sequences_for(image: Cine, seg: Cine, landmarks: Mapping[str, np.ndarray], radial: int, angular: int) -> np.ndarray:
    """The network input [16, T, radial, angular]: the scoring package's polar sampler when present.

    Training (``cardiacmotion.training.scoring_data``) calls this same function, so the network
    always sees at inference what it saw in training.
    """
    try:
        from cardiacmotion.scoring.polar import segment_sequences  # issue 7 (AHA geometry)
    except ImportError:
        from cardiacmotion.training.scoring_polar_fallback import segment_sequences

        return segment_sequences(image, seg, landmarks, radial=radial, angular=angular)
    # ED first, the ED centre for every phase (motion shows as movement in the polar image)
    return _as_segments(segment_sequences(image, seg, landmarks, size=(radial, angular)))


def available_sampler() -> str:
    """Which polar sampler this build has: ``scoring.polar`` (issue 7) or the training ``fallback``."""
    try:
        import cardiacmotion.scoring.polar  # noqa: F401
    except ImportError:
        return "fallback"
    return "scoring.polar"


def _as_segments(result: Any) -> np.ndarray:
    arr = np.asarray(getattr(result, "array", result), dtype=np.float32)
    if arr.ndim != 4 or arr.shape[0] != 16:
        raise InputError(f"polar segment sequences have shape {arr.shape}, expected [16, T, R, A]")
    return arr


def sha256_of(path: Union[str, Path]) -> str:
    """Hex sha256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def manifest_entry(model_id: str = MODEL_ID, models_dir: Path = MODELS_DIR) -> Optional[dict]:
    """This model's object in ``models.json`` (None when the manifest or the entry is absent)."""
    from cardiacmotion.models.weights import read_manifest

    entries = read_manifest(models_dir)["models"]  # schema-checked: a broken file is one WeightsError line
    for entry in entries:
        if isinstance(entry, dict) and entry.get("id") == model_id:
            return entry
    return None


def load_model(weights: Optional[Union[str, Path]] = None, device: Any = "cpu"):
    """Load an MMSA checkpoint; raises ``WeightsError`` with a one-line reason when it cannot.

    The bundled file is checked against the sha256 in ``models.json``; any checkpoint must carry
    the architecture id ``mmsa-polar16-v1`` and a matching state dict.
    """
    import torch

    from cardiacmotion.models.mmsa import ARCHITECTURE, MMSAConfig, MMSANet

    path = Path(weights) if weights else DEFAULT_WEIGHTS
    if not path.is_file():
        raise WeightsError(f"MMSA weights not found: {path}")
    if weights is None or path.resolve() == DEFAULT_WEIGHTS.resolve():
        entry = manifest_entry()
        if entry is None:
            raise WeightsError(f"no '{MODEL_ID}' entry in {MODELS_DIR / 'models.json'}")
        if sha256_of(path) != entry.get("sha256"):
            raise WeightsError(f"{path.name} does not match the sha256 in models.json (corrupt or replaced file)")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # any unpickling failure is a bad file for the user
        raise WeightsError(f"cannot read {path.name} as a torch checkpoint ({type(err).__name__})") from None
    if not isinstance(ckpt, dict) or ckpt.get("architecture") != ARCHITECTURE:
        found = ckpt.get("architecture") if isinstance(ckpt, dict) else type(ckpt).__name__
        raise WeightsError(f"{path.name} is for architecture {found!r}, not {ARCHITECTURE!r}")
    sampler = (ckpt.get("meta") or {}).get("sampler")
    if sampler and sampler != available_sampler():
        raise WeightsError(f"{path.name} was trained on the '{sampler}' polar sampler, which this build lacks")
    try:
        model = MMSANet(MMSAConfig.from_dict(ckpt["config"]))
        model.load_state_dict(ckpt["state_dict"])
    except (KeyError, TypeError, RuntimeError, ValueError, AttributeError) as err:
        raise WeightsError(f"{path.name} does not fit the MMSA network ({str(err).splitlines()[0][:120]})") from None
    from cardiacmotion.models.weights import verify_tensors

    bundled = weights is None or path.resolve() == DEFAULT_WEIGHTS.resolve()
    model.verification = verify_tensors(ckpt, path.name, file_checked=bundled)
    if model.verification == "unverified":  # no digest: finite weights and a self-check pass (issue 19)
        from cardiacmotion.models.selfcheck import mmsa_self_check

        mmsa_self_check(model.eval(), path.name)
    return model.to(device).eval()


def predict_probabilities(model, segments: np.ndarray, device: Any = "cpu") -> np.ndarray:
    """Class probabilities [16, 4] for one study's segment sequences [16, T, R, A]."""
    import torch

    from cardiacmotion.models.mmsa import normalise_segments

    with torch.no_grad():
        x = normalise_segments(torch.from_numpy(np.ascontiguousarray(segments, dtype=np.float32))[None]).to(device)
        logits, _, _ = model(x)
        probs = torch.softmax(logits[0], dim=-1).cpu().numpy()
    if not np.all(np.isfinite(probs)):
        raise WeightsError("the scoring network produced NaN or infinite outputs (corrupt weights?)")
    return probs


def score_learned(
    image: Cine,
    seg: Cine,
    landmarks: Mapping[str, np.ndarray],
    weights: Optional[Union[str, Path]] = None,
    device: Any = "cpu",
    model: Any = None,
) -> Dict[str, Any]:
    """Score the 16 AHA segments of an MR short-axis cine with MMSA.

    Args:
        image: cine MR [T, K, J, I].
        seg: its 4D segmentation on the same grid (MR labels).
        landmarks: ``RV anterior insertion``, ``RV inferior insertion``, ``LV center`` (RAS).
        weights: a checkpoint path; default the bundled ``Resources/Models/mmsa-v0.2.0.pt``.
        device: torch device (or name) to run on.
        model: an already loaded network (skips loading ``weights``).

    Returns:
        ``{"segments": [16 x {id, name, score, label, probabilities, thickening_pct,
        endocardial_excursion_mm}], "segment_17": ..., "motion_score_index", "method": "learned",
        "model": id}``; thickening measurements come from the thickening method when it is available.
    """
    import torch

    if image.modality != "MR":
        raise InputError("learned scoring needs a short-axis cine MR (the image is echo)")
    if not seg.same_grid(image) or seg.array.shape != image.array.shape:
        raise InputError("the segmentation is not on the image grid (same phases, slices, rows, columns)")
    if image.phases < MIN_PHASES:
        raise NotAvailableError(f"learned scoring needs a cine of at least {MIN_PHASES} phases (this one has {image.phases})")
    dev = torch.device(device) if isinstance(device, str) else device
    if model is None:
        model = load_model(weights, dev)
    cfg = model.config
    segments = cfg.pool_radial(segment_sequences_for(image, seg, landmarks, cfg.radial * cfg.radial_oversample, cfg.angular))
    probs = predict_probabilities(model, segments, dev)
    measures = _thickening_measures(image, seg, landmarks)
    out = []
    for i in range(16):
        score = int(np.argmax(probs[i])) + 1
        m = measures.get(i + 1, {})
        out.append({
            "id": i + 1,
            "name": SEGMENT_NAMES[i],
            "score": score,
            "label": SCORE_LABELS[score],
            "abnormal": score >= 2,
            "probabilities": [round(float(p), 4) for p in probs[i]],
            "thickening_pct": m.get("thickening_pct"),
            "endocardial_excursion_mm": m.get("endocardial_excursion_mm"),
        })
    msi = float(np.mean([s["score"] for s in out]))
    return {
        "segments": out,
        "segment_17": {"id": 17, "name": "apex", "score": None, "label": "not assessed"},
        "motion_score_index": round(msi, 4),
        "abnormal_segments": [s["id"] for s in out if s["score"] >= 2],
        "method": "learned",
        "model": MODEL_ID if weights is None else Path(weights).name,
        **({"weights_note": _unverified(weights)} if getattr(model, "verification", "") == "unverified" else {}),
    }


def _unverified(weights) -> str:
    from cardiacmotion.models.weights import unverified_note

    return unverified_note(Path(weights).name if weights else MODEL_ID, "a self-check forward pass")


def _thickening_measures(image: Cine, seg: Cine, landmarks: Mapping[str, np.ndarray]) -> Dict[int, dict]:
    """Per-segment thickening % and excursion from the thickening method, {} when it is unavailable."""
    try:
        from cardiacmotion.scoring.thickening import score_thickening  # issue 7
    except ImportError:
        return {}
    try:
        result = score_thickening(image, seg, landmarks)
    except InputError:
        return {}
    return {int(s["id"]): s for s in result.get("segments", []) if isinstance(s, dict) and "id" in s}
