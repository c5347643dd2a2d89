"""Udacity simulator recordings: steering-angle regression from camera frames."""

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
    splits = (*SPLITS, "guard")  # frames at a split boundary, kept out of every split
    primary_metric = PrimaryMetric("test_mse", greater_is_better=False)
