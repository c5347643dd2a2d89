"""Plates drawn on their image, for people to look at."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from pipeline.core.images import ImageDecodeError, read_image
from pipeline.core.io import atomic_file

GREEN, RED = (40, 200, 40), (230, 40, 40)  # RGB


def draw(image: np.ndarray, rows: list[dict], colour: tuple[int, int, int] = RED) -> np.ndarray:
    """A copy of the RGB `image` with `{x1, y1, x2, y2[, score][, text]}` boxes, their
    scores and the plate text read in each."""
    drawn = image.copy()
    thickness = max(1, round(min(image.shape[:2]) / 200))
    for row in rows:
        top_left = (round(row["x1"]), round(row["y1"]))
        cv2.rectangle(drawn, top_left, (round(row["x2"]), round(row["y2"])), colour, thickness)
        if "score" in row or row.get("text"):
            label = " ".join(
                part
                for part in (row.get("text") or "", f"{row['score']:.2f}" if "score" in row else "")
                if part
            )
            origin = (top_left[0], max(top_left[1] - 4, 10))
            cv2.putText(
                drawn, label, origin, cv2.FONT_HERSHEY_SIMPLEX, 0.4 * thickness, colour, thickness
            )
    return drawn


def write_drawn(source: Path, rows: list[dict], target: Path) -> None:
    """`source` with its boxes drawn, written atomically to `target` (PNG)."""
    try:
        drawn = draw(read_image(source), rows)
    except ImageDecodeError as err:
        raise ValueError(f"cannot decode {source} ({err})") from None
    with atomic_file(target) as tmp:
        ok, png = cv2.imencode(".png", cv2.cvtColor(drawn, cv2.COLOR_RGB2BGR))
        if not ok:
            raise ValueError(f"cannot encode {target}")
        tmp.write_bytes(png.tobytes())
