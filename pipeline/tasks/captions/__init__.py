"""Flickr8k image captioning: cached CNN features + the textbook's LSTM merge model."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pipeline.tasks.base import PrimaryMetric, Task
from pipeline.tasks.captions.params import (
    CaptionsEvaluateParams,
    CaptionsFeaturesParams,
    CaptionsIngestParams,
    CaptionsSampleParams,
    CaptionsTrainParams,
    CaptionsValidateParams,
)

if TYPE_CHECKING:
    import pandas as pd


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

    def summarize(self, manifest: pd.DataFrame, valid: pd.DataFrame) -> dict[str, Any]:
        """Image ids, captions, and each oddity of the Flickr8k files counted (see ingest)."""
        return self._module("checks").summarize(manifest)
