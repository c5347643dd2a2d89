"""The logged plate reader: plate crop bytes in, `text` and `score` out (a model from code).

MLflow loads this file instead of unpickling an object; the Keras reader (loaded in safe
mode) and `reader.json` (charset, crop geometry) are the logged model's artifacts. A crop
of any size is made one-line as in training (two-line plates: halves side by side).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import mlflow
import mlflow.pyfunc
import pandas as pd

from pipeline.core.serving import decode_rgb, images_of


class Reader(mlflow.pyfunc.PythonModel):  # type: ignore[name-defined]
    def load_context(self, context: Any) -> None:
        from pipeline.tasks.models import load_saved

        self.config = json.loads(Path(context.artifacts["config"]).read_text())
        self.model = load_saved(Path(context.artifacts["reader"]))

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict | None = None
    ) -> pd.DataFrame:
        # Annotated as DataFrame (what MLflow passes when served) so MLflow skips its list[...]
        # schema inference and its warning; images_of also takes bytes, arrays or lists.
        from pipeline.tasks.plates_text.reading import read_crops

        crops = [decode_rgb(data) for data in images_of(model_input)]
        texts, scores = read_crops(self.model, crops, self.config["charset"])
        return pd.DataFrame({"text": texts, "score": [float(s) for s in scores]})


mlflow.models.set_model(Reader())
