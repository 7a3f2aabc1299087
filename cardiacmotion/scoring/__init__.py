"""Regional wall motion: AHA 17-segment geometry, MMSA polar sampling, thickening scoring, bullseye.

* :mod:`.aha` - the AHA rule (segment names, sectors from the RV insertions, levels, per-pixel map);
* :mod:`.polar` - the MMSA polar transform and per-segment sequences for the learned scorer;
* :mod:`.thickening` - training-free scores from wall thickening and endocardial excursion;
* :mod:`.bullseye` - bullseye PNGs and the display sector geometry as data;
* :mod:`.evaluate` - accuracy against known scores (phantoms).
"""
from cardiacmotion.scoring.aha import SEGMENTS, AhaFrame, orient, sector_spans, segment_map, segment_name
from cardiacmotion.scoring.thickening import SCORE_LABELS, Thresholds, score_thickening

__all__ = [
    "SEGMENTS",
    "SCORE_LABELS",
    "AhaFrame",
    "Thresholds",
    "orient",
    "sector_spans",
    "segment_map",
    "segment_name",
    "score_thickening",
]
