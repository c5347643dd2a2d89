"""The logged plate reader: plate crops in, `text` and `score` out.

The Keras reader (loaded in safe mode) and `reader.json` (charset, crop geometry) are the
logged model's artifacts. A crop of any size is made one-line as in training (two-line
plates: halves side by side).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd

from pipeline.core.pyfunc import ImageModel


class Reader(ImageModel):
    task = "plates_text"
    outputs = {"text": "string", "score": "double"}

    def load(self, artifacts: dict[str, Path]) -> None:
        from pipeline.tasks.models import load_saved

        self.config = json.loads(artifacts["config"].read_text())
        self.model = load_saved(artifacts["reader"])

    def answer(self, images: list[np.ndarray], params: dict[str, Any]) -> pd.DataFrame:
        from pipeline.tasks.plates_text.reading import read_crops

        texts, scores = read_crops(self.model, images, self.config["charset"])
        return pd.DataFrame({"text": texts, "score": [float(s) for s in scores]})


MODEL = Reader()
mlflow.models.set_model(MODEL)
