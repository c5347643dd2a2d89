"""Per-image statistics: cheap numbers that move when the camera, the light or the focus do."""

from __future__ import annotations

import numpy as np

#: the statistics of every image, in this order
STAT_NAMES = (
    "width",
    "height",
    "aspect",
    "brightness",
    "contrast",
    "sharpness",
    "mean_r",
    "mean_g",
    "mean_b",
)
#: longest side the brightness/contrast/sharpness are measured at: the same focus measured
#: on a 2048 px photo and on a 320 px frame must be comparable, and big photos stay cheap
MEASURE_SIDE = 512


def shrunk(rgb: np.ndarray, side: int) -> np.ndarray:
    """The image shrunk (never enlarged) so its longest side is at most `side` pixels."""
    import cv2

    height, width = rgb.shape[:2]
    scale = side / max(height, width)
    if scale >= 1:
        return rgb
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def image_stats(rgb: np.ndarray) -> dict[str, float]:
    """Size, aspect, brightness (mean grey level), contrast (its standard deviation),
    sharpness (variance of the Laplacian) and mean R/G/B of an RGB uint8 image."""
    import cv2

    height, width = rgb.shape[:2]
    small = shrunk(rgb, MEASURE_SIDE)
    grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    means = small.reshape(-1, 3).mean(axis=0)
    return {
        "width": float(width),
        "height": float(height),
        "aspect": float(width / height),
        "brightness": float(grey.mean()),
        "contrast": float(grey.std()),
        "sharpness": float(cv2.Laplacian(grey, cv2.CV_64F).var()),
        "mean_r": float(means[0]),
        "mean_g": float(means[1]),
        "mean_b": float(means[2]),
    }
