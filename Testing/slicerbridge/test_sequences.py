"""Cine <-> MRML sequences, segment names/terminology, proxy edits saved back, landmarks, tables."""
import numpy as np
import pytest

from cardiacmotion.errors import InputError
from cardiacmotion.slicerbridge import landmarks as lm
from cardiacmotion.slicerbridge import results, selftest, sequences
from cardiacmotion.slicerbridge.terminology import segment_specs


def test_sequences_round_trip_in_one_browser(scene, case):
    built = selftest.check_sequences(case)
    assert built["segment_names"] == ["RV cavity", "LV myocardium", "LV cavity"]


def test_proxy_edit_is_saved_into_current_item_only(scene, toy_case):
    changed = selftest.check_proxy_edit_saved(toy_case, phase=3)
    assert changed > 0


def test_segmentation_with_other_phase_count_is_refused(scene, toy_case):
    browser, _, _ = sequences.volume_sequence_from_cine(toy_case.image)
    short = toy_case.labels.with_array(toy_case.labels.array[:-1], frame_times_ms=toy_case.labels.frame_times_ms[:-1])
    with pytest.raises(InputError, match="phases"):
        sequences.segmentation_sequence_from_cine(short, browser)


def test_echo_segments_are_lv_myocardium_and_left_atrium():
    names = [s.name for s in segment_specs("US")]
    assert names == ["LV cavity", "LV myocardium", "Left atrium"]
    assert "82471001" in segment_specs("US")[2].terminology  # SNOMED-CT left atrium
    myo = segment_specs("MR")[1].terminology.split("~")
    # Slicer's DICOM master list: category Tissue, type Muscle, anatomic region left ventricle
    assert "85756007" in myo[1] and "71616004" in myo[2] and "87878005" in myo[5]


def test_landmarks_node_names_and_unplaced_points(scene):
    node = lm.create_landmarks_node("MR")
    labels = [node.GetNthControlPointLabel(n) for n in range(node.GetNumberOfControlPoints())]
    assert labels == ["RV anterior insertion", "RV inferior insertion", "LV center"]
    assert all(node.GetNthControlPointPositionStatus(n) == node.PositionUndefined for n in range(3))
    assert lm.landmarks_from_node(node) == {}
    placed = lm.create_landmarks_node("US", {"Apex": np.array([1.0, 2.0, 3.0])}, name="Echo landmarks")
    assert set(lm.landmarks_from_node(placed)) == {"Apex"}
    with pytest.raises(InputError, match="unknown landmark"):
        lm.create_landmarks_node("MR", {"Apex": np.zeros(3)})


def test_volume_chart_one_point_per_phase(scene, toy_case):
    table = results.volume_curve_table(toy_case.function)
    chart = results.volume_chart(table)
    assert chart.GetNumberOfPlotSeriesNodes() == 2
    series = chart.GetNthPlotSeriesNode(0)
    assert series.GetXColumnName() == "Time (ms)" and series.GetYColumnName() == "LV volume (ml)"
    cols = results.table_columns(table)
    assert len(cols["Phase"]) == toy_case.image.phases
    assert results.phase_of_point(toy_case.function["es_phase"], toy_case.image.phases) == toy_case.function["es_phase"]
    with pytest.raises(ValueError):
        results.phase_of_point(toy_case.image.phases, toy_case.image.phases)


def test_browser_saves_proxy_edits_by_itself(scene, toy_case):
    """With the browser's save-changes flag, an edit is in the sequence before the user moves on."""
    browser, _, _ = sequences.volume_sequence_from_cine(toy_case.image)
    seg_seq, proxy = sequences.segmentation_sequence_from_cine(toy_case.labels, browser)
    assert browser.GetSaveChanges(seg_seq)
    sequences.select_phase(browser, 2)
    edited = toy_case.labels.array[2].copy()
    edited[edited == 1] = 0  # the user erases the RV
    sequences.set_segmentation_labels(proxy, edited, toy_case.image.ijk_to_ras, "MR")
    sequences.select_phase(browser, 0)
    back = sequences.labels_from_segmentation_sequence(seg_seq, toy_case.image).array
    assert np.array_equal(back[2], edited) and np.array_equal(back[0], toy_case.labels.array[0])
