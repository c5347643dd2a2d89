"""How `pipeline predict captions` reads the model's answer: one caption per image."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.tasks.base import PredictOption

if TYPE_CHECKING:
    import pandas as pd

OPTIONS: tuple[PredictOption, ...] = (
    PredictOption("beam", int, 1, "beam size; 1 = greedy", min=1),
)


def prediction_lines(
    images: list[Path], predictions: pd.DataFrame, options: dict[str, Any]
) -> list[str]:
    """`path: caption` per image."""
    return [
        f"{path}: {caption}" for path, caption in zip(images, predictions["caption"], strict=True)
    ]
