"""Read the text of detected plate boxes: what `pipeline predict plates --read` calls."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import cv2
import numpy as np
import pandas as pd

from pipeline.core.serving import decode_rgb
from pipeline.tasks.plates_text.crops import cut

MARGIN = 0.05  # as augment.plates_text.margin's default: detector boxes are cut like true ones

Box = Mapping[str, float] | Sequence[float]  # {x1, y1, x2, y2, ...} or (x1, y1, x2, y2)


def _corners(box: Box) -> tuple[float, float, float, float]:
    if isinstance(box, Mapping):
        return float(box["x1"]), float(box["y1"]), float(box["x2"]), float(box["y2"])
    x1, y1, x2, y2 = (float(v) for v in list(box)[:4])
    return x1, y1, x2, y2


def read_boxes_scored(
    image_bytes: bytes, boxes: Sequence[Box], reader_model: Any, margin: float = MARGIN
) -> list[tuple[str | None, float | None]]:
    """The text and score of each pixel box of one encoded photo, read in one batch by
    `reader_model` (the `plates_text` pyfunc: DataFrame `image` of crop bytes -> `text`,
    `score`); (None, None) for a box with no pixels inside the photo."""
    if not boxes:
        return []
    image = decode_rgb(image_bytes)
    crops: list[bytes | None] = []
    for box in boxes:
        try:
            crop = cut(image, _corners(box), margin)
        except ValueError:
            crops.append(None)
            continue
        ok, png = cv2.imencode(".png", cv2.cvtColor(np.ascontiguousarray(crop), cv2.COLOR_RGB2BGR))
        crops.append(png.tobytes() if ok else None)
    readable = [c for c in crops if c is not None]
    if not readable:
        return [(None, None)] * len(crops)
    read = reader_model.predict(pd.DataFrame({"image": readable}))
    answers = iter(zip(read["text"], read["score"], strict=True))
    return [(None, None) if c is None else next(answers) for c in crops]
