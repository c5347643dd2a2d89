"""The book's driving code, re-created faithfully as the driving rows' baselines.

Each function does what the book's code does, one frame at a time in Python, so that the
benchmarks compare approaches, not implementations of different things.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np


def preprocess_frame(rgb: np.ndarray, crop_top: int, crop_bottom: int) -> np.ndarray:
    """The book's preprocessing: crop sky and hood, resize to 66x200, RGB -> YUV."""
    cropped = rgb[crop_top : rgb.shape[0] - crop_bottom]
    resized = cv2.resize(cropped, (200, 66), interpolation=cv2.INTER_LINEAR)
    return cv2.cvtColor(resized, cv2.COLOR_RGB2YUV)


def driving_batches(
    root: Path,
    paths: list[str],
    angles: np.ndarray,
    batch_size: int,
    *,
    augment: bool,
    rng: np.random.Generator,
    crop: tuple[int, int] = (60, 25),
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """A Python generator: read each frame with OpenCV, augment, preprocess, yield batches."""
    for start in range(0, len(paths), batch_size):
        images, targets = [], []
        for path, angle in zip(
            paths[start : start + batch_size], angles[start : start + batch_size], strict=True
        ):
            bgr = cv2.imread(str(root / path))
            if bgr is None:
                raise FileNotFoundError(root / path)
            image = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            if augment:
                if rng.random() < 0.5:
                    image, angle = cv2.flip(image, 1), -angle
                hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV).astype(np.float32)
                hsv[..., 2] = np.clip(hsv[..., 2] * rng.uniform(0.6, 1.4), 0, 255)
                image = cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB)
            images.append(preprocess_frame(image, *crop))
            targets.append(angle)
        yield np.asarray(images, np.float32), np.asarray(targets, np.float32)


def predict_frames_one_by_one(model: Any, frames: np.ndarray) -> np.ndarray:
    return np.concatenate([model.predict(frame[None], verbose=0) for frame in frames])
