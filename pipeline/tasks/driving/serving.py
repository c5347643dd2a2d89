"""The logged steering model: encoded frames of any size in, one steering angle each out.

An MLflow model from code: MLflow loads this file instead of unpickling an object; the Keras
model (loaded with `safe_mode`) is the logged model's artifact and holds its own
preprocessing (crop, resize, colour space, scaling), so serving only decodes the images and
brings them to the simulator's 320x160. `angles` is the fast path for a live simulator
(`pipeline drive`): a batch of frames straight into one compiled Keras call.
"""

from __future__ import annotations

from typing import Any

import mlflow
import mlflow.pyfunc
import numpy as np
import pandas as pd

from pipeline.core.serving import rgb_images
from pipeline.tasks.driving.model import FRAME_SHAPE  # the simulator's: height, width, RGB
from pipeline.tasks.driving.preprocess import to_frame

BATCH = 64  # frames per model call in `predict`: a large request never holds all at once


class Steering(mlflow.pyfunc.PythonModel):  # type: ignore[name-defined]
    def load_context(self, context: Any) -> None:
        import keras
        import tensorflow as tf

        model = keras.models.load_model(context.artifacts["model"], safe_mode=True, compile=False)
        self.model = model

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

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict | None = None
    ) -> pd.DataFrame:
        # Annotated as DataFrame (what MLflow passes when served) so MLflow skips its list[...]
        # schema inference and its warning; rgb_images also takes bytes, arrays or lists.
        images = rgb_images(model_input)
        angles = [
            self.angles(np.stack([to_frame(image) for image in images[start : start + BATCH]]))
            for start in range(0, len(images), BATCH)
        ]
        steering = np.concatenate(angles) if angles else np.zeros(0, np.float32)
        return pd.DataFrame({"steering": steering.astype(np.float64)})


mlflow.models.set_model(Steering())
