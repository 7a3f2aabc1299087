"""scene.mrb: written through slicer-core, loaded whole into a fresh scene."""
import os

import numpy as np
import pytest

from cardiacmotion.errors import InputError
from cardiacmotion.slicerbridge import bullseye, layout, scene as sc, selftest


def test_scene_bundle_loads_whole(tmp_path, case):
    info = selftest.check_scene_bundle(case, tmp_path)
    assert info["bytes"] > 0
    assert [p.name for p in tmp_path.iterdir()] == ["scene.mrb"]  # no temporary leftovers


def test_layout_arrangement_is_saved_and_views_hold_results(tmp_path, toy_case):
    selftest.check_scene_bundle(toy_case, tmp_path)
    node = layout.layout_node()
    assert node.GetViewArrangement() == layout.LAYOUT_ID  # saved with the scene
    assert node.IsLayoutDescription(layout.LAYOUT_ID)  # registered again by the reader
    from cardiacmotion.slicerbridge import headless

    scene = headless.get_scene()
    plot_view = scene.GetSingletonNode(layout.PLOT_VIEW, "vtkMRMLPlotViewNode")
    table_view = scene.GetSingletonNode(layout.TABLE_VIEW, "vtkMRMLTableViewNode")
    assert plot_view.GetPlotChartNode().GetName() == "Volume curves"
    assert plot_view.GetInteractionMode() == plot_view.InteractionModeSelectPoints
    assert table_view.GetTableNode().GetName() == "Wall motion scores"
    assert scene.GetSingletonNode(bullseye.VIEW_NAME, "vtkMRMLViewNode") is not None


def test_bad_outputs_are_refused_and_leave_nothing(tmp_path, toy_case):
    with pytest.raises(InputError, match=".mrb"):
        sc.write_analysis_scene(tmp_path / "scene.txt", toy_case.image, toy_case.labels)
    other = toy_case.labels.with_array(toy_case.labels.array[:, :-1])
    with pytest.raises(InputError, match="grid"):
        sc.write_analysis_scene(tmp_path / "scene.mrb", toy_case.image, other)
    with pytest.raises(InputError, match="folder"):
        sc.write_analysis_scene(tmp_path / "missing" / "scene.mrb", toy_case.image)
    assert os.listdir(tmp_path) == []


def test_bullseye_geometry_follows_aha_display():
    # segment 1 centred at 12 o'clock, septum (2, 3, 8, 9, 14) on the left, lateral (5, 6, 16) right
    def centre(seg):
        r0, r1, a0, a1 = bullseye.sector_of(seg)
        t = np.radians((a0 + a1) / 2)
        return (r0 + r1) / 2 * np.cos(t), (r0 + r1) / 2 * np.sin(t)

    x1, y1 = centre(1)
    assert abs(x1) < 1e-9 and y1 > 3
    assert all(centre(s)[0] < 0 for s in (2, 3, 8, 9, 14))
    assert all(centre(s)[0] > 0 for s in (5, 6, 11, 12, 16))
    assert centre(4)[1] < 0 and centre(15)[1] < 0
    radii = [bullseye.sector_of(s)[1] for s in (1, 7, 13, 17)]
    assert radii == sorted(radii, reverse=True)  # basal ring outermost
    poly = bullseye.bullseye_polydata({s: 2 for s in range(1, 17)})
    assert poly.GetCellData().GetArray("Score").GetRange() == (0.0, 2.0)  # apex not assessed


def test_fallback_sector_table_agrees_with_scoring_geometry(monkeypatch):
    """The bridge's own table (used when scoring is absent) is the AHA display geometry of scoring."""
    scoring = pytest.importorskip("cardiacmotion.scoring.bullseye", reason="scoring's bullseye not merged yet")
    from_scoring = bullseye._geometry()
    monkeypatch.setattr(scoring, "bullseye_geometry", None)  # what the bridge sees without it
    monkeypatch.setitem(__import__("sys").modules, "cardiacmotion.scoring.bullseye", None)
    own = bullseye._geometry()
    assert set(own) == set(from_scoring) == set(range(1, 18))
    for seg in own:
        assert np.allclose(own[seg], from_scoring[seg]), seg


def test_echo_scene_bundle(tmp_path):
    """An apical echo cine (one slice, no scores): LV, myocardium and left atrium, echo landmarks."""
    from cardiacmotion.slicerbridge import landmarks as lm, results, sequences

    case = selftest.toy_echo_case()
    sc.write_analysis_scene(tmp_path / "echo.mrb", case.image, case.labels, case.landmarks, case.function, None)
    nodes = sc.read_analysis_scene(tmp_path / "echo.mrb")
    assert nodes.bullseye is None and nodes.scores_table is None
    segmentation = nodes.segmentation.GetSegmentation()
    names = [segmentation.GetNthSegment(n).GetName() for n in range(segmentation.GetNumberOfSegments())]
    assert names == ["LV cavity", "LV myocardium", "Left atrium"]
    back = sequences.labels_from_segmentation_sequence(nodes.seg_sequence, case.image)
    assert np.array_equal(back.array, case.labels.array)
    assert set(lm.landmarks_from_node(nodes.landmarks)) == {"Apex", "Mitral annulus septal", "Mitral annulus lateral"}
    assert nodes.chart.GetNumberOfPlotSeriesNodes() == 1  # LV only
    assert "RV volume (ml)" not in results.table_columns(nodes.curve_table)


def test_headless_mrml_available_here():
    from cardiacmotion.slicerbridge import headless

    assert headless.available() == (True, "slicer-core")
