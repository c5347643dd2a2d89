"""The logged captions model: raw images in, captions out.

The feature extractor, the merge model and the tokenizer are artifacts of the logged
model, so nothing is recomputed or looked up elsewhere at serving time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd

from pipeline.core.pyfunc import ImageModel

BEAM = 1  # greedy decoding unless a request asks for a beam


class Captioner(ImageModel):
    task = "captions"
    outputs = {"caption": "string"}
    params = {"beam": BEAM}

    def load(self, artifacts: dict[str, Path]) -> None:
        from pipeline.tasks.captions.decode import Decoder
        from pipeline.tasks.captions.text import Tokenizer
        from pipeline.tasks.models import load_saved

        self.extractor = load_saved(artifacts["extractor"])
        tokenizer = Tokenizer.load(artifacts["tokenizer"])
        self.decoder = Decoder(load_saved(artifacts["captioner"]), tokenizer)
        self.size = int(self.extractor.inputs[0].shape[1])

    def features(self, images: list[np.ndarray]) -> np.ndarray:
        import tensorflow as tf

        from pipeline.tasks.captions.features import resized

        resized_images = [resized(tf.constant(image), self.size) for image in images]
        return self.extractor(tf.stack(resized_images), training=False).numpy()

    def answer(self, images: list[np.ndarray], params: dict[str, Any]) -> pd.DataFrame:
        beam = int(params["beam"])
        if beam < 1:
            raise ValueError(f"beam must be 1 (greedy) or more, got {beam}")
        captions = self.decoder.captions(self.features(images), beam) if images else []
        return pd.DataFrame({"caption": captions})


MODEL = Captioner()
mlflow.models.set_model(MODEL)
