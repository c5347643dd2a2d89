"""Checks of the plate-text manifest (text and box), as derived columns and expectations.

The image checks come from core (`check_image_*`, computed before these), which is why the
box size in pixels can be checked here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pipeline.tasks.plates.formats.text import CHARSET
from pipeline.tasks.plates_text.params import PlateTextValidateParams

BOX_TOLERANCE = 0.01  # YOLO rounding outside [0, 1]


def _box_columns(manifest: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lowest corner value, highest corner value, smaller side in pixels) per row."""
    low, high, side = [], [], []
    for box, width, height in zip(
        manifest["box"], manifest["check_image_width"], manifest["check_image_height"], strict=True
    ):
        if box is None or len(box) != 4:
            low.append(np.nan)
            high.append(np.nan)
            side.append(np.nan)
            continue
        cx, cy, w, h = (float(v) for v in box)
        corners = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
        low.append(min(corners))
        high.append(max(corners))
        known = width is not None and height is not None and not pd.isna(width)
        side.append(min(w * float(width), h * float(height)) if known else np.nan)
    return np.array(low), np.array(high), np.array(side)


def label_checks(manifest: pd.DataFrame, params: PlateTextValidateParams) -> pd.DataFrame:
    allowed = set(CHARSET)
    targets = manifest["target"]
    length = [len(t) if isinstance(t, str) else np.nan for t in targets]
    foreign = ["".join(sorted(set(t) - allowed)) if isinstance(t, str) else None for t in targets]
    low, high, side = _box_columns(manifest)
    return manifest.assign(
        check_text_length=length,
        check_text_foreign=[None if f is None else len(f) for f in foreign],
        check_box_low=low,
        check_box_high=high,
        check_box_side_pixels=side,
    )


def expectations(params: PlateTextValidateParams) -> list[Any]:
    import great_expectations as gx

    E = gx.expectations
    text = {"intent": "label"}
    return [
        # label: a plate has text, and no plate text is longer than a handful of characters
        E.ExpectColumnValuesToBeBetween(
            column="check_text_length",
            min_value=params.min_length,
            max_value=params.max_length,
            meta={
                **text,
                "reason": f"plate text length not in {params.min_length}-{params.max_length}",
            },
        ),
        # label: only digits, plate letters and the line dash (a recogniser cannot emit others)
        E.ExpectColumnValuesToBeInSet(
            column="check_text_foreign",
            value_set=[0],
            meta={**text, "reason": f"plate text has characters outside {CHARSET}"},
        ),
        # label: the crop is cut with the box, so it must lie in the image
        E.ExpectColumnValuesToBeBetween(
            column="check_box_low",
            min_value=-BOX_TOLERANCE,
            meta={**text, "reason": "box outside the image"},
        ),
        E.ExpectColumnValuesToBeBetween(
            column="check_box_high",
            max_value=1 + BOX_TOLERANCE,
            meta={**text, "reason": "box outside the image"},
        ),
        # label: a box a few pixels across holds no readable text
        E.ExpectColumnValuesToBeBetween(
            column="check_box_side_pixels",
            min_value=params.min_box_pixels,
            meta={**text, "reason": f"plate box under {params.min_box_pixels} px"},
        ),
    ]
