"""The logged steering model: encoded frames of any size in, one steering angle each out.

The Keras model (loaded in safe mode) holds its own preprocessing (crop, resize, colour
space, scaling), so serving only brings the frames to the simulator's 320x160. `angles` is
the fast path for a live simulator (`pipeline drive`): a batch of frames straight into one
compiled Keras call.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd

from pipeline.core.pyfunc import ImageModel
from pipeline.tasks.driving.model import FRAME_SHAPE  # the simulator's: height, width, RGB
from pipeline.tasks.driving.preprocess import to_frame

BATCH = 64  # frames per model call in `predict`: a large request never holds all at once


class Steering(ImageModel):
    task = "driving"
    outputs = {"steering": "double"}

    def load(self, artifacts: dict[str, Path]) -> None:
        import tensorflow as tf

        from pipeline.tasks.models import load_saved

        model = self.model = load_saved(artifacts["model"])

        # One signature, traced once here: every batch size reuses the same graph.
        @tf.function(input_signature=[tf.TensorSpec((None, *FRAME_SHAPE), tf.uint8)])
        def call(frames: tf.Tensor) -> tf.Tensor:
            return model(tf.cast(frames, tf.float32), training=False)

        self._call = call
        self.angles(np.zeros((1, *FRAME_SHAPE), np.uint8))  # warm-up: the first call traces

    def angles(self, frames: np.ndarray) -> np.ndarray:
        """Steering angles (float32, shape (N,)) of a batch of RGB uint8 (N, 160, 320, 3)
        frames, in one call of the compiled model."""
        frames = np.asarray(frames)
        if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[1:] != FRAME_SHAPE:
            raise ValueError(
                f"expected RGB uint8 frames of shape (N, {', '.join(map(str, FRAME_SHAPE))}), "
                f"got {frames.dtype} {frames.shape}"
            )
        if len(frames) == 0:
            return np.zeros(0, np.float32)
        return np.asarray(self._call(frames)).reshape(len(frames)).astype(np.float32)

    def answer(self, images: list[np.ndarray], params: dict[str, Any]) -> pd.DataFrame:
        angles = [
            self.angles(np.stack([to_frame(image) for image in images[start : start + BATCH]]))
            for start in range(0, len(images), BATCH)
        ]
        steering = np.concatenate(angles) if angles else np.zeros(0, np.float32)
        return pd.DataFrame({"steering": steering.astype(np.float64)})


MODEL = Steering()
mlflow.models.set_model(MODEL)
