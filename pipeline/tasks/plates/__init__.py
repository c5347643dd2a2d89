"""Licence plates (labelImg, Ultralytics/Roboflow or GreenParking layouts): plate detection."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.tasks.base import PrimaryMetric, Task
from pipeline.tasks.plates.params import (
    PlatesAugmentParams,
    PlatesEvaluateParams,
    PlatesIngestParams,
    PlatesSampleParams,
    PlatesTrainParams,
    PlatesValidateParams,
)

if TYPE_CHECKING:
    import pandas as pd


class Plates(Task):
    name = "plates"
    params = {
        "sample": PlatesSampleParams,
        "ingest": PlatesIngestParams,
        "validate": PlatesValidateParams,
        "augment": PlatesAugmentParams,
        "train": PlatesTrainParams,
        "evaluate": PlatesEvaluateParams,
    }
    image_columns = ("image",)
    group_column = "photo"  # copies an export made of one photo share a split
    primary_metric = PrimaryMetric("test_ap50", greater_is_better=True)

    def summarize(self, manifest: pd.DataFrame, valid: pd.DataFrame) -> dict[str, Any]:
        """Which layout each dataset folder was read as, and what came from it."""
        return self._module("formats.report").summarize(manifest, valid)

    def load_model(self, model_path: Path, assets_dir: Path) -> Any:
        return self._module("training").load_detector(model_path, assets_dir)
