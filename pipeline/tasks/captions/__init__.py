"""Flickr8k image captioning: CNN embedding + LSTM merge model."""

from pipeline.tasks.base import Task
from pipeline.tasks.captions.params import (
    CaptionsIngestParams,
    CaptionsSampleParams,
    CaptionsValidateParams,
)


class Captions(Task):
    name = "captions"
    params = {
        "sample": CaptionsSampleParams,
        "ingest": CaptionsIngestParams,
        "validate": CaptionsValidateParams,
    }
    image_columns = ("image",)
    group_column = "image_id"
