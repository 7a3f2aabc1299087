"""The wall-motion table the Scoring module shows: thickening scores and learned scores with confidence."""
import math

from cardiacmotion.scoring.learned import SEGMENT_NAMES
from cardiacmotion.slicerbridge import results


def _scores(learned: bool) -> dict:
    segs = []
    for i in range(16):
        score = 1 + i % 4
        seg = {"id": i + 1, "name": SEGMENT_NAMES[i], "score": score, "thickening_pct": None if i == 3 else 30.0 - i,
               "endocardial_excursion_mm": 5.0}
        if learned:
            probs = [0.1, 0.1, 0.1, 0.1]
            probs[score - 1] = 0.7 if i % 2 else 0.55
            seg["probabilities"] = probs
        segs.append(seg)
    return {"segments": segs, "motion_score_index": 2.5, "method": "learned" if learned else "thickening"}


def test_learned_scores_show_confidence(scene):
    node = results.scores_table(_scores(True), scene=scene)
    cols = results.table_columns(node)
    assert cols["Score"] == [1 + i % 4 for i in range(16)]
    assert cols["Confidence"] == [0.7 if i % 2 else 0.55 for i in range(16)]
    assert math.isnan(cols["Thickening (%)"][3]) and cols["Thickening (%)"][0] == 30.0
    assert node.GetAttribute("CardiacMotion.Method") == "learned"
    assert node.GetAttribute("CardiacMotion.MotionScoreIndex") == "2.500"


def test_thickening_scores_have_no_confidence_column(scene):
    cols = results.table_columns(results.scores_table(_scores(False), scene=scene))
    assert "Confidence" not in cols and len(cols["Segment"]) == 16
