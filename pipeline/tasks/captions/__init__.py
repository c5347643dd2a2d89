"""Flickr8k image captioning: cached CNN features + the textbook's LSTM merge model."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pipeline.tasks.base import (
    Evaluation,
    FeaturesSummary,
    PredictOption,
    PrimaryMetric,
    Task,
    TaskPaths,
    Trained,
)
from pipeline.tasks.captions.params import (
    CaptionsEvaluateParams,
    CaptionsFeaturesParams,
    CaptionsIngestParams,
    CaptionsSampleParams,
    CaptionsTrainParams,
    CaptionsValidateParams,
)

if TYPE_CHECKING:
    import keras
    import pandas as pd

    from pipeline.core.model_params import BackboneParams


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
    primary_metric: ClassVar[PrimaryMetric] = PrimaryMetric("test_bleu4", greater_is_better=True)

    def write_sample(self, out_dir: Path, params: CaptionsSampleParams, seed: int) -> None:
        from pipeline.tasks.captions.sample import write_sample

        write_sample(out_dir, params, seed)

    def read_raw(self, raw_dir: Path, params: CaptionsIngestParams, seed: int) -> pd.DataFrame:
        from pipeline.tasks.captions.ingest import read_raw

        return read_raw(raw_dir, params, seed)

    def label_checks(self, manifest: pd.DataFrame, params: CaptionsValidateParams) -> pd.DataFrame:
        from pipeline.tasks.captions.checks import label_checks

        return label_checks(manifest, params)

    def expectations(self, params: CaptionsValidateParams) -> list[Any]:
        from pipeline.tasks.captions.checks import expectations

        return expectations(params)

    def summarize(self, manifest: pd.DataFrame, valid: pd.DataFrame) -> dict[str, Any]:
        """Image ids, captions, and each oddity of the Flickr8k files counted (see ingest)."""
        from pipeline.tasks.captions.checks import summarize

        return summarize(manifest)

    def features(
        self,
        valid: pd.DataFrame,
        params: CaptionsFeaturesParams,
        backbone: BackboneParams,
        paths: TaskPaths,
    ) -> FeaturesSummary:
        from pipeline.tasks.captions.features import extract

        summary = extract(
            valid, paths.raw_dir, params, backbone, paths.processed_dir, paths.reports_dir
        )
        return FeaturesSummary(int(summary["images"]), int(summary["dimensions"]))

    def fit(
        self,
        params: CaptionsTrainParams,
        backbone: BackboneParams,
        paths: TaskPaths,
        *,
        seed: int,
        jit_compile: bool,
    ) -> Trained:
        from pipeline.tasks.captions.training import fit

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
        import keras

        return keras.models.load_model(model_path, safe_mode=True, compile=False)

    def log_model(self, model: keras.Model, paths: TaskPaths) -> str:
        from pipeline.tasks.captions.training import log_model

        return log_model(model, paths.assets_dir, paths.processed_dir)

    def evaluate(
        self,
        model: keras.Model,
        valid: pd.DataFrame,
        params: CaptionsEvaluateParams,
        paths: TaskPaths,
    ) -> Evaluation:
        from pipeline.tasks.captions.evaluate import evaluate

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
        from pipeline.tasks.captions.predicting import OPTIONS

        return OPTIONS

    def prediction_lines(
        self, images: list[Path], predictions: pd.DataFrame, options: dict[str, Any]
    ) -> list[str]:
        from pipeline.tasks.captions.predicting import lines

        return lines(images, predictions, options)
