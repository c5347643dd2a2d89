"""Udacity simulator recordings: steering-angle regression from camera frames."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from pipeline.core.dvc_plots import curve, loss_history
from pipeline.core.splits import SPLITS
from pipeline.tasks import models
from pipeline.tasks.base import PredictOption, PrimaryMetric, Task
from pipeline.tasks.driving import augment as augmenting
from pipeline.tasks.driving import (
    checks,
    exporting,
    ingest,
    predicting,
    sample,
    summary,
    training,
)
from pipeline.tasks.driving import evaluate as evaluating


class Driving(Task):
    name = "driving"
    sample_size = "frames"
    plots = (
        loss_history(
            "Steering model: training and validation loss",
            "loss (MSE, steering²; steering in [-1, 1])",
            "epoch (from 0, over both training phases)",
        ),
        curve(
            "augment/steering_histogram.json",
            "steering",
            "count",
            "Steering angles of the train split, before and after augmentation",
            "steering (bin centre, -1 = full left, 1 = full right)",
            "frames (count)",
            template="before_after_histogram",
        ),
        curve(
            "evaluation/predictions.json",
            "frame",
            ["actual", "predicted"],
            "Steering on the test split: true and predicted",
            "test frame (time order, from 0)",
            "steering (-1 = full left, 1 = full right)",
        ),
        "augment/steering_histogram.png",
        "evaluation/steering_over_time.png",
        "evaluation/predicted_vs_true.png",
    )
    image_columns = ("center", "left", "right")
    group_column = "segment"
    label_columns = ("steering", "throttle", "brake", "speed", "recording", "log")
    # frames at a split boundary, and frames a second log lists again: in no split
    splits = (*SPLITS, "guard", "duplicate")
    primary_metric: ClassVar[PrimaryMetric] = evaluating.PRIMARY
    predict_options: ClassVar[tuple[PredictOption, ...]] = predicting.OPTIONS

    data_modules = (sample, ingest, checks, summary, augmenting)
    model_modules = (training, models, evaluating, predicting, exporting)

    def commands(self) -> list[Callable[..., None]]:
        """`pipeline drive`: the champion drives the Udacity simulator (the `drive` extra)."""
        from pipeline.tasks.driving.drive.command import drive

        return [drive]
