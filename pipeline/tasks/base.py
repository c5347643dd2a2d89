"""What a task is: a small declaration plus the modules of its subpackage.

Stages talk only to this interface, so a new dataset is a new subpackage registered in
`pipeline.tasks.TASKS`, with no edit to any stage. A task subpackage provides, by
convention, the modules below; they are imported on first use so that `pipeline --help`
does not pay for pandas, OpenCV or TensorFlow:

- `sample.py`: `write_sample(out_dir, params, seed)`: a small synthetic dataset in the
  real on-disk format;
- `ingest.py`: `read_raw(raw_dir, params, seed) -> DataFrame`: manifest rows with
  canonical columns, `split`, `issue`, `issue_detail`;
- `checks.py`: `label_checks(manifest, params) -> DataFrame` (derived columns) and
  `expectations(params) -> list` (Great Expectations, row-level ones with meta.reason);
- `augment.py`: `augment(valid, raw_dir, out_dir, params, seed) -> (manifest, report)`:
  the train split augmented, val/test copied unchanged; `write_reports(report, folder,
  processed_dir)`: its plots;
- `features.py` (instead of `augment.py`, e.g. captions): `extract(valid, raw_dir, params,
  backbone, out_dir, reports_dir) -> summary`: cached image embeddings in the processed
  folder, figures about them in `reports_dir`;
- `training.py`: `fit(processed_dir, params, backbone, *, work_dir, assets_dir, seed,
  callbacks, jit_compile) -> (model, history)`, writing into `assets_dir` what serving needs
  besides the weights (e.g. a tokenizer), and `log_model(model, assets_dir, processed_dir)
  -> model URI` (to the active MLflow run);
- `evaluate.py`: `evaluate(model, valid, raw_dir, params, out_dir, *, processed_dir,
  assets_dir) -> metrics`, plots written into `out_dir`.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, ClassVar

from pipeline.core.section import Section
from pipeline.core.splits import SPLITS

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class PrimaryMetric:
    """The test metric that decides promotion, and which way is better."""

    name: str
    greater_is_better: bool


class Task:
    name: ClassVar[str]
    #: params model of this task's subsection of each stage section, e.g. {"sample": ...}
    params: ClassVar[dict[str, type[Section]]]
    #: manifest columns holding image paths (relative to the raw root)
    image_columns: ClassVar[tuple[str, ...]]
    #: rows sharing this column's value must share a split, or the test set leaks
    group_column: ClassVar[str]
    #: values the manifest's `split` column may take
    splits: ClassVar[tuple[str, ...]] = SPLITS
    #: the test metric `promote` compares, and its direction
    primary_metric: ClassVar[PrimaryMetric]

    def _module(self, name: str) -> ModuleType:
        return import_module(f"{type(self).__module__}.{name}")

    def write_sample(self, out_dir: Path, params: Any, seed: int) -> None:
        self._module("sample").write_sample(out_dir, params, seed)

    def read_raw(self, raw_dir: Path, params: Any, seed: int) -> pd.DataFrame:
        return self._module("ingest").read_raw(raw_dir, params, seed)

    def label_checks(self, manifest: pd.DataFrame, params: Any) -> pd.DataFrame:
        return self._module("checks").label_checks(manifest, params)

    def expectations(self, params: Any) -> list[Any]:
        return self._module("checks").expectations(params)

    def summarize(self, manifest: pd.DataFrame, valid: pd.DataFrame) -> dict[str, Any]:
        """Facts about the dataset for the validation report's `dataset` section.

        E.g. which layout each folder was read as, oddities of the files that ingest
        tolerated, a target with no variance. Ingest passes what it learnt as manifest
        columns, since the manifest is all that reaches validate.
        """
        return {}

    def augment(
        self, valid: pd.DataFrame, raw_dir: Path, out_dir: Path, params: Any, seed: int
    ) -> tuple[pd.DataFrame, dict[str, Any]]:
        return self._module("augment").augment(valid, raw_dir, out_dir, params, seed)

    def write_augment_reports(
        self, report: dict[str, Any], folder: Path, processed_dir: Path
    ) -> None:
        self._module("augment").write_reports(report, folder, processed_dir)

    def features(
        self,
        valid: pd.DataFrame,
        raw_dir: Path,
        params: Any,
        backbone: Any,
        out_dir: Path,
        reports_dir: Path,
    ) -> dict[str, Any]:
        features = self._module("features")
        return features.extract(valid, raw_dir, params, backbone, out_dir, reports_dir)

    def fit(
        self,
        processed_dir: Path,
        params: Any,
        backbone: Any,
        *,
        work_dir: Path,
        assets_dir: Path,
        seed: int,
        callbacks: list[Any],
        jit_compile: bool = False,
    ) -> tuple[Any, dict[str, list[float]]]:
        return self._module("training").fit(
            processed_dir,
            params,
            backbone,
            work_dir=work_dir,
            assets_dir=assets_dir,
            seed=seed,
            callbacks=callbacks,
            jit_compile=jit_compile,
        )

    def load_model(self, model_path: Path, assets_dir: Path) -> Any:
        """The trained Keras model, in safe mode; uncompiled, as scoring needs no optimizer."""
        import keras

        return keras.models.load_model(model_path, safe_mode=True, compile=False)

    def log_model(self, model: Any, assets_dir: Path, processed_dir: Path) -> str:
        """Log the serving model to the active run; its `models:/...` URI."""
        return self._module("training").log_model(model, assets_dir, processed_dir)

    def evaluate(
        self,
        model: Any,
        valid: pd.DataFrame,
        raw_dir: Path,
        params: Any,
        out_dir: Path,
        *,
        processed_dir: Path,
        assets_dir: Path,
    ) -> dict[str, Any]:
        return self._module("evaluate").evaluate(
            model,
            valid,
            raw_dir,
            params,
            out_dir,
            processed_dir=processed_dir,
            assets_dir=assets_dir,
        )
