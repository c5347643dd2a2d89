"""Licence plates (labelImg, Ultralytics/Roboflow or GreenParking layouts): plate detection."""

from __future__ import annotations

from typing import ClassVar

from pipeline.core.dvc_plots import curve, loss_history
from pipeline.tasks.base import PredictOption, PrimaryMetric, Task
from pipeline.tasks.plates import augment as augmenting
from pipeline.tasks.plates import (
    checks,
    exporting,
    ingest,
    predicting,
    sample,
    training,
)
from pipeline.tasks.plates import evaluate as evaluating
from pipeline.tasks.plates import plots as plotting
from pipeline.tasks.plates.formats import report


class Plates(Task):
    name = "plates"
    sample_size = "images"
    plots = (
        loss_history(
            "Plates detector: training and validation loss",
            "loss (detector focal + box terms per plate, unitless)",
            "epoch (from 0, over both training phases)",
        ),
        curve(
            "evaluation/pr_curve.json",
            "recall",
            "precision",
            "Plates: precision-recall on the test split (IoU >= 0.5, COCO)",
            "recall (fraction of plates found, 0-1)",
            "precision (fraction of boxes correct, 0-1)",
        ),
        "augment/augmented_samples.png",
        "evaluation/precision_recall.png",
        "evaluation/test_detections.png",
    )
    image_columns = ("image",)
    group_column = "photo"  # copies an export made of one photo share a split
    primary_metric: ClassVar[PrimaryMetric] = evaluating.PRIMARY
    predict_options: ClassVar[tuple[PredictOption, ...]] = predicting.OPTIONS

    data_modules = (sample, ingest, checks, report, augmenting, plotting)
    model_modules = (training, evaluating, predicting, exporting)
