"""Evaluation across the three kinds of evidence (DESIGN.md section 8).

* :mod:`.sources` - held-out training-phantom seeds, the independent generator, the real studies;
* :mod:`.table` - ``cardiacmotion evaluate table``: every method side by side;
* :mod:`.evidence` - the ``auto`` choices made from held-out evidence and recorded in ``models.json``.
"""
