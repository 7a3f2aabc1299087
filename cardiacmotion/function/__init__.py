"""Cardiac function from a 4D segmentation: volume curves, ED/ES, EDV/ESV/SV/EF, LV mass, rates.

MR: disc summation over short-axis slices (:mod:`.volumes`). Echo: method of discs, single-plane
or biplane (:mod:`.discs`). ED/ES and missing phases: :mod:`.phases`. Rates: :mod:`.rates`.
The FUNCTION.json dictionary and its files: :mod:`.report`; the curve PNG: :mod:`.figure`.
"""
from cardiacmotion.function.report import compute_function, csv_path_for, function_csv_text, write_function_outputs

__all__ = ["compute_function", "write_function_outputs", "function_csv_text", "csv_path_for"]
