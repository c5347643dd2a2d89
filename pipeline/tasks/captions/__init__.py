"""Flickr8k image captioning: cached CNN features + the textbook's LSTM merge model."""

from __future__ import annotations

from typing import ClassVar

from pipeline.tasks import models
from pipeline.tasks.base import PredictOption, PrimaryMetric, Task
from pipeline.tasks.captions import checks, ingest, predicting, sample, training
from pipeline.tasks.captions import evaluate as evaluating
from pipeline.tasks.captions import features as featuring
from pipeline.tasks.captions.params import (
    CaptionsEvaluateParams,
    CaptionsFeaturesParams,
    CaptionsIngestParams,
    CaptionsSampleParams,
    CaptionsTrainParams,
    CaptionsValidateParams,
)


class Captions(Task):
    name = "captions"
    params = {
        "sample": CaptionsSampleParams,
        "ingest": CaptionsIngestParams,
        "validate": CaptionsValidateParams,
        "features": CaptionsFeaturesParams,
        "train": CaptionsTrainParams,
        "evaluate": CaptionsEvaluateParams,
    }
    image_columns = ("image",)
    group_column = "image_id"
    primary_metric: ClassVar[PrimaryMetric] = evaluating.PRIMARY
    predict_options: ClassVar[tuple[PredictOption, ...]] = predicting.OPTIONS

    write_sample = staticmethod(sample.write_sample)
    read_raw = staticmethod(ingest.read_raw)
    label_checks = staticmethod(checks.label_checks)
    expectations = staticmethod(checks.expectations)
    summarize = staticmethod(checks.summarize)
    features = staticmethod(featuring.features)
    fit = staticmethod(training.fit)
    load_model = staticmethod(models.load_model)
    log_model = staticmethod(training.log_model)
    evaluate = staticmethod(evaluating.evaluate)
    prediction_lines = staticmethod(predicting.prediction_lines)
