"""Licence plates (labelImg, Ultralytics/Roboflow or GreenParking layouts): plate detection."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pipeline.tasks.base import (
    Evaluation,
    PredictOption,
    PrimaryMetric,
    Task,
    TaskPaths,
    Trained,
)
from pipeline.tasks.plates.params import (
    PlatesAugmentParams,
    PlatesEvaluateParams,
    PlatesIngestParams,
    PlatesSampleParams,
    PlatesTrainParams,
    PlatesValidateParams,
)

if TYPE_CHECKING:
    import keras
    import pandas as pd

    from pipeline.core.model_params import BackboneParams


class Plates(Task):
    name = "plates"
    params = {
        "sample": PlatesSampleParams,
        "ingest": PlatesIngestParams,
        "validate": PlatesValidateParams,
        "augment": PlatesAugmentParams,
        "train": PlatesTrainParams,
        "evaluate": PlatesEvaluateParams,
    }
    image_columns = ("image",)
    group_column = "photo"  # copies an export made of one photo share a split
    primary_metric: ClassVar[PrimaryMetric] = PrimaryMetric("test_ap50", greater_is_better=True)

    def write_sample(self, out_dir: Path, params: PlatesSampleParams, seed: int) -> None:
        from pipeline.tasks.plates.sample import write_sample

        write_sample(out_dir, params, seed)

    def read_raw(self, raw_dir: Path, params: PlatesIngestParams, seed: int) -> pd.DataFrame:
        from pipeline.tasks.plates.ingest import read_raw

        return read_raw(raw_dir, params, seed)

    def label_checks(self, manifest: pd.DataFrame, params: PlatesValidateParams) -> pd.DataFrame:
        from pipeline.tasks.plates.checks import label_checks

        return label_checks(manifest, params)

    def expectations(self, params: PlatesValidateParams) -> list[Any]:
        from pipeline.tasks.plates.checks import expectations

        return expectations(params)

    def summarize(self, manifest: pd.DataFrame, valid: pd.DataFrame) -> dict[str, Any]:
        """Which layout each dataset folder was read as, and what came from it."""
        from pipeline.tasks.plates.formats.report import summarize

        return summarize(manifest, valid)

    def augment(
        self, valid: pd.DataFrame, params: PlatesAugmentParams, paths: TaskPaths, seed: int
    ) -> tuple[pd.DataFrame, dict[str, Any]]:
        from pipeline.tasks.plates.augment import augment

        return augment(valid, paths.raw_dir, paths.processed_dir, params, seed)

    def write_augment_reports(self, report: dict[str, Any], paths: TaskPaths) -> None:
        from pipeline.tasks.plates.augment import write_reports

        write_reports(report, paths.reports_dir, paths.processed_dir)

    def fit(
        self,
        params: PlatesTrainParams,
        backbone: BackboneParams,
        paths: TaskPaths,
        *,
        seed: int,
        jit_compile: bool,
    ) -> Trained:
        from pipeline.tasks.plates.training import fit

        model, history = fit(
            paths.processed_dir,
            params,
            backbone,
            work_dir=paths.checkpoints_dir,
            assets_dir=paths.assets_dir,
            seed=seed,
            jit_compile=jit_compile,
        )
        return Trained(model, history)

    def load_model(self, model_path: Path, paths: TaskPaths) -> keras.Model:
        from pipeline.tasks.plates.training import load_detector

        return load_detector(model_path, paths.assets_dir)

    def log_model(self, model: keras.Model, paths: TaskPaths) -> str:
        from pipeline.tasks.plates.training import log_model

        return log_model(model, paths.assets_dir, paths.processed_dir)

    def evaluate(
        self,
        model: keras.Model,
        valid: pd.DataFrame,
        params: PlatesEvaluateParams,
        paths: TaskPaths,
    ) -> Evaluation:
        from pipeline.tasks.plates.evaluate import evaluate

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

    @property
    def predict_options(self) -> tuple[PredictOption, ...]:
        from pipeline.tasks.plates.predicting import OPTIONS

        return OPTIONS

    def prediction_lines(
        self, images: list[Path], predictions: pd.DataFrame, options: dict[str, Any]
    ) -> list[str]:
        from pipeline.tasks.plates.predicting import lines

        return lines(images, predictions, options)
