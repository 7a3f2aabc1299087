"""Checkpoint integrity: the tensor digest written by ``save_checkpoint``, unverified files
self-checked, and what ``--weights`` reports (issue 19)."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
import torch

from cardiacmotion.errors import WeightsError
from cardiacmotion.models.weights import load_checkpoint, save_checkpoint, tensor_digest

REPO = Path(__file__).resolve().parents[2]
BUNDLED = REPO / "Resources" / "Models"
sys.path.insert(0, str(REPO / "Testing" / "fuzz"))


def test_digest_round_trip_and_mismatch(tmp_path):
    state = {"w": torch.randn(3, 4), "b": torch.zeros(4), "n": torch.tensor(3)}
    save_checkpoint(tmp_path / "m.pt", "toy", {}, state, {})
    payload = load_checkpoint(tmp_path / "m.pt")
    assert payload["verification"] == "digest" and payload["tensor_sha256"] == tensor_digest(state)
    payload["state_dict"]["w"][0, 0] += 1e-6  # one value, one ulp-sized change
    torch.save({k: v for k, v in payload.items() if k != "verification"}, tmp_path / "t.pt")
    with pytest.raises(WeightsError, match="do not match the digest"):
        load_checkpoint(tmp_path / "t.pt")


def test_old_checkpoint_without_digest_loads_unverified(tmp_path):
    torch.save({"arch_id": "toy", "config": {}, "state_dict": {"w": torch.ones(2)}, "meta": {}}, tmp_path / "old.pt")
    assert load_checkpoint(tmp_path / "old.pt")["verification"] == "unverified"
    torch.save({"arch_id": "toy", "config": {}, "state_dict": {"w": torch.tensor([1.0, float("inf")])}}, tmp_path / "inf.pt")
    with pytest.raises(WeightsError, match="NaN or infinite"):
        load_checkpoint(tmp_path / "inf.pt")


def test_bundled_weights_verified_by_manifest():
    from cardiacmotion.propagation.memory import load_network

    _, info = load_network(None)
    assert info["verification"] == "sha256" and "note" not in info


def test_user_copy_of_bundled_cstm_is_self_checked(tmp_path):
    """No digest and no manifest beside it: it loads, passes the self-check and is reported unverified."""
    from cardiacmotion.models.selfcheck import cstm_self_check
    from cardiacmotion.propagation.memory import load_network

    shutil.copy(BUNDLED / "cstm-v0.2.0.pt", tmp_path / "mine.pt")
    net, info = load_network(tmp_path / "mine.pt")
    assert info["verification"] == "unverified" and "unverified" in info["note"]
    assert cstm_self_check(net, info["input_size"], "mine.pt") > 0.8  # the trained network copies a mask well


def test_retrained_cstm_checkpoint_is_verified(tmp_path):
    from cardiacmotion.propagation.memory import load_network

    payload = torch.load(BUNDLED / "cstm-v0.2.0.pt", map_location="cpu", weights_only=True)
    save_checkpoint(tmp_path / "re.pt", payload["arch_id"], payload["config"], payload["state_dict"], payload["meta"])
    _, info = load_network(tmp_path / "re.pt")
    assert info["verification"] == "digest" and "note" not in info


def test_user_mmsa_without_digest_reports_unverified(tmp_path):
    from cardiacmotion.scoring.learned import load_model

    shutil.copy(BUNDLED / "mmsa-v0.2.0.pt", tmp_path / "mine.pt")
    assert load_model(tmp_path / "mine.pt").verification == "unverified"
    assert load_model(None).verification == "sha256"


def test_segment_with_user_weights_says_unverified(tmp_path):
    from fuzz_support import run_cli, write_tiny_mr

    case = write_tiny_mr(tmp_path / "in", phases=4)
    shutil.copy(BUNDLED / "cstm-v0.2.0.pt", tmp_path / "mine.pt")
    r = run_cli(["segment", case["image"], "--seed", case["seed"], "-o", "seg.nii.gz", "--method", "auto",
                 "--weights", "mine.pt"], cwd=tmp_path)
    assert r.code == 0, r.stderr
    assert "unverified" in r.stderr and "with memory" in r.stderr


def test_auto_falls_back_when_bundled_weights_are_missing(tmp_path):
    """A missing BUNDLED checkpoint may fall back to registration, with the message."""
    from fuzz_support import run_cli, write_tiny_mr

    case = write_tiny_mr(tmp_path / "in", phases=4)
    (tmp_path / "models").mkdir()
    r = run_cli(["segment", case["image"], "--seed", case["seed"], "-o", "seg.nii.gz"], cwd=tmp_path,
                env={"CARDIACMOTION_MODELS": str(tmp_path / "models")})
    assert r.code == 0, r.stderr
    assert "used registration" in r.stderr and (tmp_path / "seg.nii.gz").is_file()
