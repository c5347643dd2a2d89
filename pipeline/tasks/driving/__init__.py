"""Udacity simulator recordings: steering-angle regression from camera frames."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from pipeline.core.splits import SPLITS
from pipeline.tasks import models
from pipeline.tasks.base import PredictOption, PrimaryMetric, Task
from pipeline.tasks.driving import augment as augmenting
from pipeline.tasks.driving import checks, exporting, ingest, predicting, sample, summary, training
from pipeline.tasks.driving import evaluate as evaluating
from pipeline.tasks.driving.params import (
    DrivingAugmentParams,
    DrivingEvaluateParams,
    DrivingExportParams,
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
        "export": DrivingExportParams,
    }
    image_columns = ("center", "left", "right")
    group_column = "segment"
    label_columns = ("steering", "throttle", "brake", "speed", "recording", "log")
    # frames at a split boundary, and frames a second log lists again: in no split
    splits = (*SPLITS, "guard", "duplicate")
    primary_metric: ClassVar[PrimaryMetric] = evaluating.PRIMARY
    predict_options: ClassVar[tuple[PredictOption, ...]] = predicting.OPTIONS

    write_sample = staticmethod(sample.write_sample)
    read_raw = staticmethod(ingest.read_raw)
    label_checks = staticmethod(checks.label_checks)
    expectations = staticmethod(checks.expectations)
    summarize = staticmethod(summary.summarize)
    augment = staticmethod(augmenting.augment)
    write_augment_reports = staticmethod(augmenting.write_augment_reports)
    fit = staticmethod(training.fit)
    load_model = staticmethod(models.load_model)
    log_model = staticmethod(training.log_model)
    evaluate = staticmethod(evaluating.evaluate)
    prediction_lines = staticmethod(predicting.prediction_lines)
    export_ready = staticmethod(exporting.export_ready)
    export_data = staticmethod(exporting.export_data)
    serve_exported = staticmethod(exporting.serve_exported)

    def commands(self) -> list[Callable[..., None]]:
        """`pipeline drive`: the champion drives the Udacity simulator (the `drive` extra)."""
        from pipeline.tasks.driving.drive.command import drive

        return [drive]
