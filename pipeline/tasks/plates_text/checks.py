"""Checks of the plate-text manifest (text and box), as derived columns and expectations.

The image checks come from core (`check_image_*`, computed before these), which is why the
box size in pixels can be checked here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pipeline.core.label_rules import between, none_of
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
    low, high = params.min_length, params.max_length
    return [
        # a plate has text, and no plate text is longer than a handful of characters
        between("check_text_length", f"plate text length not in {low}-{high}", low, high),
        # only digits, plate letters and the line dash (a recogniser cannot emit others)
        none_of("check_text_foreign", f"plate text has characters outside {CHARSET}"),
        # the crop is cut with the box, so it must lie in the image
        between("check_box_low", "box outside the image", low=-BOX_TOLERANCE),
        between("check_box_high", "box outside the image", high=1 + BOX_TOLERANCE),
        # a box a few pixels across holds no readable text
        between(
            "check_box_side_pixels",
            f"plate box under {params.min_box_pixels} px",
            low=params.min_box_pixels,
        ),
    ]
