"""Draw the extension and module icons (128 x 128 PNG, numpy + OpenCV only). Run from the repository root."""
from pathlib import Path

import cv2
import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
S = 128
RED, YELLOW, BLUE, DARK = (60, 60, 215), (80, 195, 245), (220, 120, 60), (60, 40, 40)  # BGR


def canvas():
    img = np.zeros((S, S, 4), np.uint8)
    return img


def disc(img, centre, radius, bgr, thickness=-1):
    cv2.circle(img, centre, radius, (*bgr, 255), thickness, lineType=cv2.LINE_AA)


def short_axis(img, cx, cy, scale=1.0):
    """LV myocardium ring, LV cavity, RV crescent: the short-axis view the modules segment."""
    r_epi, r_endo = int(34 * scale), int(22 * scale)
    cv2.ellipse(img, (cx - int(30 * scale), cy), (int(26 * scale), int(36 * scale)), 0, 90, 270, (*BLUE, 255), -1, cv2.LINE_AA)
    disc(img, (cx, cy), r_epi, YELLOW)
    disc(img, (cx, cy), r_endo, RED)
    disc(img, (cx, cy), r_epi, DARK, 2)


def segmentation_icon():
    img = canvas()
    short_axis(img, 72, 64)
    return img


def scoring_icon():
    img = canvas()
    c = (64, 64)
    colours = [(80, 175, 76), (64, 214, 255), (33, 125, 245), (46, 46, 211)]
    rings = ((60, 6, 60), (44, 6, 60), (28, 4, 45))
    for (r, n, start), shade in zip(rings, range(3)):
        for k in range(n):
            a0 = start + k * 360 / n
            colour = colours[(k * 3 + shade) % 4] if (k + shade) % 3 == 0 else colours[0]
            cv2.ellipse(img, c, (r, r), 0, -a0, -(a0 + 360 / n), (*colour, 255), -1, cv2.LINE_AA)
            cv2.ellipse(img, c, (r, r), 0, -a0, -(a0 + 360 / n), (*DARK, 255), 2, cv2.LINE_AA)
    disc(img, c, 12, (190, 190, 190))
    disc(img, c, 12, DARK, 2)
    return img


def extension_icon():
    img = canvas()
    short_axis(img, 74, 52, 0.8)
    t = np.linspace(0, 1, 60)
    vol = 0.5 + 0.5 * np.cos(2 * np.pi * t) ** 2
    pts = np.stack([12 + t * 104, 118 - vol * 30], axis=1).astype(np.int32)
    cv2.polylines(img, [pts], False, (*RED, 255), 4, cv2.LINE_AA)
    return img


if __name__ == "__main__":
    cv2.imwrite(str(HERE / "CardiacMotion.png"), extension_icon())
    cv2.imwrite(str(ROOT / "CardiacMotionSegmentation/Resources/Icons/CardiacMotionSegmentation.png"), segmentation_icon())
    cv2.imwrite(str(ROOT / "CardiacMotionScoring/Resources/Icons/CardiacMotionScoring.png"), scoring_icon())
