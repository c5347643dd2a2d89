"""Vietnamese motorbike licence plates in YOLO format: single-class detection."""

from pipeline.tasks.base import Task
from pipeline.tasks.plates.params import (
    PlatesIngestParams,
    PlatesSampleParams,
    PlatesValidateParams,
)


class Plates(Task):
    name = "plates"
    params = {
        "sample": PlatesSampleParams,
        "ingest": PlatesIngestParams,
        "validate": PlatesValidateParams,
    }
    image_columns = ("image",)
    group_column = "stem"
