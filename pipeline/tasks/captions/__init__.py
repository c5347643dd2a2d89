"""Flickr8k image captioning: cached CNN features + the textbook's LSTM merge model."""

from pipeline.tasks.base import PrimaryMetric, Task
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
    primary_metric = PrimaryMetric("test_bleu4", greater_is_better=True)
