"""The logged plate detector: encoded images of any size in, boxes in their pixels out.

An MLflow model from code: MLflow loads this file instead of unpickling an object; the
Keras detector (loaded with `safe_mode`) and its config are the logged model's artifacts.
Each output row is one image: `count` plates and `boxes`, a JSON list of
`{x1, y1, x2, y2, score}` in that image's pixel coordinates, best first.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import mlflow
import mlflow.pyfunc
import pandas as pd

from pipeline.core.serving import rgb_images

MIN_SCORE = 0.3


def extra_packages(detector: str) -> tuple[str, ...]:
    """What serving needs besides the common packages: keras-hub for RetinaNet."""
    return ("keras-hub",) if detector == "retinanet" else ()


class Detector(mlflow.pyfunc.PythonModel):  # type: ignore[name-defined]
    def load_context(self, context: Any) -> None:
        from pipeline.tasks.plates.detectors import load_detector

        config_file = Path(context.artifacts["config"])
        self.config = json.loads(config_file.read_text())
        self.model = load_detector(Path(context.artifacts["detector"]), config_file.parent)

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict | None = None
    ) -> pd.DataFrame:
        # Annotated as DataFrame (what MLflow passes when served) so MLflow skips its list[...]
        # schema inference and its warning; rgb_images also takes bytes, arrays or lists.
        from pipeline.tasks.plates.inference import detect

        min_score = float((params or {}).get("min_score", MIN_SCORE))
        if not 0.0 <= min_score <= 1.0:
            raise ValueError(f"min_score must be between 0 and 1, got {min_score}")
        images = rgb_images(model_input)
        found = detect(
            self.model,
            images,
            min_score=min_score,
            max_detections=int(self.config["max_detections"]),
        )
        return pd.DataFrame(
            {
                "count": [len(d.scores) for d in found],
                "boxes": [json.dumps(d.as_rows()) for d in found],
            }
        )


mlflow.models.set_model(Detector())
