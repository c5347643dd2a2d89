"""CenterNet ("Objects as Points") made small: targets, loss and peak decoding.

A plate is the peak of a heat map on a grid `stride` times coarser than the input, plus
its width and height (in grid cells) and the sub-cell offset of its centre, read at the
peak. The network's output has 5 channels: heat logit, width, height, x offset, y offset.
Targets add a sixth: 1 at each plate's centre cell, where size and offset are learnt.
"""

from __future__ import annotations

from typing import Any

import numpy as np

OUTPUT_CHANNELS = 5
TARGET_CHANNELS = 6
HEAT, SIZE, OFFSET, CENTRE = 0, slice(1, 3), slice(3, 5), 5
PRIOR_LOGIT = -2.19  # sigmoid = 0.1: training starts from "few centres", as in the paper


def encode(
    boxes: np.ndarray, grid: tuple[int, int], stride: int, sigma_fraction: float
) -> np.ndarray:
    """Targets (rows, cols, 6) for pixel `[x1, y1, x2, y2]` boxes of the network input.

    Each centre cell gets an elliptic Gaussian bump of height 1 whose spread is
    `sigma_fraction` of the box side, so near misses are penalised less than far ones.
    """
    rows, cols = grid
    target = np.zeros((rows, cols, TARGET_CHANNELS), np.float32)
    ys, xs = np.mgrid[0:rows, 0:cols].astype(np.float32)
    for x1, y1, x2, y2 in np.asarray(boxes, np.float64).reshape(-1, 4):
        width, height = (x2 - x1) / stride, (y2 - y1) / stride
        if width <= 0 or height <= 0:
            continue
        cx, cy = (x1 + x2) / 2 / stride, (y1 + y2) / 2 / stride
        ix, iy = min(max(int(cx), 0), cols - 1), min(max(int(cy), 0), rows - 1)
        sx, sy = max(sigma_fraction * width, 0.5), max(sigma_fraction * height, 0.5)
        bump = np.exp(-((xs - ix) ** 2) / (2 * sx**2) - (ys - iy) ** 2 / (2 * sy**2))
        target[..., HEAT] = np.maximum(target[..., HEAT], bump)
        target[iy, ix, SIZE] = width, height
        target[iy, ix, OFFSET] = cx - ix, cy - iy
        target[iy, ix, CENTRE] = 1.0
    return target


def loss(size_weight: float = 0.1, offset_weight: float = 1.0) -> Any:
    """Penalty-reduced focal loss on the heat map + L1 on size and offset at centres.

    Each term is normalised by the number of plates in the batch, as in the paper.
    """
    from keras import ops

    def centernet_loss(y_true: Any, y_pred: Any) -> Any:
        y_pred = ops.cast(y_pred, "float32")
        heat = ops.clip(ops.sigmoid(y_pred[..., HEAT]), 1e-4, 1 - 1e-4)
        true_heat, centre = y_true[..., HEAT], y_true[..., CENTRE]
        plates = ops.maximum(ops.sum(centre), 1.0)
        positive = -ops.log(heat) * (1 - heat) ** 2 * centre
        negative = -ops.log(1 - heat) * heat**2 * (1 - true_heat) ** 4 * (1 - centre)
        focal = (ops.sum(positive) + ops.sum(negative)) / plates
        mask = centre[..., None]
        size = ops.sum(ops.abs(y_pred[..., SIZE] - y_true[..., SIZE]) * mask) / plates
        offset = ops.sum(ops.abs(y_pred[..., OFFSET] - y_true[..., OFFSET]) * mask) / plates
        total = focal + size_weight * size + offset_weight * offset
        # one value per image: Keras averages a per-image loss over the batch and over the
        # replicas of a distribution strategy, but sums a scalar one across replicas
        return ops.broadcast_to(total, ops.shape(y_true)[:1])

    return centernet_loss


def peaks(heat: np.ndarray, min_score: float, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """(row, col) cells that are local 3x3 maxima of `heat` with score >= min_score, best
    first, at most `limit`; the paper's max-pool trick instead of box NMS."""
    padded = np.pad(heat, 1, constant_values=-np.inf)
    windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3))
    is_peak = (heat >= windows.max(axis=(-2, -1))) & (heat >= min_score)
    rows, cols = np.nonzero(is_peak)
    order = np.argsort(-heat[rows, cols], kind="stable")[:limit]
    return rows[order], cols[order]


def decode(
    output: np.ndarray, stride: int, min_score: float, limit: int
) -> tuple[np.ndarray, np.ndarray]:
    """Pixel `[x1, y1, x2, y2]` boxes (in network-input pixels) and scores of one output."""
    heat = 1 / (1 + np.exp(-output[..., HEAT].astype(np.float64)))
    rows, cols = peaks(heat, min_score, limit)
    width, height = (np.clip(output[rows, cols, c], 0, None) for c in (1, 2))
    cx = (cols + output[rows, cols, 3]) * stride
    cy = (rows + output[rows, cols, 4]) * stride
    half_w, half_h = width * stride / 2, height * stride / 2
    boxes = np.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], axis=1)
    return boxes.reshape(-1, 4), heat[rows, cols]
