"""Image embeddings for the embedding-drift test: the project's shared backbone, or pixels.

The backbone (`models/backbone/backbone.weights.h5`, the self-supervised weights `pipeline
pretrain` writes, through `core.backbones`) sees content: a new camera, another track, blur.
Without it (or in tests, where TensorFlow costs seconds) a fixed embedding stands in: the
image shrunk to 8 x 8 RGB pixels, which sees layout and colour but not fine texture (the
per-image sharpness statistic covers that). A profile names which one it holds and keeps
the pixel one always, so that a serving trail, which stores no images, can be compared too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from pipeline.core.backbones import SELFSUP_WEIGHTS
from pipeline.core.model_params import BackboneParams

PIXELS, BACKBONE = "pixels", "backbone"
PIXEL_GRID = 8
BACKBONE_SIZE = 96  # input side: the self-supervised backbone was trained at 64-96 px
BATCH = 32

Embedder = Callable[[Sequence[np.ndarray]], np.ndarray]


def pixel_embedding(rgb: np.ndarray) -> np.ndarray:
    """The image shrunk to PIXEL_GRID x PIXEL_GRID RGB, scaled to [0, 1], flattened."""
    import cv2

    small = cv2.resize(rgb, (PIXEL_GRID, PIXEL_GRID), interpolation=cv2.INTER_AREA)
    return (small.astype(np.float32) / 255.0).reshape(-1)


def pixel_embeddings(images: Sequence[np.ndarray]) -> np.ndarray:
    if not images:
        return np.zeros((0, PIXEL_GRID * PIXEL_GRID * 3), np.float32)
    return np.stack([pixel_embedding(image) for image in images])


def backbone_embedder(
    params: BackboneParams | None = None, weights: Path = SELFSUP_WEIGHTS
) -> Embedder | None:
    """Global-average-pooled features of the shared backbone, or None when its weights file
    is not there (then the caller falls back to pixels and says so)."""
    if not weights.is_file():
        return None
    import cv2
    import keras

    from pipeline.core.backbones import build_backbone

    base = (params or BackboneParams()).model_copy(update={"weights": "selfsup"})
    features = build_backbone(base, (BACKBONE_SIZE, BACKBONE_SIZE, 3), selfsup_weights=weights)
    model = keras.Sequential([features, keras.layers.GlobalAveragePooling2D()])

    def embed(images: Sequence[np.ndarray]) -> np.ndarray:
        out = []
        for start in range(0, len(images), BATCH):
            batch = np.stack(
                [
                    cv2.resize(image, (BACKBONE_SIZE, BACKBONE_SIZE), interpolation=cv2.INTER_AREA)
                    for image in images[start : start + BATCH]
                ]
            ).astype(np.float32)
            out.append(np.asarray(model(batch, training=False)))
        return np.concatenate(out) if out else np.zeros((0, 0), np.float32)

    return embed
