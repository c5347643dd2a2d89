"""The logged plate detector: encoded images of any size in, boxes in their pixels out.

The Keras detector (loaded in safe mode) and its config are the logged model's artifacts.
Each output row is one image: `count` plates and `boxes`, a JSON list of
`{x1, y1, x2, y2, score}` in that image's pixel coordinates, best first.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd

from pipeline.core.pyfunc import ImageModel

MIN_SCORE = 0.3


def extra_packages(detector: str) -> tuple[str, ...]:
    """What serving needs besides the common packages: keras-hub for RetinaNet."""
    return ("keras-hub",) if detector == "retinanet" else ()


class Detector(ImageModel):
    task = "plates"
    outputs = {"count": "long", "boxes": "string"}
    params = {"min_score": MIN_SCORE}

    def load(self, artifacts: dict[str, Path]) -> None:
        from pipeline.tasks.plates.detectors import load_detector

        self.config = json.loads(artifacts["config"].read_text())
        self.model = load_detector(artifacts["detector"], artifacts["config"].parent)

    def answer(self, images: list[np.ndarray], params: dict[str, Any]) -> pd.DataFrame:
        from pipeline.tasks.plates.inference import detect

        min_score = float(params["min_score"])
        if not 0.0 <= min_score <= 1.0:
            raise ValueError(f"min_score must be between 0 and 1, got {min_score}")
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


MODEL = Detector()
mlflow.models.set_model(MODEL)
