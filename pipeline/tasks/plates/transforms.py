"""The textbook's four plate augmentations, each moving the boxes with the pixels.

A variant applies, each with its own probability and in this order, a replicated border
(plates get smaller), a crop that keeps every plate whole (plates get larger), a brightness
change and a small rotation. Boxes move with the very affine the pixels moved with
(`boxes.transform`); a box left mostly outside the image is dropped with its reason.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from pipeline.tasks.plates import boxes as bx
from pipeline.tasks.plates.params import PlatesAugmentParams

OUT_OF_IMAGE = {  # why a box left the image, by the step that moved it
    "original": "outside the image",
    "border": "bordered out of the image",
    "crop": "cropped out of the image",
    "rotation": "rotated out of the image",
}

# Pixel boxes are in edge coordinates (the image spans [0, width]), so resizing by s is
# exactly x -> s * x, as cv2.resize does to the picture; every matrix below is in them.


def border(
    image: np.ndarray, sides: tuple[float, float, float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """Replicated border of (left, top, right, bottom) fractions of the sides, resized back."""
    height, width = image.shape[:2]
    left, top, right, bottom = (
        round(fraction * side) for fraction, side in zip(sides, (width, height) * 2, strict=True)
    )
    padded = cv2.copyMakeBorder(image, top, bottom, left, right, cv2.BORDER_REPLICATE)
    sx, sy = width / padded.shape[1], height / padded.shape[0]
    matrix = np.array([[sx, 0, left * sx], [0, sy, top * sy]], np.float64)
    return cv2.resize(padded, (width, height), interpolation=cv2.INTER_AREA), matrix


def crop(
    image: np.ndarray, xyxy: np.ndarray, fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """A crop of the image's shape holding every box whole, placed at random, resized back.

    The side `fraction` grows as needed (up to the whole image) so that no plate is cut.
    """
    height, width = image.shape[:2]
    kept = bx.clip(xyxy, width, height)
    if len(kept):
        x1, y1 = np.floor(kept[:, :2].min(axis=0)).astype(int)
        x2, y2 = np.ceil(kept[:, 2:].max(axis=0)).astype(int)
        fraction = max(fraction, (x2 - x1) / width, (y2 - y1) / height)
    else:  # a negative image: any crop will do
        x1, y1, x2, y2 = width, height, 0, 0
    cw = min(width, math.ceil(min(fraction, 1.0) * width))
    ch = min(height, math.ceil(min(fraction, 1.0) * height))
    x0 = int(rng.integers(max(0, x2 - cw), min(x1, width - cw) + 1))
    y0 = int(rng.integers(max(0, y2 - ch), min(y1, height - ch) + 1))
    sx, sy = width / cw, height / ch
    matrix = np.array([[sx, 0, -x0 * sx], [0, sy, -y0 * sy]], np.float64)
    window = image[y0 : y0 + ch, x0 : x0 + cw]
    return cv2.resize(window, (width, height), interpolation=cv2.INTER_LINEAR), matrix


def brighten(image: np.ndarray, factor: float) -> np.ndarray:
    """Scale the V channel of HSV (RGB in, RGB out)."""
    hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV).astype(np.float32)
    hsv[..., 2] = np.clip(hsv[..., 2] * factor, 0, 255)
    return cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB)


def rotate(image: np.ndarray, degrees: float) -> tuple[np.ndarray, np.ndarray]:
    """Rotation about the image centre (counter-clockwise for positive degrees).

    OpenCV's pixel centres sit at integer indices, so the picture turns about
    ((w-1)/2, (h-1)/2) while the edge-coordinate boxes turn about (w/2, h/2): one point.
    """
    height, width = image.shape[:2]
    pixels = cv2.getRotationMatrix2D(((width - 1) / 2, (height - 1) / 2), degrees, 1.0)
    turned = cv2.warpAffine(image, pixels, (width, height), borderMode=cv2.BORDER_REPLICATE)
    return turned, cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)


def keep_visible(
    moved: np.ndarray, width: int, height: int, min_visible: float, step: str
) -> tuple[np.ndarray, list[str]]:
    """Moved boxes clipped to the image, less those mostly outside it, and why they went."""
    moved = bx.as_boxes(moved)
    clipped = bx.clip(moved, width, height)
    full, inside = bx.area(moved), bx.area(clipped)
    visible = np.divide(inside, full, out=np.zeros_like(inside), where=full > 0)
    sized = (clipped[:, 2] > clipped[:, 0]) & (clipped[:, 3] > clipped[:, 1])
    keep = sized & (visible >= min_visible)
    reasons = [
        OUT_OF_IMAGE[step] if full[i] > 0 else f"zero width or height ({step})"
        for i in np.flatnonzero(~keep)
    ]
    return clipped[keep], reasons


def variant(
    image: np.ndarray, xyxy: np.ndarray, params: PlatesAugmentParams, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    """One augmented copy: (image, boxes, applied ops, dropped-box reasons)."""
    height, width = image.shape[:2]
    ops: list[str] = []
    dropped: list[str] = []

    def moved(step: str, matrix: np.ndarray) -> np.ndarray:
        ops.append(step)
        kept, reasons = keep_visible(
            bx.transform(xyxy, matrix), width, height, params.min_visible, step
        )
        dropped.extend(reasons)
        return kept

    if rng.random() < params.border_probability:
        sides = rng.uniform(0, params.max_border, 4)
        image, matrix = border(image, (sides[0], sides[1], sides[2], sides[3]))
        xyxy = moved("border", matrix)
    if rng.random() < params.crop_probability:
        image, matrix = crop(image, xyxy, float(rng.uniform(params.min_crop, 1)), rng)
        xyxy = moved("crop", matrix)
    if rng.random() < params.brightness_probability:
        image = brighten(image, float(rng.uniform(1 - params.brightness, 1 + params.brightness)))
        ops.append("brightness")
    if rng.random() < params.rotation_probability:
        image, matrix = rotate(image, float(rng.uniform(-params.max_rotation, params.max_rotation)))
        xyxy = moved("rotation", matrix)
    return image, xyxy, ops, dropped
