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

from pipeline.core.serving import decode_rgb, images_of

BEAM = 1  # greedy decoding unless a request asks for a beam


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

        from pipeline.tasks.captions.features import resized

        decoded = []
        for index, data in enumerate(images):
            try:
                image = decode_rgb(data)  # as the features stage decodes
            except ValueError as err:
                raise ValueError(f"image {index}: {err}") from None
            decoded.append(resized(tf.constant(image), self.size))
        return self.extractor(tf.stack(decoded), training=False).numpy()

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict | None = None
    ) -> pd.DataFrame:
        # Annotated as DataFrame (what MLflow passes when served) so MLflow skips its list[...]
        # schema inference and its warning; images_of also takes bytes, arrays or lists.
        beam = int((params or {}).get("beam", BEAM))
        if beam < 1:
            raise ValueError(f"beam must be 1 (greedy) or more, got {beam}")
        images = images_of(model_input)
        captions = self.decoder.captions(self.features(images), beam) if images else []
        return pd.DataFrame({"caption": captions})


mlflow.models.set_model(Captioner())
