"""Detections of a trained plate detector on raw images of any size, in their own pixels.

Images are resized to the network input the way training resized them (bilinear, aspect
not kept), decoded by the model's own kind (`detectors`), then scaled back to each image's
size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from pipeline.tasks.plates import boxes as box_ops
from pipeline.tasks.plates.detectors import detector_of

OVERLAP_IOU = 0.5  # two detections overlapping more are one plate


@dataclass(frozen=True)
class Detections:
    """One image's detections, best first: `boxes` (n, 4) pixel `[x1, y1, x2, y2]`, `scores`."""

    boxes: np.ndarray
    scores: np.ndarray

    def as_rows(self, digits: int = 1) -> list[dict[str, float]]:
        """JSON-friendly `{x1, y1, x2, y2, score}` rows."""
        return [
            {
                **dict(zip(("x1", "y1", "x2", "y2"), np.round(box, digits).tolist(), strict=True)),
                "score": round(float(score), 4),
            }
            for box, score in zip(self.boxes, self.scores, strict=True)
        ]


def input_size(model: Any) -> tuple[int, int]:
    shape = model.inputs[0].shape
    return int(shape[1]), int(shape[2])


def resize_batch(images: list[np.ndarray], size: tuple[int, int]) -> np.ndarray:
    """float32 0-255 batch, resized exactly as `pipeline.core.tfdata.image_dataset` does."""
    import tensorflow as tf

    resized = [tf.cast(tf.image.resize(image, size), tf.uint8) for image in images]
    return tf.cast(tf.stack(resized), tf.float32).numpy()


def detect(
    model: Any,
    images: list[np.ndarray],
    *,
    min_score: float,
    max_detections: int,
    batch_size: int = 16,
) -> list[Detections]:
    """Detections of `model` on RGB uint8 images (any sizes), one `Detections` per image."""
    rows, cols = input_size(model)
    detector = detector_of(model)
    found: list[Detections] = []
    for start in range(0, len(images), batch_size):
        chunk = images[start : start + batch_size]
        batch = resize_batch(chunk, (rows, cols))
        decoded = detector.decode(model, batch, min_score, max_detections)
        for image, (boxes, scores) in zip(chunk, decoded, strict=True):
            kept = box_ops.suppress_overlaps(boxes, scores, OVERLAP_IOU)
            boxes, scores = boxes[kept], scores[kept]
            height, width = image.shape[:2]
            boxes = box_ops.clip(box_ops.scale(boxes, width / cols, height / rows), width, height)
            found.append(Detections(boxes, scores))
    return found
