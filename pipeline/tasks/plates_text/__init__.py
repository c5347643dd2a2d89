"""Plate text: read the characters of a plate cut with its box.

No sample stage: its raw folder is a plates folder (`data.plates_text.raw_dir`), read by the
plates format readers; text comes from GreenParking's `location.txt` or the `<stem>.plate.txt`
sidecars of YOLO folders. A CRNN with CTC reads two-line plates as their halves side by side.
"""

from __future__ import annotations

from typing import ClassVar

from pipeline.tasks import models
from pipeline.tasks.base import PredictOption, PrimaryMetric, Refinement, Task
from pipeline.tasks.plates_text import augment as augmenting
from pipeline.tasks.plates_text import checks, exporting, ingest, predicting, summary, training
from pipeline.tasks.plates_text import evaluate as evaluating
from pipeline.tasks.plates_text.params import (
    PlateTextAugmentParams,
    PlateTextEvaluateParams,
    PlateTextExportParams,
    PlateTextIngestParams,
    PlateTextTrainParams,
    PlateTextValidateParams,
)


class PlateText(Task):
    name = "plates_text"
    params = {
        "ingest": PlateTextIngestParams,
        "validate": PlateTextValidateParams,
        "augment": PlateTextAugmentParams,
        "train": PlateTextTrainParams,
        "evaluate": PlateTextEvaluateParams,
        "export": PlateTextExportParams,
    }
    image_columns = ("image",)
    group_column = "group"  # photos linked by a shared plate text: one vehicle, one split
    primary_metric: ClassVar[PrimaryMetric] = evaluating.PRIMARY
    #: `pipeline predict plates --read` hands the detector's boxes to this task's model
    refinement: ClassVar[Refinement] = predicting.REFINEMENT
    predict_options: ClassVar[tuple[PredictOption, ...]] = predicting.OPTIONS

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
    refine = staticmethod(predicting.refine)
    prediction_lines = staticmethod(predicting.prediction_lines)
    export_ready = staticmethod(exporting.export_ready)
    export_data = staticmethod(exporting.export_data)
    serve_exported = staticmethod(exporting.serve_exported)
