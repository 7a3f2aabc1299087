"""The CSTM network: shapes, one pass for all labels, and checkpoint checks."""
from __future__ import annotations

import json

import pytest
import torch

from cardiacmotion.errors import WeightsError
from cardiacmotion.models.cstm import CSTM, CSTMConfig
from cardiacmotion.models.weights import load_checkpoint, save_checkpoint, sha256_of, write_manifest_entry, read_manifest

TINY = CSTMConfig(widths=(8, 8, 16, 16), key_dim=8, value_dim=8, name="cstm-test")


def test_forward_shapes_and_gradients():
    torch.manual_seed(0)
    net = CSTM(TINY)
    img = torch.randn(2, 1, 64, 48)
    mask = torch.nn.functional.one_hot(torch.randint(0, 4, (2, 64, 48)), 4).permute(0, 3, 1, 2).float()
    q = net.encode_key(img)
    assert q["k8"].shape == (2, 8, 8, 6) and q["k16"].shape == (2, 8, 4, 3)
    v8, v16 = net.encode_value(img, mask, q)
    assert v8.shape == (2, 12, 8, 6) and v16.shape == (2, 12, 4, 3)
    logits = net.segment(q, q["k8"][:, None], q["k16"][:, None], v8[:, None], v16[:, None])
    assert logits.shape == (2, 4, 64, 48)
    logits.logsumexp(1).mean().backward()
    assert all(p.grad is not None for p in net.decoder.parameters())
    assert net.value_encoder.backbone.stem[0].weight.grad is not None


def test_batch_elements_are_independent():
    torch.manual_seed(1)
    net = CSTM(TINY).eval()
    img = torch.randn(3, 1, 32, 32)
    mask = torch.softmax(torch.randn(3, 4, 32, 32), 1)
    with torch.no_grad():
        q = net.encode_key(img)
        v8, v16 = net.encode_value(img, mask, q)
        full = net.segment(q, q["k8"][:, None], q["k16"][:, None], v8[:, None], v16[:, None])
        q1 = {k: t[1:2] for k, t in q.items()}
        one = net.segment(q1, q1["k8"][:, None], q1["k16"][:, None], v8[1:2, None], v16[1:2, None])
    assert torch.allclose(full[1:2], one, atol=1e-5)


def test_arch_id_round_trip():
    assert CSTMConfig.from_dict(TINY.to_dict()) == TINY
    assert TINY.arch_id() != CSTMConfig().arch_id()


def test_checkpoint_errors(tmp_path):
    net = CSTM(TINY)
    path = tmp_path / "w.pt"
    digest = save_checkpoint(path, TINY.arch_id(), TINY.to_dict(), net.state_dict(), {"input_size": [64, 64]})
    assert digest == sha256_of(path)
    payload = load_checkpoint(path, expected_arch=TINY.arch_id(), expected_sha256=digest)
    assert payload["meta"]["input_size"] == [64, 64]
    with pytest.raises(WeightsError, match="not found"):
        load_checkpoint(tmp_path / "missing.pt")
    with pytest.raises(WeightsError, match="another architecture"):
        load_checkpoint(path, expected_arch="cstm-other")
    with pytest.raises(WeightsError, match="corrupt"):
        load_checkpoint(path, expected_sha256="0" * 64)
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint at all")
    with pytest.raises(WeightsError, match="corrupt"):
        load_checkpoint(bad)


def test_manifest_entries_replace_by_id(tmp_path):
    write_manifest_entry({"id": "cstm-v0.1.0", "file": "a.pt"}, tmp_path)
    write_manifest_entry({"id": "cstm-v0.1.0", "file": "b.pt"}, tmp_path)
    write_manifest_entry({"id": "other-v1.0.0", "file": "c.pt"}, tmp_path)
    data = read_manifest(tmp_path)
    assert [m["file"] for m in data["models"]] == ["b.pt", "c.pt"]
    (tmp_path / "models.json").write_text("{broken")
    with pytest.raises(WeightsError, match="not valid JSON"):
        read_manifest(tmp_path)


def test_saved_bytes_depend_only_on_the_payload(tmp_path):
    net = CSTM(TINY)
    a = save_checkpoint(tmp_path / "a.pt", TINY.arch_id(), TINY.to_dict(), net.state_dict(), {"x": 1})
    b = save_checkpoint(tmp_path / "other-name.pt", TINY.arch_id(), TINY.to_dict(), net.state_dict(), {"x": 1})
    assert a == b
