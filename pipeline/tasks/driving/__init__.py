"""Udacity simulator recordings: steering-angle regression from camera frames."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pipeline.core.splits import SPLITS
from pipeline.tasks.base import (
    Evaluation,
    PredictOption,
    PrimaryMetric,
    Task,
    TaskPaths,
    Trained,
)
from pipeline.tasks.driving.params import (
    DrivingAugmentParams,
    DrivingEvaluateParams,
    DrivingIngestParams,
    DrivingSampleParams,
    DrivingTrainParams,
    DrivingValidateParams,
)

if TYPE_CHECKING:
    import keras
    import pandas as pd

    from pipeline.core.model_params import BackboneParams


class Driving(Task):
    name = "driving"
    params = {
        "sample": DrivingSampleParams,
        "ingest": DrivingIngestParams,
        "validate": DrivingValidateParams,
        "augment": DrivingAugmentParams,
        "train": DrivingTrainParams,
        "evaluate": DrivingEvaluateParams,
    }
    image_columns = ("center", "left", "right")
    group_column = "segment"
    label_columns = ("steering", "throttle", "brake", "speed", "recording", "log")
    # frames at a split boundary, and frames a second log lists again: in no split
    splits = (*SPLITS, "guard", "duplicate")
    primary_metric: ClassVar[PrimaryMetric] = PrimaryMetric("test_mse", greater_is_better=False)

    def write_sample(self, out_dir: Path, params: DrivingSampleParams, seed: int) -> None:
        from pipeline.tasks.driving.sample import write_sample

        write_sample(out_dir, params, seed)

    def read_raw(self, raw_dir: Path, params: DrivingIngestParams, seed: int) -> pd.DataFrame:
        from pipeline.tasks.driving.ingest import read_raw

        return read_raw(raw_dir, params, seed)

    def label_checks(self, manifest: pd.DataFrame, params: DrivingValidateParams) -> pd.DataFrame:
        from pipeline.tasks.driving.checks import label_checks

        return label_checks(manifest, params)

    def expectations(self, params: DrivingValidateParams) -> list[Any]:
        from pipeline.tasks.driving.checks import expectations

        return expectations(params)

    def summarize(self, manifest: pd.DataFrame, valid: pd.DataFrame) -> dict[str, Any]:
        from pipeline.tasks.driving.summary import summarize

        return summarize(manifest, valid)

    def augment(
        self, valid: pd.DataFrame, params: DrivingAugmentParams, paths: TaskPaths, seed: int
    ) -> tuple[pd.DataFrame, dict[str, Any]]:
        from pipeline.tasks.driving.augment import augment

        return augment(valid, paths.raw_dir, paths.processed_dir, params, seed)

    def write_augment_reports(self, report: dict[str, Any], paths: TaskPaths) -> None:
        from pipeline.tasks.driving.augment import write_reports

        write_reports(report, paths.reports_dir, paths.processed_dir)

    def fit(
        self,
        params: DrivingTrainParams,
        backbone: BackboneParams,
        paths: TaskPaths,
        *,
        seed: int,
        jit_compile: bool,
    ) -> Trained:
        from pipeline.tasks.driving.training import fit

        model, history = fit(
            paths.processed_dir,
            params,
            backbone,
            work_dir=paths.checkpoints_dir,
            seed=seed,
            jit_compile=jit_compile,
        )
        return Trained(model, history)

    def load_model(self, model_path: Path, paths: TaskPaths) -> keras.Model:
        import keras

        return keras.models.load_model(model_path, safe_mode=True, compile=False)

    def log_model(self, model: keras.Model, paths: TaskPaths) -> str:
        from pipeline.tasks.driving.training import log_model

        return log_model(model, paths.assets_dir, paths.processed_dir)

    def evaluate(
        self,
        model: keras.Model,
        valid: pd.DataFrame,
        params: DrivingEvaluateParams,
        paths: TaskPaths,
    ) -> Evaluation:
        from pipeline.tasks.driving.evaluate import evaluate

        report = evaluate(
            model,
            valid,
            paths.raw_dir,
            params,
            paths.reports_dir,
            processed_dir=paths.processed_dir,
            assets_dir=paths.assets_dir,
        )
        return Evaluation.from_json(report, self.primary_metric)

    def commands(self) -> list[Callable[..., None]]:
        """`pipeline drive`: the champion drives the Udacity simulator (the `drive` extra)."""
        from pipeline.tasks.driving.drive.command import drive

        return [drive]

    @property
    def predict_options(self) -> tuple[PredictOption, ...]:
        from pipeline.tasks.driving.predicting import OPTIONS

        return OPTIONS

    def prediction_lines(
        self, images: list[Path], predictions: pd.DataFrame, options: dict[str, Any]
    ) -> list[str]:
        from pipeline.tasks.driving.predicting import lines

        return lines(images, predictions, options)
