"""The cohort's summary figure: the LV EF histogram and, when reference values are given, a
Bland-Altman plot of the measured against the reference EF."""
from __future__ import annotations

from pathlib import Path
from typing import Mapping, Optional, Sequence

import numpy as np

from cardiacmotion.cohort.table import as_float


def bland_altman(measured: Sequence[float], reference: Sequence[float]) -> dict:
    """Bias (mean of measured - reference), SD of the differences and the 95 % limits of agreement."""
    m = np.asarray(measured, float)
    r = np.asarray(reference, float)
    d = m - r
    bias = float(d.mean()) if d.size else float("nan")
    sd = float(d.std(ddof=1)) if d.size > 1 else 0.0
    return {"n": int(d.size), "bias": bias, "sd": sd, "loa_low": bias - 1.96 * sd, "loa_high": bias + 1.96 * sd}


def write_summary_figure(rows: Sequence[Mapping], path: Path) -> Optional[Path]:
    """Write the figure (PNG) for the finished rows; None when no study has an EF."""
    ef = [(as_float(r.get("lv_ef_pct")), as_float(r.get("reference_ef"))) for r in rows if r.get("status") in ("ok", "partial")]
    ef = [(m, ref) for m, ref in ef if m is not None]
    if not ef:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from cardiacmotion.io.atomic import atomic_output

    pairs = [(m, ref) for m, ref in ef if ref is not None]
    fig, axes = plt.subplots(1, 2 if pairs else 1, figsize=(10 if pairs else 5, 4), squeeze=False)
    ax = axes[0, 0]
    values = [m for m, _ in ef]
    ax.hist(values, bins=min(20, max(5, len(values) // 2)), range=(0, 100), color="#4477aa", edgecolor="white")
    ax.set_xlabel("LV EF (%)")
    ax.set_ylabel("studies")
    ax.set_title(f"LV ejection fraction (n = {len(values)})")
    if pairs:
        m = np.array([p[0] for p in pairs])
        r = np.array([p[1] for p in pairs])
        ba = bland_altman(m, r)
        ax = axes[0, 1]
        ax.scatter((m + r) / 2, m - r, s=18, color="#aa3377")
        for y, style in ((ba["bias"], "-"), (ba["loa_low"], "--"), (ba["loa_high"], "--")):
            ax.axhline(y, color="grey", linestyle=style, linewidth=1)
        ax.set_xlabel("mean of measured and reference EF (%)")
        ax.set_ylabel("measured - reference EF (%)")
        ax.set_title(f"Bland-Altman: bias {ba['bias']:+.1f}, LoA {ba['loa_low']:+.1f} .. {ba['loa_high']:+.1f} (n = {ba['n']})")
        ax.title.set_fontsize(9)
    fig.tight_layout()
    with atomic_output(path) as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)
    return path
