"""The logged shapes model: images in, `shape` (circle or square) out."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import mlflow
import numpy as np
import pandas as pd

from pipeline.core.pyfunc import ImageModel

if TYPE_CHECKING:
    import keras

SIZE = 32  # as the package's SIZE (this file is loaded on its own by MLflow)


def squares(model: keras.Model, images: list[np.ndarray]) -> np.ndarray:
    """Whether each RGB image shows a square, by the model."""
    import cv2

    if not images:
        return np.zeros(0, bool)
    batch = np.stack(
        [cv2.resize(image, (SIZE, SIZE), interpolation=cv2.INTER_LINEAR) for image in images]
    )
    return np.asarray(model(batch.astype(np.float32), training=False)).reshape(-1) > 0.5


class ShapeModel(ImageModel):
    task = "shapes"
    outputs = {"shape": "string"}

    def load(self, artifacts: dict[str, Path]) -> None:
        from pipeline.tasks.models import load_saved

        self.model = load_saved(artifacts["model"])

    def answer(self, images: list[np.ndarray], params: dict[str, Any]) -> pd.DataFrame:
        return pd.DataFrame({"shape": np.where(squares(self.model, images), "square", "circle")})


MODEL = ShapeModel()
mlflow.models.set_model(MODEL)
