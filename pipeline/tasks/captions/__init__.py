"""Flickr8k image captioning: cached CNN features + the textbook's LSTM merge model."""

from __future__ import annotations

from typing import ClassVar

from pipeline.core.dvc_plots import loss_history
from pipeline.tasks import models
from pipeline.tasks.base import PredictOption, PrimaryMetric, Task
from pipeline.tasks.captions import checks, ingest, predicting, sample, training
from pipeline.tasks.captions import evaluate as evaluating
from pipeline.tasks.captions import features as featuring


class Captions(Task):
    name = "captions"
    sample_size = "images"
    plots = (
        loss_history(
            "Captioner: training and validation loss", "loss (cross-entropy, nats per token)"
        ),
        "evaluation/test_captions.png",
        "features/probe.png",
    )
    image_columns = ("image",)
    group_column = "image_id"
    primary_metric: ClassVar[PrimaryMetric] = evaluating.PRIMARY
    predict_options: ClassVar[tuple[PredictOption, ...]] = predicting.OPTIONS

    data_modules = (sample, ingest, checks, featuring)
    model_modules = (training, models, evaluating, predicting)
