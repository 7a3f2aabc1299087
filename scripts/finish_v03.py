"""Record what the GPU run of ``scripts/gpu_train_v03.sh`` measured in ``Resources/Models/models.json``.

    python scripts/finish_v03.py RUN_DIR --card "NVIDIA H200"

RUN_DIR holds what the run wrote (cstm-v0.3.0.pt, mmsa-v0.3.0.pt, models.json with the CSTM entry
``train propagation`` wrote, eval.json from ``evaluate table``). This copies the weights into
Resources/Models, writes the cstm-v0.3.0 entry (as trained, plus the evaluation table's numbers),
an mmsa-v0.3.0 entry (its training metadata, the table's numbers, sha256), and the ``auto``
evidence section (:mod:`cardiacmotion.evaluation.evidence`).
"""
from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import torch

from cardiacmotion.evaluation.evidence import auto_choices, write_evidence
from cardiacmotion.models.weights import models_dir, sha256_of, write_manifest_entry

SCRIPT = "scripts/gpu_train_v03.sh OUT DATA (DATA from scripts/prepare_gpu_data.py)"


def _table(summary: list[dict], keys: tuple) -> dict:
    out: dict = {}
    for s in summary:
        row = {k: s.get(k) for k in keys if s.get(k) is not None}
        out.setdefault(s["source"] + ("" if s["held_out"] else " (trained on)"), {})[s["method"]] = {"cases": s["cases"], **row}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("run")
    ap.add_argument("--card", required=True)
    args = ap.parse_args()
    run, dest = Path(args.run), models_dir()
    report = json.loads((run / "eval.json").read_text())
    summary = report["summary"]
    run_manifest = json.loads((run / "models.json").read_text())
    cstm = next(m for m in run_manifest["models"] if m["id"] == "cstm-v0.3.0")
    for name in ("cstm-v0.3.0.pt", "mmsa-v0.3.0.pt"):
        shutil.copy(run / name, dest / name)
    assert sha256_of(dest / "cstm-v0.3.0.pt") == cstm["sha256"]
    prop_keys = ("dice_LV", "dice_Myo", "dice_RV", "ef_abs_error", "ef_bias", "frames_per_s")
    cstm["accuracy"]["evaluate_table"] = _table(summary, prop_keys)
    cstm["accuracy"]["evaluate_table_note"] = ("`cardiacmotion evaluate table` (one run, CPU workers on the GPU machine: "
                                               "frames/s are 1-thread CPU figures); Dice pooled per case")
    cstm["training_hardware"] = f"one {args.card} (16 CPU cores), trained in parallel with mmsa-v0.3.0; see {SCRIPT}"
    cstm["command"] = cstm.get("command", "")
    cstm["script"] = SCRIPT
    write_manifest_entry(cstm, dest)

    ckpt = torch.load(dest / "mmsa-v0.3.0.pt", map_location="cpu", weights_only=True)
    meta, cfg = ckpt.get("meta", {}), ckpt["config"]
    score_keys = tuple(f"{sc}_{k}" for sc in ("learned", "thickening") for k in ("4way", "abnormal", "msi_r"))
    mmsa = {
        "id": "mmsa-v0.3.0",
        "file": "mmsa-v0.3.0.pt",
        "architecture": ckpt["architecture"],
        "task": "regional wall-motion scoring of the 16 AHA segments from short-axis cine MR "
                "(1 normal, 2 hypokinetic, 3 akinetic, 4 dyskinetic)",
        "paper": "Xue et al., MMSA (multi-scale motion-based spatial attention)",
        "config": cfg,
        "training_data": {
            "source": "domain-randomised synthetic cine MR phantoms (cardiacmotion.phantom + cardiacmotion.phantom.randomize), "
                      "each sampled from perturbed truth labels and from the product's registration and memory "
                      "(cstm-v0.2.0) segmentations; no real study has wall-motion truth",
            **{k: meta.get(k) for k in ("train_seeds", "val_seeds", "epochs_run", "seed", "train_seconds", "segmentation",
                                         "randomized", "init", "val_accuracy_4way", "device")},
        },
        "accuracy": {"evaluate_table": _table(summary, score_keys),
                     "note": "scores from each propagation method's segmentation of the same cases (evaluate table)"},
        "sha256": sha256_of(dest / "mmsa-v0.3.0.pt"),
        "size_bytes": (dest / "mmsa-v0.3.0.pt").stat().st_size,
        "training_command": ("CARDIACMOTION_MODELS=<copy of the v0.2.0 models> cardiacmotion train scoring --device cuda --threads 2 "
                             "--fast-phantoms --randomize --segmentation perturbed,registration,memory --batch 8 --lr 0.0015 "
                             "--seed 3 --init mmsa-v0.2.0.pt --train-seeds 0-99 --val-seeds 5000-5007 --epochs 14 --workers 8 "
                             "--max-minutes 1.2 -o Resources/Models/mmsa-v0.3.0.pt"),
        "training_hardware": f"one {args.card}; see {SCRIPT}",
        "script": SCRIPT,
    }
    write_manifest_entry(mmsa, dest)
    report["auto"] = auto_choices(summary)
    report["device"] = f"{report.get('device')} workers on one {args.card} machine (16 CPU cores)"
    write_evidence(report, dest)
    print(json.dumps(report["auto"], indent=1))


if __name__ == "__main__":
    main()
