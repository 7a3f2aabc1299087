"""'memory' in the propagation method registry: bundled weights load, auto falls back without them."""
from __future__ import annotations

import numpy as np
import pytest

methods = pytest.importorskip("cardiacmotion.propagation.methods")
segment = pytest.importorskip("cardiacmotion.propagation.segment")

from cardiacmotion.errors import WeightsError  # noqa: E402
from cardiacmotion.propagation.memory import MemoryPropagator  # noqa: E402


def _tiny_case():
    from cardiacmotion.cine import Cine
    from cardiacmotion.propagation.order import SeedSet

    T, K, H = 4, 3, 64
    yy, xx = np.mgrid[:H, :H]
    r = np.hypot(yy - H / 2, xx - H / 2)
    img = np.zeros((T, K, H, H), np.float32)
    lab = np.zeros((T, K, H, H), np.uint8)
    for t in range(T):
        rad = 10 - t
        lab[t][:, (r < rad + 4)] = 2
        lab[t][:, (r < rad)] = 3
        img[t] = np.choose(lab[t], [0.1, 0.1, 0.4, 0.9])
    seed = np.zeros_like(lab)
    seed[0, 1] = lab[0, 1]
    seeded = np.zeros((T, K), bool)
    seeded[0, 1] = True
    cine = Cine(img, np.diag([1.5, 1.5, 8.0, 1.0]), frame_times_ms=np.arange(T) * 40.0, modality="MR")
    return cine, lab, SeedSet(labels=seed, seeded=seeded)


def test_memory_is_registered_and_uses_bundled_weights():
    import torch

    assert "memory" in methods.available_methods()
    try:
        make = methods.get_method("memory")(torch.device("cpu"), modality="MR")
    except WeightsError as exc:  # pragma: no cover - a checkout without Resources/Models
        pytest.skip(f"no bundled weights: {exc}")
    prop = make([2, 3], memory_frames=3)
    assert isinstance(prop, MemoryPropagator) and prop.memory.capacity == 2
    assert make.model_id.startswith("cstm-v")


def test_auto_uses_bundled_memory_weights(tmp_path, monkeypatch):
    import json
    import shutil

    from cardiacmotion.models.weights import models_dir

    # without an 'auto' evidence record (models.json) auto is memory-first
    for f in models_dir().glob("cstm-*.pt"):
        shutil.copy(f, tmp_path / f.name)
    data = json.loads((models_dir() / "models.json").read_text())
    data.pop("auto", None)
    (tmp_path / "models.json").write_text(json.dumps(data))
    monkeypatch.setenv("CARDIACMOTION_MODELS", str(tmp_path))
    cine, lab, seeds = _tiny_case()
    seg, info = segment.segment_cine(cine, seeds=seeds, method="auto", device="cpu")
    if info["method"] != "memory":  # pragma: no cover - a checkout without Resources/Models
        pytest.skip(info.get("message", "no bundled weights"))
    assert "message" not in info and seg.array.shape == cine.array.shape
    assert set(np.unique(seg.array)) <= {0, 2, 3}  # only the seed's labels


def test_auto_falls_back_to_registration_without_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("CARDIACMOTION_MODELS", str(tmp_path))
    cine, _, seeds = _tiny_case()
    # no bundled weights: auto says so and uses registration
    seg, info = segment.segment_cine(cine, seeds=seeds, method="auto", device="cpu")
    assert info["method"] == "registration" and "memory" in info.get("message", "")
    assert seg.array.shape == cine.array.shape
    # a user's checkpoint that does not load: an error even under auto, never a silent fallback (issue 19)
    with pytest.raises(WeightsError, match="not found"):
        segment.segment_cine(cine, seeds=seeds, method="auto", device="cpu", weights=str(tmp_path / "x.pt"))
    with pytest.raises(WeightsError, match="no bundled"):
        segment.segment_cine(cine, seeds=seeds, method="memory", device="cpu")
