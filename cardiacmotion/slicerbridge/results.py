"""Result tables (function values, per-segment scores) and the LV/RV volume-curve chart."""
from __future__ import annotations

from typing import Mapping, Optional, Sequence

import numpy as np

from cardiacmotion.slicerbridge import headless

#: function JSON key -> (row label, unit), in table order (DESIGN section 4).
FUNCTION_ROWS = (
    ("lv_edv_ml", "LV end-diastolic volume", "ml"),
    ("lv_esv_ml", "LV end-systolic volume", "ml"),
    ("lv_sv_ml", "LV stroke volume", "ml"),
    ("lv_ef_pct", "LV ejection fraction", "%"),
    ("lv_mass_g", "LV mass", "g"),
    ("rv_edv_ml", "RV end-diastolic volume", "ml"),
    ("rv_esv_ml", "RV end-systolic volume", "ml"),
    ("rv_ef_pct", "RV ejection fraction", "%"),
    ("peak_ejection_rate_ml_s", "Peak ejection rate", "ml/s"),
    ("peak_filling_rate_ml_s", "Peak filling rate", "ml/s"),
    ("ed_phase", "End-diastolic phase", ""),
    ("es_phase", "End-systolic phase", ""),
)
SCORE_NAMES = {0: "not assessed", 1: "normal", 2: "hypokinetic", 3: "akinetic", 4: "dyskinetic"}


def _add_column(table, name: str, values: Sequence, kind: str = "double"):
    import vtk

    arr = {"double": vtk.vtkDoubleArray, "int": vtk.vtkIntArray, "string": vtk.vtkStringArray}[kind]()
    arr.SetName(name)
    for v in values:
        if kind == "string":
            arr.InsertNextValue(str(v))
        elif kind == "int":
            arr.InsertNextValue(int(v))
        else:
            arr.InsertNextValue(float("nan") if v is None else float(v))
    table.AddColumn(arr)
    return arr


def function_table(function: Mapping, name: str = "Cardiac function", scene=None):
    """A table node (Measurement, Value, Unit) from the function JSON; absent values are left out."""
    scene = scene or headless.get_scene()
    node = scene.AddNewNodeByClass("vtkMRMLTableNode", name)
    rows = [(label, function[key], unit) for key, label, unit in FUNCTION_ROWS if function.get(key) is not None]
    table = node.GetTable()
    _add_column(table, "Measurement", [r[0] for r in rows], "string")
    _add_column(table, "Value", [round(float(r[1]), 2) for r in rows])
    _add_column(table, "Unit", [r[2] for r in rows], "string")
    node.SetUseColumnTitleAsColumnHeader(True)
    node.SetAttribute("CardiacMotion.Method", str(function.get("method", "")))
    node.Modified()
    return node


def volume_curve_table(function: Mapping, name: str = "Volume curves", scene=None):
    """A table node (Phase, Time, LV volume, RV volume when present) for the chart."""
    scene = scene or headless.get_scene()
    lv = np.asarray(function["lv_volume_ml"], dtype=np.float64)
    times = np.asarray(function.get("frame_times_ms", np.arange(lv.size)), dtype=np.float64)
    node = scene.AddNewNodeByClass("vtkMRMLTableNode", name)
    table = node.GetTable()
    _add_column(table, "Phase", range(lv.size), "int")
    _add_column(table, "Time (ms)", times)
    _add_column(table, "LV volume (ml)", lv)
    if function.get("rv_volume_ml") is not None:
        _add_column(table, "RV volume (ml)", np.asarray(function["rv_volume_ml"], dtype=np.float64))
    node.Modified()
    return node


def volume_chart(curve_table, function: Optional[Mapping] = None, name: str = "Volume curves", scene=None):
    """A plot chart of the LV (and RV) volume over time, one series per column, markers on the phases.

    Returns:
        the ``vtkMRMLPlotChartNode``; its series are scatter plots with lines, x = time (ms), so a point
        index is the phase number (see :func:`phase_of_point`).
    """
    scene = scene or headless.get_scene()
    chart = scene.AddNewNodeByClass("vtkMRMLPlotChartNode", name)
    chart.SetTitle("Ventricular volume")
    chart.SetXAxisTitle("Time (ms)")
    chart.SetYAxisTitle("Volume (ml)")
    colors = {"LV volume (ml)": (0.85, 0.2, 0.2), "RV volume (ml)": (0.2, 0.4, 0.9)}
    table = curve_table.GetTable()
    for column, color in colors.items():
        if table.GetColumnByName(column) is None:
            continue
        series = scene.AddNewNodeByClass("vtkMRMLPlotSeriesNode", column.split(" (")[0])
        series.SetAndObserveTableNodeID(curve_table.GetID())
        series.SetXColumnName("Time (ms)")
        series.SetYColumnName(column)
        series.SetPlotType(series.PlotTypeScatter)
        series.SetMarkerStyle(series.MarkerStyleCircle)
        series.SetColor(*color)
        chart.AddAndObservePlotSeriesNodeID(series.GetID())
    return chart


def phase_of_point(point_index: int, n_phases: int) -> int:
    """The phase a clicked chart point stands for (the series has one point per phase, in order)."""
    if not 0 <= int(point_index) < n_phases:
        raise ValueError(f"point {point_index} outside 0..{n_phases - 1}")
    return int(point_index)


def scores_table(scores: Mapping, name: str = "Wall motion scores", scene=None):
    """Per-segment table (Segment, Name, Score, Label, Thickening, Excursion; Confidence, the top class
    probability, when a learned scorer gave probabilities) plus the MSI and method as attributes."""
    scene = scene or headless.get_scene()
    node = scene.AddNewNodeByClass("vtkMRMLTableNode", name)
    segs = sorted(scores["segments"], key=lambda s: int(s["id"]))
    table = node.GetTable()
    _add_column(table, "Segment", [s["id"] for s in segs], "int")
    _add_column(table, "Name", [s.get("name", "") for s in segs], "string")
    _add_column(table, "Score", [s.get("score", 0) for s in segs], "int")
    _add_column(table, "Label", [s.get("label", SCORE_NAMES.get(int(s.get("score", 0)), "")) for s in segs], "string")
    _add_column(table, "Thickening (%)", [s.get("thickening_pct") for s in segs])
    _add_column(table, "Excursion (mm)", [s.get("endocardial_excursion_mm") for s in segs])
    if any(s.get("probabilities") for s in segs):
        _add_column(table, "Confidence", [max(s["probabilities"]) if s.get("probabilities") else None for s in segs])
    msi = scores.get("motion_score_index")
    node.SetAttribute("CardiacMotion.MotionScoreIndex", "" if msi is None else f"{float(msi):.3f}")
    node.SetAttribute("CardiacMotion.Method", str(scores.get("method", "")))
    node.Modified()
    return node


def table_columns(node) -> dict:
    """``{column name: list of values}`` of a table node (what tests and the widgets read back)."""
    table = node.GetTable()
    out = {}
    for c in range(table.GetNumberOfColumns()):
        col = table.GetColumn(c)
        out[col.GetName()] = [col.GetValue(r) for r in range(col.GetNumberOfTuples())]
    return out
