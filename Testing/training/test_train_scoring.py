"""train/evaluate scoring: seeds, metrics, class weights, and a tiny real training run on phantoms."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from cardiacmotion.errors import InputError
from cardiacmotion.training import train_scoring
from cardiacmotion.training.train_scoring import class_weights, parse_seeds, wall_motion_metrics


def test_parse_seeds():
    assert parse_seeds("0-3,7, 9-10") == [0, 1, 2, 3, 7, 9, 10]
    with pytest.raises(InputError):
        parse_seeds("a-b")
    with pytest.raises(InputError):
        parse_seeds(" ")


def test_metrics_and_confusion():
    truth = np.array([[1] * 12 + [2, 3, 4, 4], [1] * 16, [2] * 16])
    pred = np.array([[1] * 12 + [2, 2, 4, 1], [1] * 15 + [2], [2] * 16])
    m = wall_motion_metrics(truth, pred)
    assert m["accuracy_4way"] == pytest.approx(45 / 48)
    assert m["accuracy_abnormal"] == pytest.approx(46 / 48)
    conf = np.array(m["confusion_matrix"])
    assert conf.sum() == 48 and conf[0, 0] == 27 and conf[3, 0] == 1 and conf[2, 1] == 1
    assert -1 <= m["msi_pearson_r"] <= 1


def test_class_weights_favour_rare_classes():
    w = class_weights([np.array([1] * 12 + [2, 2, 3, 4])])
    assert w[0] < w[1] < w[2] == w[3]
    assert w.mean() == pytest.approx(1.0)


def _args(tmp_path: Path, **kw) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    train_scoring.add_arguments(p)
    p.add_argument("--device", default="cpu")
    p.add_argument("--progress", default="none")
    a = p.parse_args([])
    a.cache_dir = str(tmp_path / "cache")
    for k, v in kw.items():
        setattr(a, k, v)
    return a


def test_tiny_training_run_writes_a_loadable_checkpoint(tmp_path: Path):
    phantom = pytest.importorskip("cardiacmotion.phantom")
    if not hasattr(phantom, "make_mr_case"):
        pytest.skip("the MR phantom is not in this checkout")
    from cardiacmotion.scoring.learned import load_model

    out = tmp_path / "tiny.pt"
    args = _args(tmp_path, output=str(out), train_seeds="1-2", val_seeds="3", epochs=1, batch=2)
    assert train_scoring.train(args) == 0
    model = load_model(out)
    assert model.config.radial == 16
    # cached segment sequences live in the cache dir, and a second load uses them
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 3
    args = _args(tmp_path, weights=str(out), eval_seeds="4", json=str(tmp_path / "m.json"), no_compare=True)
    assert train_scoring.evaluate(args) == 0
    report = json.loads((tmp_path / "m.json").read_text())
    assert report["learned"]["segments"] == 16 and report["seconds_per_study"] > 0
