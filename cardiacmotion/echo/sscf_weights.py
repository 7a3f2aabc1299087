"""SSCF weights: the checkpoint (network config + size) and the bundled ``sscf-`` manifest entry."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from cardiacmotion.errors import WeightsError
from cardiacmotion.models import weights as W
from cardiacmotion.models.sscf import SSCFNet, arch_id

MODEL_PREFIX = "sscf-"


def save_sscf(path, model: SSCFNet, size: int, meta: dict, mm_per_px: Optional[float] = None) -> str:
    """Write an SSCF checkpoint (``mm_per_px``: the training frames' physical pixel size); returns its sha256."""
    cfg = {"size": int(size), "widths": list(model.widths), "num_classes": model.num_classes, "encoders": model.k,
           "fuse_levels": list(model.fuse_levels), "dilations": list(next(iter(model.fusion.values())).back.dilations) if len(model.fusion) else [1, 2, 3],
           "corr": next(iter(model.fusion.values())).back.corr if len(model.fusion) else "norm",
           "mm_per_px": None if mm_per_px is None else round(float(mm_per_px), 4)}
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    return W.save_checkpoint(path, arch_id(model.widths, model.num_classes, model.k), cfg, state, meta)


def bundled_sscf() -> tuple[Path, Optional[str]]:
    """Path and sha256 of the newest ``sscf-`` model in the manifest."""
    entry = W.manifest_entry(MODEL_PREFIX)
    if entry is None:
        raise WeightsError("no bundled SSCF weights (no 'sscf-' entry in Resources/Models/models.json); train them with "
                           "'cardiacmotion train sscf' and pass --weights")
    return W.models_dir() / entry["file"], entry.get("sha256")


def load_sscf(weights: Optional[str] = None, device: str = "cpu") -> tuple[SSCFNet, dict]:
    """``(model in eval mode, config)`` from ``weights`` or the bundled checkpoint.

    Raises:
        WeightsError: missing, corrupt or not an SSCF checkpoint.
    """
    path, sha = (Path(weights), None) if weights else bundled_sscf()
    payload = W.load_checkpoint(path, expected_sha256=sha)
    if not str(payload["arch_id"]).startswith("sscf/"):
        raise WeightsError(f"{Path(path).name} is not an SSCF checkpoint (architecture {payload['arch_id']!r})")
    cfg = payload["config"]
    model = SSCFNet(tuple(cfg["widths"]), int(cfg["num_classes"]), int(cfg["encoders"]), tuple(cfg["dilations"]), cfg["corr"],
                    tuple(cfg["fuse_levels"]))
    try:
        model.load_state_dict(payload["state_dict"])
    except RuntimeError as exc:
        raise WeightsError(f"{Path(path).name}: weights do not fit the SSCF architecture ({str(exc).splitlines()[0]})") from None
    model.to(device).eval()
    return model, cfg
