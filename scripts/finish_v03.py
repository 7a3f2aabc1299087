"""Record what the GPU run of ``scripts/gpu_train_v03.sh`` measured in ``Resources/Models/models.json``.

    python scripts/finish_v03.py RUN_DIR --compare COMPARE_DIR --card "NVIDIA H200" [--bundle-mmsa]

RUN_DIR holds what the run wrote (cstm-v0.3.0.pt, mmsa-v0.3.0.pt, models.json with the CSTM entry
``train propagation`` wrote, eval.json from ``evaluate table``); COMPARE_DIR what
``scripts/gpu_compare_v02.sh`` wrote (eval_v02.json: the same cases with the v0.2.0 weights,
bench_v*.json). This copies cstm-v0.3.0 into Resources/Models with its entry (as trained, plus
the tables' numbers), adds mmsa-v0.3.0 only with ``--bundle-mmsa`` (it measured worse than
mmsa-v0.2.0 on held-out evidence, so v0.2.0 stays the learned scorer), and writes the ``auto``
evidence section (:mod:`cardiacmotion.evaluation.evidence`) for the shipped models: propagation
from the v0.3.0 table, scoring from the v0.2.0 scorer's rows.
"""
from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import torch

from cardiacmotion.evaluation.evidence import choose_propagation, choose_scoring, write_evidence
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
    ap.add_argument("--compare", required=True)
    ap.add_argument("--card", required=True)
    ap.add_argument("--bundle-mmsa", action="store_true")
    args = ap.parse_args()
    run, cmp_dir, dest = Path(args.run), Path(args.compare), models_dir()
    report = json.loads((run / "eval.json").read_text())
    before = json.loads((cmp_dir / "eval_v02.json").read_text())
    summary, summary_v02 = report["summary"], before["summary"]
    run_manifest = json.loads((run / "models.json").read_text())
    cstm = next(m for m in run_manifest["models"] if m["id"] == "cstm-v0.3.0")
    shutil.copy(run / "cstm-v0.3.0.pt", dest / "cstm-v0.3.0.pt")
    assert sha256_of(dest / "cstm-v0.3.0.pt") == cstm["sha256"]
    prop_keys = ("dice_LV", "dice_Myo", "dice_RV", "ef_abs_error", "ef_bias")
    score_keys = tuple(f"{sc}_{k}" for sc in ("learned", "thickening") for k in ("4way", "abnormal", "msi_r"))
    cstm["accuracy"]["evaluate_table"] = _table(summary, prop_keys)
    cstm["accuracy"]["evaluate_table_cstm_v0.2.0_same_cases"] = _table(summary_v02, prop_keys)
    cstm["accuracy"]["evaluate_table_note"] = (
        f"`cardiacmotion evaluate table --phantom-cases 3 --independent-cases 20 --real SCD0000101,SCD0000201,porcine "
        f"--workers 15 --device cuda` on one {args.card} machine, once with these weights and once with cstm-v0.2.0 "
        "(same cases); Dice pooled per case, averaged over cases; the training phantom is the one of issue 16")
    bench = {v: json.loads((cmp_dir / f"bench_v{v}.json").read_text()) for v in ("0.3.0", "0.2.0")}
    cstm["speed"]["gpu_benchmark"] = {
        "device": args.card, "command": "cardiacmotion benchmark --device cuda --cases 2 --methods registration memory --weights W",
        **{f"memory_fps_v{v}": next(r["frames_per_second"] for r in b["results"] if r["method"] == "memory") for v, b in bench.items()},
        **{f"registration_fps_run_v{v}": next(r["frames_per_second"] for r in b["results"] if r["method"] == "registration")
           for v, b in bench.items()},
    }
    stopped = "stopped by the --minutes cap: not bit-reproducible" if cstm["training"].get("stopped_early") else \
        f"all {cstm['training']['iterations']} iterations ran inside the --minutes cap"
    cstm["training_hardware"] = (f"one {args.card} (16 CPU cores), {cstm['training'].get('train_minutes')} min of training "
                                 f"({stopped}), in parallel with an MMSA run; see {SCRIPT}")
    cstm["training"]["init"] = {"id": "cstm-v0.2.0", "sha256": next(
        m["sha256"] for m in run_manifest["models"] if m["id"] == "cstm-v0.2.0"), "note": "the command's --init path was a copy of it"}
    cstm["training_data"]["real_cache"] = "scripts/prepare_gpu_data.py (porcine + SCD0000201 as npz; SCD0000101 never)"
    cstm["script"] = SCRIPT
    # the trees the GPU run used (phantom of issue 16, this branch's training code, the independent generator)
    cstm["training_data_commits"] = {"phantom": "d1033a2511d0997e10feab613abcaeb7ec384f97", "training_code": "14688820bd032d062e9b63e5da81440a818cf385",
                                     "independent_generator_evaluated": "dcd7a872ee07c8bac139aca682f1995996d5be50"}
    write_manifest_entry(cstm, dest)

    if args.bundle_mmsa:
        shutil.copy(run / "mmsa-v0.3.0.pt", dest / "mmsa-v0.3.0.pt")
        ckpt = torch.load(dest / "mmsa-v0.3.0.pt", map_location="cpu", weights_only=True)
        meta = ckpt.get("meta", {})
        write_manifest_entry({
            "id": "mmsa-v0.3.0", "file": "mmsa-v0.3.0.pt", "architecture": ckpt["architecture"], "config": ckpt["config"],
            "training_data": {k: meta.get(k) for k in ("train_seeds", "val_seeds", "epochs_run", "seed", "segmentation",
                                                        "randomized", "init", "val_accuracy_4way", "device")},
            "accuracy": {"evaluate_table": _table(summary, score_keys)},
            "sha256": sha256_of(dest / "mmsa-v0.3.0.pt"), "size_bytes": (dest / "mmsa-v0.3.0.pt").stat().st_size,
            "script": SCRIPT,
        }, dest)
    prop = choose_propagation(summary)
    scoring = choose_scoring(summary_v02 if not args.bundle_mmsa else summary, prop["choice"])
    auto_report = {
        "auto": {"propagation": {"MR": prop}, "scoring": scoring, "sources": ["independent generator", "real: SCD0000101"]},
        "summary": summary,
        "models": {"propagation": "cstm-v0.3.0 (memory, fusion)",
                   "scoring": "mmsa-v0.3.0" if args.bundle_mmsa else "mmsa-v0.2.0 (scores of the compare run)"},
        "command": report.get("command"),
        "device": f"networks on one {args.card}, registration and scoring on its CPU cores (15 workers)",
    }
    write_evidence(auto_report, dest)
    print(json.dumps({"propagation": prop["choice"], "mean_dice": prop["mean_dice"], "scoring": scoring}, indent=1))


if __name__ == "__main__":
    main()
