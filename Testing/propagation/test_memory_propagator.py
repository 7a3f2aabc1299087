"""MemoryPropagator: the streaming API, the bounded memory, batching and weight loading errors."""
from __future__ import annotations

import pytest
import torch

from cardiacmotion.errors import InputError, WeightsError
from cardiacmotion.models.cstm import CSTM, CSTMConfig
from cardiacmotion.models.weights import save_checkpoint, write_manifest_entry
from cardiacmotion.propagation.base import Propagator
from cardiacmotion.propagation.memory import MemoryPropagator, load_memory_propagator_factory, load_network

TINY = CSTMConfig(widths=(8, 8, 16, 16), key_dim=8, value_dim=8, name="cstm-test")


def _prop(labels=(1, 2, 3), capacity=2, size=(32, 32)):
    torch.manual_seed(0)
    return MemoryPropagator(torch.device("cpu"), labels, CSTM(TINY), input_size=size, capacity=capacity)


def test_is_a_propagator_with_bounded_memory():
    p = _prop(capacity=2)
    assert isinstance(p, Propagator) and p.method == "memory"
    img, mask = torch.randn(3, 32, 32), torch.randint(0, 4, (3, 32, 32))
    p.init(img, mask)
    for i in range(5):
        frame = torch.randn(3, 32, 32)
        probs = p.step(frame)
        assert probs.shape == (3, 4, 32, 32)
        assert torch.allclose(probs.sum(1), torch.ones(3, 32, 32), atol=1e-5)
        p.add_memory(frame, probs.argmax(1))
        assert len(p.memory) == 1 + min(i + 1, 2)
    p.add_memory(img, mask, permanent=True)
    assert len(p.memory.permanent) == 2 and len(p.memory.recent) == 2


def test_only_seeded_labels_propagate():
    p = _prop(labels=(2, 3))
    img = torch.randn(2, 32, 32)
    p.init(img, torch.randint(0, 4, (2, 32, 32)))
    probs = p.step(torch.randn(2, 32, 32))
    assert float(probs[:, 1].abs().max()) == 0.0


def test_other_sizes_are_resized_and_batches_independent():
    p = _prop(size=(32, 32))
    imgs, masks = torch.randn(2, 40, 24), torch.randint(0, 4, (2, 40, 24))
    p.init(imgs, masks)
    query = torch.randn(2, 40, 24)
    both = p.step(query)
    assert both.shape == (2, 4, 40, 24)
    q = _prop(size=(32, 32))
    q.init(imgs[1:], masks[1:])
    assert torch.allclose(both[1:], q.step(query[1:]), atol=1e-5)


def test_bad_use_is_an_input_error():
    p = _prop()
    with pytest.raises(InputError, match="init"):
        p.step(torch.randn(1, 32, 32))
    p.init(torch.randn(2, 32, 32), torch.zeros(2, 32, 32, dtype=torch.long))
    with pytest.raises(InputError, match="batch"):
        p.step(torch.randn(3, 32, 32))
    with pytest.raises(InputError, match="do not match"):
        p.add_memory(torch.randn(2, 32, 32), torch.zeros(3, 32, 32, dtype=torch.long))


def _bundle(tmp_path, monkeypatch, cfg=TINY, manifest_arch=None, sha=None):
    net = CSTM(cfg)
    digest = save_checkpoint(tmp_path / "cstm.pt", cfg.arch_id(), cfg.to_dict(), net.state_dict(),
                             {"input_size": [32, 32], "capacity": 3})
    write_manifest_entry({"id": "cstm-v0.0.1", "file": "cstm.pt", "architecture": manifest_arch or cfg.arch_id(),
                          "sha256": sha or digest}, tmp_path)
    monkeypatch.setenv("CARDIACMOTION_MODELS", str(tmp_path))
    return net


def test_factory_loads_bundled_weights(tmp_path, monkeypatch):
    net = _bundle(tmp_path, monkeypatch)
    factory = load_memory_propagator_factory(device="cpu")
    assert factory.input_size == (32, 32) and factory.model_id == "cstm-v0.0.1"
    p = factory([1, 3])
    assert p.memory.capacity == 3
    ref = net.state_dict()
    for k, v in p.net.state_dict().items():
        assert torch.equal(v, ref[k])


def test_weight_errors_say_why(tmp_path, monkeypatch):
    monkeypatch.setenv("CARDIACMOTION_MODELS", str(tmp_path))
    with pytest.raises(WeightsError, match="no bundled"):
        load_network()
    _bundle(tmp_path, monkeypatch, sha="f" * 64)
    with pytest.raises(WeightsError, match="corrupt"):
        load_network()
    _bundle(tmp_path, monkeypatch, manifest_arch="cstm-small/other")
    with pytest.raises(WeightsError, match="another architecture"):
        load_network()
    _bundle(tmp_path, monkeypatch)
    (tmp_path / "cstm.pt").unlink()
    with pytest.raises(WeightsError, match="not found"):
        load_network()
    with pytest.raises(WeightsError, match="not found"):
        load_network(tmp_path / "nothing.pt")


def test_user_checkpoint_of_another_network_is_refused(tmp_path):
    save_checkpoint(tmp_path / "x.pt", "mmsa-v1", {}, {"w": torch.zeros(2)}, {})
    with pytest.raises(WeightsError, match="another architecture"):
        load_network(tmp_path / "x.pt")
    # right arch id, wrong tensors
    save_checkpoint(tmp_path / "y.pt", TINY.arch_id(), TINY.to_dict(), CSTM(CSTMConfig()).state_dict(), {})
    with pytest.raises(WeightsError, match="do not fit"):
        load_network(tmp_path / "y.pt")
