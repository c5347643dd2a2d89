"""How `pipeline predict driving` reads the model's answer: one steering angle per frame."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.tasks.base import PredictOption

if TYPE_CHECKING:
    import pandas as pd

OPTIONS: tuple[PredictOption, ...] = ()


def prediction_lines(
    images: list[Path], predictions: pd.DataFrame, options: dict[str, Any]
) -> list[str]:
    """`path: steering +0.1234` per frame (frames of other sizes were resized to 320x160)."""
    return [
        f"{path}: steering {float(angle):+.4f}"
        for path, angle in zip(images, predictions["steering"], strict=True)
    ]
