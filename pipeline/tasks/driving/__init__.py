"""Udacity simulator recordings: steering-angle regression from camera frames."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pipeline.core.splits import SPLITS
from pipeline.tasks.base import PrimaryMetric, Task
from pipeline.tasks.driving.params import (
    DrivingAugmentParams,
    DrivingEvaluateParams,
    DrivingIngestParams,
    DrivingSampleParams,
    DrivingTrainParams,
    DrivingValidateParams,
)

if TYPE_CHECKING:
    import pandas as pd


class Driving(Task):
    name = "driving"
    params = {
        "sample": DrivingSampleParams,
        "ingest": DrivingIngestParams,
        "validate": DrivingValidateParams,
        "augment": DrivingAugmentParams,
        "train": DrivingTrainParams,
        "evaluate": DrivingEvaluateParams,
    }
    image_columns = ("center", "left", "right")
    group_column = "segment"
    # frames at a split boundary, and frames a second log lists again: in no split
    splits = (*SPLITS, "guard", "duplicate")
    primary_metric = PrimaryMetric("test_mse", greater_is_better=False)

    def summarize(self, manifest: pd.DataFrame, valid: pd.DataFrame) -> dict[str, Any]:
        from pipeline.tasks.driving.summary import summarize

        return summarize(manifest, valid)
