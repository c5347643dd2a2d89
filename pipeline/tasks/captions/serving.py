"""The logged captions model: raw images in, captions out (an MLflow model from code).

MLflow loads this file instead of unpickling an object. The feature extractor, the merge
model and the tokenizer are artifacts of the logged model, so nothing is recomputed or
looked up elsewhere at serving time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mlflow
import mlflow.pyfunc
import numpy as np
import pandas as pd


def _encoded(image: Any) -> bytes:
    """JPEG/PNG bytes as they are; an RGB array encoded losslessly as PNG."""
    if isinstance(image, bytes | bytearray):
        return bytes(image)
    import cv2

    array = np.asarray(image)
    if array.ndim != 3 or array.shape[-1] != 3:
        raise ValueError(f"expected an RGB image of shape (h, w, 3), got {array.shape}")
    ok, png = cv2.imencode(".png", cv2.cvtColor(array.astype(np.uint8), cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError("could not encode the image array")
    return png.tobytes()


def images_of(model_input: Any) -> list[bytes]:
    """Accept a DataFrame with an `image` column, bytes, an array, or a list of either."""
    if isinstance(model_input, pd.DataFrame):
        items = list(model_input["image"])
    elif isinstance(model_input, bytes | bytearray) or (
        isinstance(model_input, np.ndarray) and model_input.ndim == 3
    ):
        items = [model_input]
    else:
        items = list(model_input)
    return [_encoded(item) for item in items]


class Captioner(mlflow.pyfunc.PythonModel):  # type: ignore[name-defined]
    def load_context(self, context: Any) -> None:
        import keras

        from pipeline.tasks.captions.decode import Decoder
        from pipeline.tasks.captions.text import Tokenizer

        self.extractor = keras.models.load_model(context.artifacts["extractor"], safe_mode=True)
        model = keras.models.load_model(context.artifacts["captioner"], safe_mode=True)
        tokenizer = Tokenizer.load(Path(context.artifacts["tokenizer"]))
        self.decoder = Decoder(model, tokenizer)
        self.size = int(self.extractor.inputs[0].shape[1])

    def features(self, images: list[bytes]) -> np.ndarray:
        import tensorflow as tf

        from pipeline.tasks.captions.features import decode_resized

        batch = tf.stack([decode_resized(tf.constant(data), self.size) for data in images])
        return self.extractor(batch, training=False).numpy()

    def predict(self, context: Any, model_input: Any, params: dict | None = None) -> pd.DataFrame:
        beam = int((params or {}).get("beam", 1))
        images = images_of(model_input)
        captions = self.decoder.captions(self.features(images), beam) if images else []
        return pd.DataFrame({"caption": captions})


mlflow.models.set_model(Captioner())
