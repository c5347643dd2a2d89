"""Plate text (issue 17): read the characters of a plate cut with its box.

No sample stage: its raw folder is a plates folder (`data.plates_text.raw_dir`), read by the
plates format readers; text comes from GreenParking's `location.txt` or the `<stem>.plate.txt`
sidecars of YOLO folders. A CRNN with CTC reads two-line plates as their halves side by side.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pipeline.tasks.base import Evaluation, PrimaryMetric, Task, TaskPaths, Trained
from pipeline.tasks.plates_text.params import (
    PlateTextAugmentParams,
    PlateTextEvaluateParams,
    PlateTextIngestParams,
    PlateTextTrainParams,
    PlateTextValidateParams,
)

if TYPE_CHECKING:
    import keras
    import pandas as pd

    from pipeline.core.model_params import BackboneParams


class PlateText(Task):
    name = "plates_text"
    params = {
        "ingest": PlateTextIngestParams,
        "validate": PlateTextValidateParams,
        "augment": PlateTextAugmentParams,
        "train": PlateTextTrainParams,
        "evaluate": PlateTextEvaluateParams,
    }
    image_columns = ("image",)
    group_column = "group"  # photos linked by a shared plate text: one vehicle, one split
    primary_metric: ClassVar[PrimaryMetric] = PrimaryMetric("test_exact", greater_is_better=True)

    def read_raw(self, raw_dir: Path, params: PlateTextIngestParams, seed: int) -> pd.DataFrame:
        from pipeline.tasks.plates_text.ingest import read_raw

        return read_raw(raw_dir, params, seed)

    def label_checks(self, manifest: pd.DataFrame, params: PlateTextValidateParams) -> pd.DataFrame:
        from pipeline.tasks.plates_text.checks import label_checks

        return label_checks(manifest, params)

    def expectations(self, params: PlateTextValidateParams) -> list[Any]:
        from pipeline.tasks.plates_text.checks import expectations

        return expectations(params)

    def summarize(self, manifest: pd.DataFrame, valid: pd.DataFrame) -> dict[str, Any]:
        from pipeline.tasks.plates_text.summary import summarize

        return summarize(manifest, valid)

    def augment(
        self, valid: pd.DataFrame, params: PlateTextAugmentParams, paths: TaskPaths, seed: int
    ) -> tuple[pd.DataFrame, dict[str, Any]]:
        from pipeline.tasks.plates_text.augment import augment

        return augment(valid, paths.raw_dir, paths.processed_dir, params, seed)

    def write_augment_reports(self, report: dict[str, Any], paths: TaskPaths) -> None:
        from pipeline.tasks.plates_text.augment import write_reports

        write_reports(report, paths.reports_dir, paths.processed_dir)

    def fit(
        self,
        params: PlateTextTrainParams,
        backbone: BackboneParams,  # unused: the reader is trained from scratch (model.py)
        paths: TaskPaths,
        *,
        seed: int,
        jit_compile: bool,
    ) -> Trained:
        from pipeline.tasks.plates_text.training import fit

        model, history = fit(
            paths.processed_dir,
            params,
            assets_dir=paths.assets_dir,
            work_dir=paths.checkpoints_dir,
            seed=seed,
            jit_compile=jit_compile,
        )
        return Trained(model, history)

    def load_model(self, model_path: Path, paths: TaskPaths) -> keras.Model:
        from pipeline.tasks.plates_text.training import load_reader

        return load_reader(model_path)

    def log_model(self, model: keras.Model, paths: TaskPaths) -> str:
        from pipeline.tasks.plates_text.training import log_model

        return log_model(model, paths.assets_dir)

    def evaluate(
        self,
        model: keras.Model,
        valid: pd.DataFrame,
        params: PlateTextEvaluateParams,
        paths: TaskPaths,
    ) -> Evaluation:
        from pipeline.tasks.plates_text.evaluate import evaluate

        report = evaluate(model, valid, paths.processed_dir, params, paths.reports_dir)
        return Evaluation.from_json(report, self.primary_metric)
