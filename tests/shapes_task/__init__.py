"""A fifth dataset from its own package only: what a new task writes, and nothing more.

`shapes`: images of one coloured shape each (circle or square), labelled in a `labels.csv`
(file, shape). Every stage is here: sample, ingest, validate, augment, train, evaluate,
predict; the serving model is `serving.py`. The tests copy this folder to
`pipeline/tasks/shapes/`, add `Shapes()` to `pipeline.tasks.TASKS` and the sections below to
params.yaml, and run the real CLI and `dvc repro` (tests/code/test_fourth_task.py,
tests/e2e/).
"""

from __future__ import annotations

from typing import Any, ClassVar

from pipeline.core.evaluation import PrimaryMetric
from pipeline.tasks import models
from pipeline.tasks.base import PredictOption, Task

from . import stages
from .stages import PRIMARY


class Shapes(Task):
    name = "shapes"
    sample_size = "images"
    image_columns = ("image",)
    group_column = "image"
    label_columns = ("shape",)
    primary_metric: ClassVar[PrimaryMetric] = PRIMARY
    predict_options: ClassVar[tuple[PredictOption, ...]] = ()

    data_modules = (stages,)
    model_modules = (models,)


def params_sections() -> dict[str, dict[str, Any]]:
    """The task's params.yaml sections with their defaults, and its raw folder the sample."""
    sections = {stage: model().model_dump(mode="json") for stage, model in Shapes.params.items()}
    return {"data": {"raw_dir": "data/sample/shapes"}, **sections}
