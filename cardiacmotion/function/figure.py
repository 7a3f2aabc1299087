"""The volume-curve figure: LV (and RV) volume over time, ED and ES marked, values in the legend."""
from __future__ import annotations

from pathlib import Path
from typing import Union

import numpy as np


def save_curve_figure(result: dict, path: Union[str, Path], dpi: int = 110) -> None:
    """Write the curve PNG of a FUNCTION.json dictionary, atomically.

    Args:
        result: the dictionary from :func:`cardiacmotion.function.compute_function`.
        path: output ``.png``.
    """
    from cardiacmotion.io.atomic import atomic_output

    fig = curve_figure(result, dpi)
    with atomic_output(path) as tmp:
        fig.savefig(str(tmp), format="png")


def curve_figure(result: dict, dpi: int = 110):
    """The matplotlib ``Figure`` (Agg canvas, no pyplot state) of a FUNCTION.json dictionary."""
    import matplotlib

    matplotlib.use("Agg", force=True)  # files only: never a display
    from matplotlib.figure import Figure

    t = np.asarray(result["frame_times_ms"], dtype=float)
    lv = np.asarray(result["lv_volume_ml"], dtype=float)
    ed, es = int(result["ed_phase"]), int(result["es_phase"])
    fig = Figure(figsize=(6.4, 5.0), dpi=dpi)
    ax = fig.add_subplot(1, 1, 1)
    lv_label = (
        f"LV  EDV {result['lv_edv_ml']:.1f} ml, ESV {result['lv_esv_ml']:.1f} ml, "
        f"SV {result['lv_sv_ml']:.1f} ml, EF {result['lv_ef_pct']:.1f} %"
    )
    if result.get("lv_mass_g") is not None:
        lv_label += f", mass {result['lv_mass_g']:.1f} g"
    ax.plot(t, lv, "-o", color="#c0392b", ms=3, label=lv_label)
    if result.get("rv_volume_ml") is not None:
        rv = np.asarray(result["rv_volume_ml"], dtype=float)
        rv_label = (
            f"RV  EDV {result['rv_edv_ml']:.1f} ml, ESV {result['rv_esv_ml']:.1f} ml, EF {result['rv_ef_pct']:.1f} %"
        )
        ax.plot(t, rv, "-s", color="#2e6db4", ms=3, label=rv_label)
    ax.axvline(t[ed], color="0.35", ls="--", lw=1, label=f"ED  phase {ed} ({t[ed]:.0f} ms)")
    ax.axvline(t[es], color="0.35", ls=":", lw=1.2, label=f"ES  phase {es} ({t[es]:.0f} ms)")
    ax.plot([t[ed]], [lv[ed]], "v", color="k", ms=7)
    ax.plot([t[es]], [lv[es]], "^", color="k", ms=7)
    rates = []
    if result.get("peak_ejection_rate_ml_s") is not None:
        rates.append(f"PER {result['peak_ejection_rate_ml_s']:.0f} ml/s")
    if result.get("peak_filling_rate_ml_s") is not None:
        rates.append(f"PFR {result['peak_filling_rate_ml_s']:.0f} ml/s")
    if rates:
        ax.plot([], [], " ", label=", ".join(rates))
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("volume (ml)")
    ax.set_title("Ventricular volume over the cardiac cycle")
    ax.grid(True, alpha=0.3)
    # below the axes, so it never hides the curve
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=1, fontsize=7.5, frameon=False)
    fig.tight_layout()
    return fig
