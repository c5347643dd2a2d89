"""Licence plates (labelImg, Ultralytics/Roboflow or GreenParking layouts): plate detection."""

from __future__ import annotations

from typing import ClassVar

from pipeline.tasks.base import PredictOption, PrimaryMetric, Task
from pipeline.tasks.plates import augment as augmenting
from pipeline.tasks.plates import checks, ingest, plots, predicting, sample, training
from pipeline.tasks.plates import evaluate as evaluating
from pipeline.tasks.plates.formats import report
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
    group_column = "photo"  # copies an export made of one photo share a split
    primary_metric: ClassVar[PrimaryMetric] = evaluating.PRIMARY
    predict_options: ClassVar[tuple[PredictOption, ...]] = predicting.OPTIONS

    write_sample = staticmethod(sample.write_sample)
    read_raw = staticmethod(ingest.read_raw)
    label_checks = staticmethod(checks.label_checks)
    expectations = staticmethod(checks.expectations)
    #: which layout each dataset folder was read as, and what came from it
    summarize = staticmethod(report.summarize)
    augment = staticmethod(augmenting.augment)
    write_augment_reports = staticmethod(plots.write_augment_reports)
    fit = staticmethod(training.fit)
    load_model = staticmethod(training.load_model)
    log_model = staticmethod(training.log_model)
    evaluate = staticmethod(evaluating.evaluate)
    prediction_lines = staticmethod(predicting.prediction_lines)
