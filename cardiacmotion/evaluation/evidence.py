"""``auto`` by evidence: which method ``segment --method auto`` and ``score --method auto`` run.

The choice is made on held-out evidence only: the independent test generator and the held-out
real study (SCD0000101), never on the training phantom. It is recorded in ``models.json`` under
``"auto"`` by ``cardiacmotion evaluate table --write-evidence`` and read here at run time.

Rules (DESIGN.md section 8; issue 20):

* propagation: a method that uses learned weights (memory, fusion) is eligible only if it is at least
  as good as the training-free registration on *every* label of *every* evidence source; among
  the eligible methods (registration always is) the best mean Dice wins;
* echo propagation (``auto.propagation.US``, written by ``cardiacmotion evaluate echo --write-evidence``):
  the same rule over the seeded echo methods (memory, fusion vs registration) on the independent echo
  generator's clips, per label (LV, myocardium, LA);
* scoring: the learned scorer is eligible only if, from the segmentation that auto propagation
  gives, it is at least as good as the thickening rule in 4-way accuracy, abnormal accuracy and MSI r
  on the independent generator; otherwise auto scores by thickening.
"""
from __future__ import annotations

from typing import Optional

EVIDENCE_SOURCES = ("independent generator", "real: SCD0000101")
LEARNED_METHODS = ("memory", "fusion")
TRAINING_FREE = "registration"


def _evidence_rows(summary: list[dict]) -> list[dict]:
    return [s for s in summary if s["source"] in EVIDENCE_SOURCES and s.get("held_out", True)]


def choose_propagation(summary: list[dict]) -> Optional[dict]:
    """``{"choice", "eligible", "mean_dice", "evidence"}`` or ``None`` when there is no evidence."""
    rows = _evidence_rows(summary)
    if not rows or not any(r["method"] == TRAINING_FREE for r in rows):
        return None
    evidence: dict = {}
    for r in rows:
        evidence.setdefault(r["source"], {})[r["method"]] = {k[5:]: r[k] for k in ("dice_LV", "dice_Myo", "dice_RV")
                                                            if r.get(k) is not None}
    eligible, means = [], {}
    for method in sorted({r["method"] for r in rows}):
        ok, vals = True, []
        for source, per in evidence.items():
            mine, base = per.get(method), per.get(TRAINING_FREE)
            if mine is None or base is None:
                ok = False
                continue
            for label, v in base.items():
                if mine.get(label) is None:
                    ok = False
                    continue
                vals.append(mine[label])
                if method != TRAINING_FREE and mine[label] < v:
                    ok = False
        means[method] = round(sum(vals) / len(vals), 4) if vals else None
        if ok or method == TRAINING_FREE:
            eligible.append(method)
    choice = max(eligible, key=lambda m: (means[m] or 0.0, m == TRAINING_FREE))
    return {"choice": choice, "eligible": eligible, "mean_dice": means, "evidence": evidence}


def choose_scoring(summary: list[dict], segmentation: str) -> Optional[dict]:
    """``{"choice", "segmentation", "evidence"}`` from the independent generator rows of ``segmentation``."""
    rows = [s for s in summary if s["source"] == "independent generator" and s["method"] == segmentation]
    if not rows or rows[0].get("learned_4way") is None or rows[0].get("thickening_4way") is None:
        return None
    r = rows[0]
    keys = ("4way", "abnormal", "msi_r")
    ev = {sc: {k: r.get(f"{sc}_{k}") for k in keys} for sc in ("learned", "thickening")}
    better = all((ev["learned"][k] if ev["learned"][k] is not None else -1.0) >=
                 (ev["thickening"][k] if ev["thickening"][k] is not None else -1.0) for k in keys)
    return {"choice": "learned" if better else "thickening", "segmentation": segmentation, "evidence": ev}


def auto_choices(summary: list[dict]) -> dict:
    """Both choices from one evaluation summary (``None`` entries where evidence is missing)."""
    prop = choose_propagation(summary)
    seg = prop["choice"] if prop else None
    return {"propagation": {"MR": prop} if prop else {}, "scoring": choose_scoring(summary, seg) if seg else None,
            "sources": list(EVIDENCE_SOURCES)}


ECHO_EVIDENCE_SOURCE = "independent echo generator clips"
ECHO_LABELS = {"LV": "dice_LV", "Myo": "dice_myocardium", "LA": "dice_LA"}


def choose_echo_propagation(result: dict) -> Optional[dict]:
    """The echo ``auto`` record from an ``evaluate echo`` result (``{group title: {"summary": ...}}``):
    ``{"choice", "eligible", "mean_dice", "evidence"}``, or ``None`` without independent-clip evidence
    for registration. Same rule as :func:`choose_propagation`."""
    group = result.get(ECHO_EVIDENCE_SOURCE) or {}
    summary = group.get("summary") or {}
    candidates = [m for m in (TRAINING_FREE,) + LEARNED_METHODS if summary.get(m, {}).get("clips")]
    if TRAINING_FREE not in candidates:
        return None
    evidence = {m: {lab: round(float(summary[m][key]), 4) for lab, key in ECHO_LABELS.items()
                    if summary[m].get(key) is not None and summary[m][key] == summary[m][key]}
                for m in candidates}
    base = evidence[TRAINING_FREE]
    eligible, means = [], {}
    for m in candidates:
        vals = [evidence[m].get(lab) for lab in base]
        ok = all(v is not None for v in vals)
        means[m] = round(sum(v for v in vals if v is not None) / max(1, sum(v is not None for v in vals)), 4)
        if m == TRAINING_FREE or (ok and all(evidence[m][lab] >= base[lab] for lab in base)):
            eligible.append(m)
    choice = max(eligible, key=lambda m: (means[m], m == TRAINING_FREE))
    return {"choice": choice, "eligible": eligible, "mean_dice": means,
            "evidence": {ECHO_EVIDENCE_SOURCE: evidence}, "clips": int(summary[TRAINING_FREE]["clips"])}


def write_echo_evidence(record: dict, measured_with: dict, directory=None) -> None:
    """Record the echo choice as ``auto.propagation.US`` (the MR record and the rest stay)."""
    import json
    from pathlib import Path

    from cardiacmotion.io.atomic import atomic_output
    from cardiacmotion.models.weights import models_dir, read_manifest

    directory = Path(directory or models_dir())
    data = read_manifest(directory)
    auto = dict(data.get("auto") or {})
    prop = dict(auto.get("propagation") or {})
    prop["US"] = dict(record, measured_with=measured_with)
    auto["propagation"] = prop
    data["auto"] = auto
    with atomic_output(directory / "models.json") as tmp:
        Path(tmp).write_text(json.dumps(data, indent=2) + "\n")


def write_evidence(report: dict, directory=None) -> None:
    """Record ``report['auto']`` (with what was measured) as the manifest's ``"auto"`` section; an echo
    record already there (``propagation.US``, from ``evaluate echo``) is kept."""
    import json
    from pathlib import Path

    from cardiacmotion.io.atomic import atomic_output
    from cardiacmotion.models.weights import models_dir, read_manifest

    directory = Path(directory or models_dir())
    data = read_manifest(directory)
    auto = dict(report["auto"])
    old_us = ((data.get("auto") or {}).get("propagation") or {}).get("US")
    if old_us and "US" not in (auto.get("propagation") or {}):
        auto["propagation"] = dict(auto.get("propagation") or {}, US=old_us)
    auto["measured_with"] = {"models": report.get("models"), "command": report.get("command"),
                             "device": report.get("device"), "cases": {s["source"]: s["cases"] for s in report["summary"]}}
    data["auto"] = auto
    with atomic_output(directory / "models.json") as tmp:
        Path(tmp).write_text(json.dumps(data, indent=2) + "\n")


def auto_method(task: str, modality: str = "MR", directory=None) -> Optional[str]:
    """The recorded auto choice: ``task`` 'propagation' (per modality) or 'scoring'; ``None`` when
    ``models.json`` records none (the caller keeps its built-in default)."""
    from cardiacmotion.errors import WeightsError
    from cardiacmotion.models.weights import read_manifest

    try:
        auto = read_manifest(directory).get("auto") or {}
    except WeightsError:
        return None
    if task == "propagation":
        entry = (auto.get("propagation") or {}).get(str(modality).upper())
        return entry.get("choice") if isinstance(entry, dict) else None
    if task == "scoring":
        entry = auto.get("scoring")
        return entry.get("choice") if isinstance(entry, dict) else None
    raise ValueError(f"unknown task {task!r}")
