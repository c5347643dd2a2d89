"""Vietnamese motorbike licence plates in YOLO format: single-class detection."""

from pathlib import Path
from typing import Any

from pipeline.tasks.base import PrimaryMetric, Task
from pipeline.tasks.plates.params import (
    PlatesAugmentParams,
    PlatesEvaluateParams,
    PlatesIngestParams,
    PlatesSampleParams,
    PlatesTrainParams,
    PlatesValidateParams,
)


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
    group_column = "stem"
    primary_metric = PrimaryMetric("test_ap50", greater_is_better=True)

    def load_model(self, model_path: Path, assets_dir: Path) -> Any:
        return self._module("training").load_detector(model_path, assets_dir)
