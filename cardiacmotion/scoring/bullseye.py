"""AHA bullseye figures (matplotlib, Agg) and the sector geometry as data.

Display convention (the standard AHA polar map): viewed from the apex, segment 1 (basal anterior)
at 12 o'clock, the septum on the left, basal ring outermost, apex (17) in the centre. Basal and mid
sectors are 60 deg each, apical ones 90 deg; the display uses these fixed spans whatever the
measured septal arc (the scoring uses the measured one).

:func:`bullseye_geometry` returns the same definition as data (ring radii, angle spans) so the
Slicer bridge builds its 17-sector model from it: angles are degrees counter-clockwise from
3 o'clock (math convention) on a unit disc, seen with the septum on the left.
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping, Optional, Union

import numpy as np

from cardiacmotion.scoring.aha import SEGMENTS

#: Ring radii on a unit disc: apex cap, apical, mid, basal (outer edge of each).
RING_RADII = {"apex": (0.0, 0.25), "apical": (0.25, 0.5), "mid": (0.5, 0.75), "basal": (0.75, 1.0)}

#: Colours of the scores (1-4) and of "not assessed".
SCORE_COLOURS = {1: "#4daf4a", 2: "#ffd92f", 3: "#fc8d62", 4: "#d7301f", None: "#bdbdbd"}
SCORE_NAMES = {1: "1 normal", 2: "2 hypokinetic", 3: "3 akinetic", 4: "4 dyskinetic", None: "not assessed"}


def bullseye_geometry() -> list[dict]:
    """The 17 display sectors as data.

    Returns:
        list of ``{id, name, level, r_inner, r_outer, theta_start_deg, theta_end_deg}``; angles
        counter-clockwise from 3 o'clock (``theta_end > theta_start``, may exceed 360); segment 17 is
        the full disc ``r < 0.25``.
    """
    out = []
    for seg_id, name, level in SEGMENTS:
        r0, r1 = RING_RADII[level]
        if level in ("basal", "mid"):
            n = (seg_id - 1) % 6  # 1 anterior at 12 o'clock, then counter-clockwise: septum on the left
            start = 60.0 + 60.0 * n
            span = 60.0
        elif level == "apical":
            n = seg_id - 13
            start = 45.0 + 90.0 * n
            span = 90.0
        else:
            start, span = 0.0, 360.0
        out.append(
            {
                "id": seg_id,
                "name": name,
                "level": level,
                "r_inner": r0,
                "r_outer": r1,
                "theta_start_deg": start,
                "theta_end_deg": start + span,
            }
        )
    return out


def _draw(
    colours: Mapping[int, str],
    path: Union[str, Path],
    title: str,
    legend: Optional[list] = None,
    colorbar: Optional[tuple] = None,
    texts: Optional[Mapping[int, str]] = None,
) -> None:
    # a bare Figure renders with Agg and never touches pyplot's global backend (Slicer has its own)
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch, Wedge

    from cardiacmotion.io.atomic import atomic_output

    fig = Figure(figsize=(5.2, 5.0), dpi=110)
    ax = fig.add_axes([0.04, 0.12, 0.72, 0.78] if colorbar else [0.1, 0.12, 0.8, 0.78])
    for sec in bullseye_geometry():
        sid = sec["id"]
        wedge = Wedge(
            (0, 0),
            sec["r_outer"],
            sec["theta_start_deg"],
            sec["theta_end_deg"],
            width=sec["r_outer"] - sec["r_inner"],
            facecolor=colours.get(sid, SCORE_COLOURS[None]),
            edgecolor="black",
            linewidth=1.0,
        )
        ax.add_patch(wedge)
        if sid == 17:
            x = y = 0.0
        else:
            mid = np.radians((sec["theta_start_deg"] + sec["theta_end_deg"]) / 2)
            rm = (sec["r_inner"] + sec["r_outer"]) / 2
            x, y = rm * np.cos(mid), rm * np.sin(mid)
        label = str(sid) if not texts or sid not in texts else f"{sid}\n{texts[sid]}"
        ax.text(x, y, label, ha="center", va="center", fontsize=7.5, fontweight="bold")
    ax.set_xlim(-1.05, 1.05)
    ax.set_ylim(-1.05, 1.05)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.text(-1.04, 0, "septum", rotation=90, ha="center", va="center", fontsize=8)
    ax.text(0, 1.04, "anterior", ha="center", va="bottom", fontsize=8)
    ax.text(1.04, 0, "lateral", rotation=-90, ha="center", va="center", fontsize=8)
    ax.text(0, -1.04, "inferior", ha="center", va="top", fontsize=8)
    fig.suptitle(title, fontsize=10)
    if legend:
        handles = [Patch(facecolor=c, edgecolor="black", label=lab) for lab, c in legend]
        fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=7, frameon=False,
                   handlelength=1.2, columnspacing=0.9)
    if colorbar:
        from matplotlib.cm import ScalarMappable

        cmap, norm, label = colorbar
        cax = fig.add_axes([0.80, 0.2, 0.035, 0.6])
        cb = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), cax=cax)
        cb.set_label(label, fontsize=8)
        cb.ax.tick_params(labelsize=7)
    with atomic_output(path) as tmp:
        fig.savefig(str(tmp), format="png")


def write_score_bullseye(scores: Mapping, path: Union[str, Path], title: Optional[str] = None) -> None:
    """Bullseye PNG of the wall-motion scores of a SCORES.json dict, with a colour legend."""
    by_id = {s["id"]: s.get("score") for s in scores["segments"]}
    colours = {sid: SCORE_COLOURS.get(by_id.get(sid)) for sid in range(1, 18)}
    msi = scores.get("motion_score_index")
    title = title or f"Wall motion ({scores.get('method', '')})" + (f", MSI {msi:.2f}" if msi is not None else "")
    legend = [(SCORE_NAMES[k], SCORE_COLOURS[k]) for k in (1, 2, 3, 4, None)]
    _draw(colours, path, title, legend=legend)


def write_thickening_bullseye(
    scores: Mapping,
    path: Union[str, Path],
    vmin: float = -20.0,
    vmax: float = 60.0,
    title: str = "Systolic wall thickening (%)",
) -> None:
    """Bullseye PNG of the per-segment thickening % of a SCORES.json dict, with a colour bar."""
    from matplotlib import colormaps
    from matplotlib.colors import Normalize, to_hex

    cmap = colormaps["RdYlGn"]
    norm = Normalize(vmin=vmin, vmax=vmax)
    colours, texts = {}, {}
    for s in scores["segments"]:
        v = s.get("thickening_pct")
        if v is not None:
            colours[s["id"]] = to_hex(cmap(norm(v)))
            texts[s["id"]] = f"{int(round(v))}%"
    _draw(colours, path, title, colorbar=(cmap, norm, "thickening %"), texts=texts)
