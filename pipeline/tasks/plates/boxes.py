"""Box geometry: YOLO's normalised centre boxes and pixel corner boxes, both ways.

YOLO labels hold `[x_center, y_center, width, height]` as fractions of the image; models,
drawings and pycocotools work in pixels. Pixel boxes here are `[x1, y1, x2, y2]` floats
(corners, x to the right, y down), arrays of shape (n, 4) even when n is 0 or 1.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def as_boxes(boxes: Any) -> np.ndarray:
    """Any list of 4-number boxes (or none) as a float (n, 4) array."""
    return np.asarray([list(box) for box in boxes], dtype=np.float64).reshape(-1, 4)


def yolo_to_xyxy(boxes: Any, width: float, height: float) -> np.ndarray:
    """Normalised `[xc, yc, w, h]` -> pixel `[x1, y1, x2, y2]` in a width x height image."""
    yolo = as_boxes(boxes)
    centre, size = yolo[:, :2], yolo[:, 2:]
    scale = np.array([width, height], dtype=np.float64)
    return np.concatenate([(centre - size / 2) * scale, (centre + size / 2) * scale], axis=1)


def xyxy_to_yolo(boxes: Any, width: float, height: float) -> np.ndarray:
    """Pixel `[x1, y1, x2, y2]` -> normalised `[xc, yc, w, h]`."""
    xyxy = as_boxes(boxes)
    scale = np.array([width, height], dtype=np.float64)
    centre = (xyxy[:, :2] + xyxy[:, 2:]) / 2 / scale
    size = (xyxy[:, 2:] - xyxy[:, :2]) / scale
    return np.concatenate([centre, size], axis=1)


def area(boxes: Any) -> np.ndarray:
    xyxy = as_boxes(boxes)
    return np.clip(xyxy[:, 2] - xyxy[:, 0], 0, None) * np.clip(xyxy[:, 3] - xyxy[:, 1], 0, None)


def clip(boxes: Any, width: float, height: float) -> np.ndarray:
    """Boxes cut to the image; a box wholly outside ends with zero area."""
    xyxy = as_boxes(boxes).copy()
    xyxy[:, [0, 2]] = xyxy[:, [0, 2]].clip(0, width)
    xyxy[:, [1, 3]] = xyxy[:, [1, 3]].clip(0, height)
    return xyxy


def scale(boxes: Any, sx: float, sy: float) -> np.ndarray:
    """Boxes of an image resized by (sx, sy)."""
    return as_boxes(boxes) * np.array([sx, sy, sx, sy], dtype=np.float64)


def transform(boxes: Any, matrix: np.ndarray) -> np.ndarray:
    """The enclosing rectangles of the boxes' four corners moved by a 2x3 affine matrix.

    With a rotation this is the book's rule: the new box encloses the rotated plate.
    """
    xyxy = as_boxes(boxes)
    x1, y1, x2, y2 = xyxy.T
    corners = np.stack([[x1, y1], [x2, y1], [x2, y2], [x1, y2]], axis=0)  # (4, 2, n)
    corners = corners.transpose(2, 0, 1)  # (n, 4, 2)
    moved = corners @ np.asarray(matrix, dtype=np.float64)[:, :2].T + matrix[:, 2]
    return np.concatenate([moved.min(axis=1), moved.max(axis=1)], axis=1).reshape(-1, 4)


def iou(first: Any, second: Any) -> np.ndarray:
    """Pairwise intersection over union, shape (len(first), len(second))."""
    a, b = as_boxes(first)[:, None, :], as_boxes(second)[None, :, :]
    top_left = np.maximum(a[..., :2], b[..., :2])
    bottom_right = np.minimum(a[..., 2:], b[..., 2:])
    inter = np.prod(np.clip(bottom_right - top_left, 0, None), axis=-1)
    union = area(first)[:, None] + area(second)[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def suppress_overlaps(boxes: Any, scores: np.ndarray, max_iou: float) -> np.ndarray:
    """Indices of the boxes kept by greedy non-maximum suppression, best score first.

    CenterNet's 3x3 peak rule already removes neighbours; this catches a wide plate whose
    heat map has two peaks a few cells apart.
    """
    xyxy = as_boxes(boxes)
    order = np.argsort(-np.asarray(scores), kind="stable")
    keep: list[int] = []
    for index in order:
        if not keep or iou(xyxy[[index]], xyxy[keep]).max() <= max_iou:
            keep.append(int(index))
    return np.asarray(keep, dtype=np.int64)
