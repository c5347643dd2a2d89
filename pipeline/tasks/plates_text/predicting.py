"""How the reader answers `pipeline predict`: on plate crops (`predict plates_text CROP`), and
on each box the detector found (`predict plates --read`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.tasks.base import PredictOption, Refinement

if TYPE_CHECKING:
    import pandas as pd

REFINEMENT = Refinement(of="plates", when="read", model_option="reader")
OPTIONS: tuple[PredictOption, ...] = ()


def prediction_lines(
    images: list[Path], predictions: pd.DataFrame, options: dict[str, Any]
) -> list[str]:
    """`crop.png: 59T1-59973 (score 0.93)` per plate crop; an empty reading says so."""
    return [
        f"{path}: {text or '(no text read)'} (score {float(score):.2f})"
        for path, text, score in zip(images, predictions["text"], predictions["score"], strict=True)
    ]


def refine(images: list[Path], predictions: pd.DataFrame, model: Any) -> pd.DataFrame:
    """The detector's `boxes` (JSON rows per image) with `text` and `text_score` added to
    each box: the reader reads the crops of each image in one batch."""
    from pipeline.tasks.plates_text.boxes import read_boxes_scored

    boxes = []
    for path, rows_json in zip(images, predictions["boxes"], strict=True):
        rows = json.loads(rows_json)
        readings = read_boxes_scored(path.read_bytes(), rows, model)
        for row, (text, score) in zip(rows, readings, strict=True):
            row["text"], row["text_score"] = text, score
        boxes.append(json.dumps(rows))
    return predictions.assign(boxes=boxes)
