"""``compute_function``: the FUNCTION.json of DESIGN section 4 from a 4D segmentation, and its files.

Keys: ``ed_phase``, ``es_phase``, ``ed_time_ms``, ``es_time_ms``, ``frame_times_ms``,
``heart_rate_bpm``, ``lv_volume_ml`` (per phase), ``lv_edv_ml``, ``lv_esv_ml``, ``lv_sv_ml``,
``lv_ef_pct``, ``lv_mass_g`` (MR), ``rv_volume_ml``, ``rv_edv_ml``, ``rv_esv_ml``, ``rv_sv_ml``,
``rv_ef_pct`` (MR), ``peak_ejection_rate_ml_s``, ``peak_filling_rate_ml_s``, ``method``, ``units``,
``warnings``, ``lv_slices_per_phase`` (MR: per phase the slices counted as LV, i.e. holding LV cavity). Values that do not apply (RV and mass for echo, a missing RV) are ``None``.
``ed_phase``/``es_phase`` are the LV's; RV EDV/ESV are the RV's own largest/smallest volumes (the
ventricles' end-systoles can differ by a phase), or the RV at the given phases when the caller
gives ED/ES from trigger times.
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np

from cardiacmotion.cine import Cine, default_frame_times
from cardiacmotion.errors import InputError
from cardiacmotion.function.discs import N_DISCS, LandmarkInput, echo_disc_series
from cardiacmotion.function.phases import ed_es_phases, fill_missing, missing_phase_warning
from cardiacmotion.function.rates import cycle_length_ms, peak_rates
from cardiacmotion.function.slices import Limits, apply_limits, basal_slice_report, lv_slices_per_phase
from cardiacmotion.function.volumes import check_labels, label_volumes_ml, lv_mass_g, slice_spacing_mm

UNITS = {"volume": "ml", "mass": "g", "ef": "%", "rate": "ml/s", "time": "ms", "heart_rate": "bpm"}

SecondView = Union[Cine, tuple]


def _r(x: Optional[float], nd: int = 4) -> Optional[float]:
    return None if x is None else round(float(x), nd)


def _ef(edv: float, esv: float) -> Optional[float]:
    return None if edv <= 0 else (edv - esv) / edv * 100.0


def compute_function(
    seg: Cine,
    landmarks_per_frame: Optional[LandmarkInput] = None,
    second_view: Optional[SecondView] = None,
    ed_phase: Optional[int] = None,
    es_phase: Optional[int] = None,
    basal_limit: Limits = None,
    apical_limit: Limits = None,
) -> dict:
    """Volume curves, ED/ES, EDV/ESV/SV/EF, LV mass and peak rates from a 4D segmentation.

    Args:
        seg: label cine ``[t, k, j, i]``; MR (ACDC labels, disc summation over slices) or US
            (CAMUS labels, one slice, method of discs).
        landmarks_per_frame: echo only: ``{name: (3,)}``, ``{name: (t, 3)}`` or ``t`` dicts of the
            echo landmarks (RAS) defining the long axis; None = from the mask.
        second_view: echo only: the other apical view of the same heart (a ``Cine``, or
            ``(Cine, landmarks)``) for the biplane method.
        ed_phase / es_phase: phases from trigger times; override the volume-based choice.
        basal_limit / apical_limit: MR only: the most basal / apical slice counted as LV (an int
            for every phase or ``{phase: slice}``); the LV beyond them is not counted.
    Returns:
        The FUNCTION.json dictionary (module doc).
    Raises:
        InputError: unknown labels, no LV cavity, a single phase, inconsistent views, limits outside
            the stack or given for echo.
    """
    labels = check_labels(seg)
    if seg.modality == "MR":
        if second_view is not None:
            raise InputError("a second view (biplane) applies to echo only")
        labels = apply_limits(seg, labels, basal_limit, apical_limit)
        out = _mr(seg, labels, ed_phase, es_phase)
        out["lv_slices_per_phase"] = lv_slices_per_phase(labels)
        _, basal_warnings = basal_slice_report(seg, labels, [out["ed_phase"], out["es_phase"]])
        out["warnings"].extend(basal_warnings)
        return out
    if basal_limit is not None or apical_limit is not None:
        raise InputError("basal/apical slice limits apply to short-axis MR only")
    out = _echo(seg, labels, landmarks_per_frame, second_view, ed_phase, es_phase)
    out["lv_slices_per_phase"] = None
    return out


def _lv_present(labels: np.ndarray, lv_label: int, modality: str) -> np.ndarray:
    present = (labels == lv_label).any(axis=(1, 2, 3))
    if not present.any():
        raise InputError(f"no LV cavity (label {lv_label} in {modality} convention) in any phase of the segmentation")
    return present


def _mr(seg: Cine, labels: np.ndarray, ed_phase, es_phase) -> dict:
    warnings: list[str] = []
    present = _lv_present(labels, 3, "MR")
    raw_lv = label_volumes_ml(seg, 3, labels)
    ed, es, how = ed_es_phases(raw_lv, present, ed_phase, es_phase)
    lv = fill_missing(raw_lv, present)
    _warn(warnings, missing_phase_warning(present))
    _warn_given_unsegmented(warnings, present, ed, es)
    if seg.slices == 1:
        warnings.append("a single slice: the volume is its area x the slice spacing only")
    rv_present = (labels == 1).any(axis=(1, 2, 3))
    rv = None
    rv_phases, how_rv = (ed, es), ""
    if not rv_present.any():
        warnings.append("no RV cavity (label 1): RV values not reported")
    else:
        raw_rv = label_volumes_ml(seg, 1, labels)
        rv = fill_missing(raw_rv, rv_present)
        _warn(warnings, missing_phase_warning(rv_present, "RV cavity"))
        if ed_phase is None and es_phase is None and rv_present.sum() >= 2:
            # each ventricle at its own extremes (its ED/ES may differ from the LV's by a phase)
            masked = np.where(rv_present, raw_rv, np.nan)
            rv_phases = (int(np.nanargmax(masked)), int(np.nanargmin(masked)))
            how_rv = "RV EDV/ESV = largest/smallest RV volume"
        else:
            rv_phases = (ed, es)
            how_rv = "RV EDV/ESV at the LV ED/ES phases"
    myo_ed = float(label_volumes_ml(seg, 2, labels)[ed])
    mass = lv_mass_g(myo_ed) if myo_ed > 0 else None
    if mass is None:
        warnings.append("no LV myocardium (label 2) at ED: LV mass not reported")
    method = (
        f"MR disc summation (cavity area x slice spacing {slice_spacing_mm(seg):.3g} mm from the geometry); "
        f"{how}; {how_rv + '; ' if how_rv else ''}LV mass = myocardium at ED x 1.05 g/ml"
    )
    return _assemble(
        seg, lv, rv, ed, es, mass, method, warnings, periodic_cycle=True, segmented=int(present.sum()), rv_phases=rv_phases
    )


def _split_view(view: SecondView) -> tuple[Cine, Optional[LandmarkInput]]:
    if isinstance(view, Cine):
        return view, None
    if isinstance(view, (tuple, list)) and len(view) == 2 and isinstance(view[0], Cine):
        return view[0], view[1]
    raise InputError("second_view must be a Cine or (Cine, landmarks)")


def _echo(seg, labels, landmarks, second_view, ed_phase, es_phase) -> dict:
    warnings: list[str] = []
    present = _lv_present(labels, 1, "echo")
    if labels.shape[0] < 2:
        raise InputError("needs at least 2 phases for ED/ES (the segmentation has 1)")
    a = echo_disc_series(seg, labels, landmarks)
    if second_view is None:
        raw = np.array([np.pi / 4 * np.sum(a.diameters_mm[t] ** 2) * a.lengths_mm[t] / N_DISCS / 1000 for t in range(seg.phases)])
        method = f"echo single-plane method of discs ({N_DISCS} discs, {seg.view or 'apical'} view; long axis: {a.rule})"
    else:
        seg2, lm2 = _split_view(second_view)
        if seg2.modality != "US":
            raise InputError("the second view must be an echo segmentation")
        labels2 = check_labels(seg2)
        present2 = _lv_present(labels2, 1, "echo")
        b = echo_disc_series(seg2, labels2, lm2)
        d2, l2 = b.diameters_mm, b.lengths_mm
        if seg2.phases != seg.phases:
            # both clips are taken as one cycle each: resample the second by cycle fraction
            x = np.arange(seg.phases) * (seg2.phases - 1) / max(seg.phases - 1, 1)
            src = np.arange(seg2.phases)
            d2 = np.stack([np.interp(x, src, d2[:, i]) for i in range(N_DISCS)], axis=1)
            l2 = np.interp(x, src, l2)
            present2 = present2[np.rint(x).astype(int)]
            warnings.append(
                f"the two views have {seg.phases} and {seg2.phases} phases: the second was resampled by cycle fraction"
            )
        present = present & present2
        if present.sum() < 2:
            raise InputError("needs at least 2 phases where both views show the LV cavity")
        length = np.maximum(a.lengths_mm, l2)
        raw = np.pi / 4 * np.sum(a.diameters_mm * d2, axis=1) * length / N_DISCS / 1000
        views = f"{seg.view or 'view 1'} + {seg2.view or 'view 2'}"
        method = (
            f"echo biplane method of discs ({N_DISCS} discs, {views}, L = the longer length; "
            f"long axis: {a.rule} / {b.rule})"
        )
    ed, es, how = ed_es_phases(raw, present, ed_phase, es_phase)
    lv = fill_missing(raw, present, periodic=False)  # an echo clip need not be one closed cycle
    _warn(warnings, missing_phase_warning(present))
    _warn_given_unsegmented(warnings, present, ed, es)
    return _assemble(
        seg, lv, None, ed, es, None, f"{method}; {how}", warnings, periodic_cycle=False, segmented=int(present.sum())
    )


def _warn_given_unsegmented(warnings: list[str], present: np.ndarray, ed: int, es: int) -> None:
    # only caller-given phases can land here: volume-based ED/ES are always segmented phases
    for name, p in (("ED", ed), ("ES", es)):
        if not present[p]:
            warnings.append(f"the given {name} phase {p} has no LV segmentation: its volume is interpolated")


def _warn(warnings: list[str], message: Optional[str]) -> None:
    if message and message not in warnings:
        warnings.append(message)


def _assemble(
    seg, lv, rv, ed, es, mass, method, warnings, periodic_cycle: bool, segmented: int, rv_phases=None
) -> dict:
    ft = np.asarray(seg.frame_times_ms, dtype=np.float64)
    default_times = np.allclose(ft, default_frame_times(ft.size))
    rates = peak_rates(lv, ft, ed, es)
    if 2 * segmented < ft.size:
        # a curve mostly made of interpolation (e.g. contours at ED and ES only) has no rates
        rates.peak_ejection_ml_s = rates.peak_filling_ml_s = None
        rates.how = "rates: not reported"
        warnings.append(f"rates not reported: only {segmented} of {ft.size} phases are segmented")
    elif default_times:
        warnings.append("frame times unknown (evenly spaced over 1000 ms assumed): rates are nominal")
    heart_rate = _heart_rate_bpm(seg, ft, periodic_cycle, default_times)
    edv, esv = float(lv[ed]), float(lv[es])
    rv_ed, rv_es = rv_phases if rv_phases is not None else (ed, es)
    out = {
        "ed_phase": int(ed),
        "es_phase": int(es),
        "ed_time_ms": _r(ft[ed], 3),
        "es_time_ms": _r(ft[es], 3),
        "frame_times_ms": [_r(t, 3) for t in ft],
        "heart_rate_bpm": _r(heart_rate, 2),
        "lv_volume_ml": [_r(v) for v in lv],
        "lv_edv_ml": _r(edv),
        "lv_esv_ml": _r(esv),
        "lv_sv_ml": _r(edv - esv),
        "lv_ef_pct": _r(_ef(edv, esv)),
        "lv_mass_g": _r(mass),
        "rv_volume_ml": None if rv is None else [_r(v) for v in rv],
        "rv_edv_ml": None if rv is None else _r(rv[rv_ed]),
        "rv_esv_ml": None if rv is None else _r(rv[rv_es]),
        "rv_sv_ml": None if rv is None else _r(rv[rv_ed] - rv[rv_es]),
        "rv_ef_pct": None if rv is None else _r(_ef(float(rv[rv_ed]), float(rv[rv_es]))),
        "peak_ejection_rate_ml_s": _r(rates.peak_ejection_ml_s, 2),
        "peak_filling_rate_ml_s": _r(rates.peak_filling_ml_s, 2),
        "method": f"{method}; {rates.how}",
        "units": dict(UNITS),
        "warnings": list(warnings),
    }
    return out


def _heart_rate_bpm(seg: Cine, ft: np.ndarray, periodic_cycle: bool, default_times: bool) -> Optional[float]:
    """60000 / RR: the DICOM RR intervals when the reader kept them, else the gated cycle length."""
    rr = [v for v in (seg.meta.get("rr_interval_ms") or []) if v is not None and np.isfinite(v) and v > 0]
    if rr:
        return 60000.0 / float(np.median(rr))
    if periodic_cycle and not default_times and ft.size >= 2 and cycle_length_ms(ft) > 0:
        return 60000.0 / cycle_length_ms(ft)
    return None


def function_csv_text(result: dict) -> str:
    """The per-phase table: ``phase, time_ms, lv_volume_ml, rv_volume_ml, event`` (ED/ES) and
    ``lv_slices`` (MR: the slices counted as LV, separated by ';')."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["phase", "time_ms", "lv_volume_ml", "rv_volume_ml", "event", "lv_slices"])
    rv = result.get("rv_volume_ml") or [None] * len(result["lv_volume_ml"])
    slices = result.get("lv_slices_per_phase") or [None] * len(result["lv_volume_ml"])
    for p, (t, v, r, ks) in enumerate(zip(result["frame_times_ms"], result["lv_volume_ml"], rv, slices)):
        event = "ED" if p == result["ed_phase"] else "ES" if p == result["es_phase"] else ""
        w.writerow([p, t, v, "" if r is None else r, event, "" if ks is None else ";".join(map(str, ks))])
    return buf.getvalue()


def csv_path_for(json_path: Union[str, Path]) -> Path:
    """``FUNCTION.json`` -> ``FUNCTION.csv`` (same folder, same stem)."""
    p = Path(json_path)
    return p.with_name((p.name[: -len(".json")] if p.name.lower().endswith(".json") else p.name) + ".csv")


def write_function_outputs(
    result: dict,
    json_path: Union[str, Path],
    plot_path: Optional[Union[str, Path]] = None,
    inputs: Sequence[Union[str, Path, None]] = (),
) -> list[Path]:
    """Write FUNCTION.json, the CSV beside it and optionally the curve PNG, each atomically.

    Raises:
        InputError: an output would overwrite an input, or its folder does not exist.
    """
    from cardiacmotion.io.atomic import atomic_output, check_not_input

    json_path = Path(json_path)
    csv_path = csv_path_for(json_path)
    outs = [json_path, csv_path] + ([Path(plot_path)] if plot_path else [])
    for out in outs:
        check_not_input(out, inputs)
    if len({o.resolve() for o in outs}) != len(outs):
        raise InputError("the JSON, CSV and plot outputs must be different files")
    with atomic_output(json_path) as tmp:
        Path(tmp).write_text(json.dumps(result, indent=2) + "\n")
    with atomic_output(csv_path) as tmp:
        Path(tmp).write_text(function_csv_text(result))
    if plot_path:
        from cardiacmotion.function.figure import save_curve_figure

        save_curve_figure(result, plot_path)
    return outs
