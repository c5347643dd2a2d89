"""From a photo and a plate box to the one-line image the recogniser reads.

Two-line plates (motorbikes: `59-C1` over `399.16`) are read as one line: the crop's top
and bottom halves are placed side by side, so a left-to-right reader with CTC sees the
characters in reading order. The layout is told by the crop's shape: a two-line plate is
at most about twice as wide as it is tall (motorbike plates about 1.3, two-line car plates
2), a one-line car plate about 4.5. Crops are plain NumPy/OpenCV, the same in training,
evaluation and serving.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

TWO_LINE_MAX_ASPECT = 2.6  # width / height at or below which a plate is read as two lines
HALF_OVERLAP = 0.06  # each half keeps this share of the height past the middle


def pixel_box(box: Sequence[float], width: int, height: int) -> tuple[float, float, float, float]:
    """Normalised `[cx, cy, w, h]` -> pixel `(x1, y1, x2, y2)`."""
    cx, cy, w, h = (float(v) for v in box)
    return (cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2) * width, (cy + h / 2) * height


def cut(image: np.ndarray, box: Sequence[float], margin: float) -> np.ndarray:
    """The pixels of pixel box `(x1, y1, x2, y2)` grown by `margin` of its size per side,
    clipped to the image; ValueError if nothing is left."""
    x1, y1, x2, y2 = (float(v) for v in box)
    dx, dy = (x2 - x1) * margin, (y2 - y1) * margin
    height, width = image.shape[:2]
    left, top = max(round(x1 - dx), 0), max(round(y1 - dy), 0)
    right, bottom = min(round(x2 + dx), width), min(round(y2 + dy), height)
    if right - left < 2 or bottom - top < 2:
        raise ValueError(f"box {x1:.0f},{y1:.0f},{x2:.0f},{y2:.0f} has no pixels in the image")
    return image[top:bottom, left:right]


def is_two_line(crop: np.ndarray) -> bool:
    height, width = crop.shape[:2]
    return width <= TWO_LINE_MAX_ASPECT * height


def to_line(crop: np.ndarray, height: int, width: int) -> np.ndarray:
    """`crop` (uint8, h x w x 3) as the recogniser's `height x width` one-line input."""
    if not is_two_line(crop):
        return cv2.resize(crop, (width, height), interpolation=cv2.INTER_AREA)
    rows = crop.shape[0]
    middle, overlap = rows / 2, max(1, round(rows * HALF_OVERLAP))
    top = crop[: round(middle) + overlap]
    bottom = crop[max(round(middle) - overlap, 0) :]
    left_width = width // 2
    halves = [
        cv2.resize(top, (left_width, height), interpolation=cv2.INTER_AREA),
        cv2.resize(bottom, (width - left_width, height), interpolation=cv2.INTER_AREA),
    ]
    return np.concatenate(halves, axis=1)
