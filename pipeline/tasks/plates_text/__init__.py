"""Plate text: read the characters of a plate cut with its box.

No sample stage: its raw folder is a plates folder (`data.plates_text.raw_dir`), read by the
plates format readers; text comes from GreenParking's `location.txt` or the `<stem>.plate.txt`
sidecars of YOLO folders. A CRNN with CTC reads two-line plates as their halves side by side.
"""

from __future__ import annotations

from typing import ClassVar

from pipeline.core.dvc_plots import loss_history
from pipeline.tasks import models
from pipeline.tasks.base import PredictOption, PrimaryMetric, Refinement, Task
from pipeline.tasks.plates_text import augment as augmenting
from pipeline.tasks.plates_text import (
    checks,
    exporting,
    ingest,
    predicting,
    summary,
    training,
)
from pipeline.tasks.plates_text import evaluate as evaluating


class PlateText(Task):
    name = "plates_text"
    plots = (
        loss_history("Plate reader: training and validation loss", "loss (CTC, nats per plate)"),
        "augment/augment_grid.png",
        "evaluation/position_confusions.png",
        "evaluation/test_readings.png",
    )
    image_columns = ("image",)
    group_column = "group"  # photos linked by a shared plate text: one vehicle, one split
    primary_metric: ClassVar[PrimaryMetric] = evaluating.PRIMARY
    #: `pipeline predict plates --read` hands the detector's boxes to this task's model
    refinement: ClassVar[Refinement] = predicting.REFINEMENT
    predict_options: ClassVar[tuple[PredictOption, ...]] = predicting.OPTIONS

    data_modules = (ingest, checks, summary, augmenting)
    model_modules = (training, models, evaluating, predicting, exporting)
