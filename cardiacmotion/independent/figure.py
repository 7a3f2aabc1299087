"""The documentation figure of the independent generator.

``python -m cardiacmotion.independent.figure -o docs/independent_generator.png [--seed 0]``: the
basal and mid short-axis slices at ED and ES with the truth contours, and an A4C and an A2C frame.
"""
from __future__ import annotations

import argparse
from typing import Sequence

import numpy as np


def _crop(case, k: int, phase: int, half_mm: float = 70.0):
    lab = case.labels.array[case.truth["ed_phase"], case.truth["seed_slice"]]
    j, i = np.nonzero(lab)
    cj, ci = int(j.mean()), int(i.mean())
    h = int(half_mm / case.truth["pixel_mm"])
    sl = (slice(max(cj - h, 0), cj + h), slice(max(ci - h, 0), ci + h))
    return case.image.array[phase, k][sl], case.labels.array[phase, k][sl]


def make_figure(path: str, seed: int = 0, echo_seed: int = 1, dpi: int = 72) -> None:
    """Write the figure to ``path`` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from cardiacmotion.independent import generate_echo, generate_mr

    mr = generate_mr(seed)
    t = mr.truth
    ed, es, mid = t["ed_phase"], t["es_phase"], t["seed_slice"]
    vmax = float(np.percentile(mr.image.array, 99.5))
    colours = {1: "tab:blue", 2: "tab:green", 3: "tab:red"}
    fig, axes = plt.subplots(2, 3, figsize=(10.5, 7.2))
    panels = [(0, ed, "basal slice, ED"), (0, es, "basal slice, ES"), (mid, ed, "mid slice, ED (seed)"), (mid, es, "mid slice, ES")]
    for ax, (k, ph, title) in zip([axes[0, 0], axes[0, 1], axes[1, 0], axes[1, 1]], panels):
        img, lab = _crop(mr, k, ph)
        ax.imshow(img, cmap="gray", vmin=0, vmax=vmax)
        for v, c in colours.items():
            if (lab == v).any():
                ax.contour(lab == v, levels=[0.5], colors=c, linewidths=0.8)
        ax.set_title(f"MR {title}", fontsize=9)
        ax.axis("off")
    for ax, view in zip(axes[:, 2], ("A4C", "A2C")):
        ec = generate_echo(echo_seed, view)
        ph = ec.truth["ed_phase"]
        ax.imshow(ec.image.array[ph, 0], cmap="gray", vmin=0, vmax=255)
        lab = ec.labels.array[ph, 0]
        for v, c in {1: "tab:red", 2: "tab:green", 3: "tab:orange"}.items():
            ax.contour(lab == v, levels=[0.5], colors=c, linewidths=0.7)
        for name, pts in ec.truth["landmarks_per_frame"].items():
            ijk = ec.image.ras_to_ijk_points(np.asarray(pts)[ph])[0]
            ax.plot(ijk[0], ijk[1], "y+", ms=7)
        ax.set_title(f"echo {view}, ED (EF {ec.truth['lv_ef_pct']:.0f} % by discs)", fontsize=9)
        ax.axis("off")
    fig.suptitle(f"independent generator: MR seed {seed} ({t['pathology']}, EF {t['lv_ef_pct']:.0f} %, base descent "
                 f"{t['base_descent_mm']:.0f} mm, slices {t['slice_thickness_mm']:.0f}/{t['slice_spacing_mm']:.0f} mm); "
                 "red LV, green myocardium, blue RV, orange LA", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--echo-seed", type=int, default=1)
    args = ap.parse_args(argv)
    make_figure(args.output, args.seed, args.echo_seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
