"""Preview PNGs of the phantoms: ``python -m cardiacmotion.phantom.preview docs/``.

Writes ``phantom_mr.png`` (mid slice at ED and ES with label contours, plus the volume curve),
``phantom_echo_a4c.png`` / ``phantom_echo_a2c.png`` (ED and ES frames with contours and landmarks).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

MR_COLOURS = {1: "#4aa3ff", 2: "#ffb000", 3: "#ff3b3b"}
US_COLOURS = {1: "#ff3b3b", 2: "#ffb000", 3: "#4aa3ff"}


def _contours(ax, lab: np.ndarray, colours: dict) -> None:
    for value, colour in colours.items():
        m = (lab == value).astype(float)
        if m.any():
            ax.contour(m, levels=[0.5], colors=[colour], linewidths=0.9)


def mr_preview(path: Path, seed: int = 9) -> Path:
    """Mid slice at ED and ES (raw and with contours) and the LV / RV volume curves."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from cardiacmotion.phantom import make_mr_case

    case = make_mr_case(seed)
    t = case.truth
    k = t["seed_slice"]
    fig, axes = plt.subplots(1, 5, figsize=(17, 3.8), gridspec_kw={"width_ratios": [1, 1, 1, 1, 1.3]})
    vmax = float(np.percentile(case.image.array[:, k], 99.7))
    # the raw panels show the whole field of view, the labelled ones zoom on the heart
    jj, ii = np.nonzero(case.labels.array[0, k] > 0)
    half = int(70 / case.image.spacing[0])
    ci, cj = int(ii.mean()), int(jj.mean())
    zoom = (max(ci - half, 0), ci + half, cj + half, max(cj - half, 0))
    for col, (phase, name) in enumerate(((t["ed_phase"], "ED"), (t["es_phase"], "ES"))):
        img = case.image.array[phase, k]
        for sub, with_contours in ((0, False), (1, True)):
            ax = axes[2 * col + sub]
            ax.imshow(img, cmap="gray", vmin=0, vmax=vmax)
            if with_contours:
                ax.set_xlim(zoom[0], zoom[1])
                ax.set_ylim(zoom[2], zoom[3])
            if with_contours:
                _contours(ax, case.labels.array[phase, k], MR_COLOURS)
            ax.set_title(f"MR mid slice {k}, {name} (phase {phase})" + (" + labels" if with_contours else ""), fontsize=8)
            ax.axis("off")
    if True:  # landmarks on the ED contour panel
        ax = axes[1]
        ijk = case.image.ras_to_ijk_points(np.array(list(case.landmarks.values())))
        ax.plot(ijk[:, 0], ijk[:, 1], "c+", ms=9, mew=1.5)
    ax = axes[4]
    ax.plot(case.image.frame_times_ms, t["lv_volume_ml"], "r.-", label="LV (labels)")
    ax.plot(case.image.frame_times_ms, t["rv_volume_ml"], "b.-", label="RV (labels)")
    ax.set_xlabel("ms")
    ax.set_ylabel("ml")
    ax.set_title(f"EF {t['lv_ef_pct']:.0f} %, MSI {t['motion_score_index']:.2f}", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def echo_preview(path: Path, view: str = "A4C", seed: int = 3) -> Path:
    """Echo frame at ED and ES, raw and with contours and the tracked landmarks, and the area curve."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from cardiacmotion.phantom import make_echo_case

    case = make_echo_case(seed, view=view)
    t = case.truth
    fig, axes = plt.subplots(1, 5, figsize=(17, 3.8), gridspec_kw={"width_ratios": [1, 1, 1, 1, 1.3]})
    names = list(t["landmarks_per_frame"])
    for col, (frame, name) in enumerate(((t["ed_phase"], "ED"), (t["es_phase"], "ES"))):
        img = case.image.array[frame, 0]
        for sub, with_contours in ((0, False), (1, True)):
            ax = axes[2 * col + sub]
            ax.imshow(img, cmap="gray", vmin=0, vmax=255)
            if with_contours:
                _contours(ax, case.labels.array[frame, 0], US_COLOURS)
                pts = np.array([t["landmarks_per_frame"][n][frame] for n in names])
                ijk = case.image.ras_to_ijk_points(pts)
                ax.plot(ijk[:, 0], ijk[:, 1], "c+", ms=9, mew=1.5)
            ax.set_title(f"echo {view}, {name} (frame {frame})" + (" + labels" if with_contours else ""), fontsize=8)
            ax.axis("off")
    ax = axes[4]
    ax.plot(case.image.frame_times_ms, t["lv_volume_ml"], "r.-", label="LV volume (discs)")
    ax.set_xlabel("ms")
    ax.set_ylabel("ml")
    ax.set_title(f"EF {t['lv_ef_pct']:.0f} % (single plane)", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0] if args else "docs")
    out.mkdir(parents=True, exist_ok=True)
    print(mr_preview(out / "phantom_mr.png"))
    try:
        from cardiacmotion.phantom import make_echo_case  # noqa: F401
    except ImportError:
        return 0
    print(echo_preview(out / "phantom_echo_a4c.png", "A4C"))
    print(echo_preview(out / "phantom_echo_a2c.png", "A2C"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
