"""`pipeline export <task>`: convert, re-score the file itself on the test split, ship or refuse.

The exported file is scored by the task's own metric code (`Exports.export_data`) next to
the Keras model on the very same inputs. Worse than `export.<task>.tolerance`: exit 1 with
the figures, the file deleted, nothing attached to MLflow (fail closed).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline.core import layout
from pipeline.core.edge import ExportedModel, latency
from pipeline.core.errors import PipelineError
from pipeline.export.report import Row, add_row, markdown
from pipeline.tasks import Exports, task_with

if TYPE_CHECKING:
    import keras

    from pipeline.config import Config
    from pipeline.core.section import ExportParams
    from pipeline.export.convert import Format, Quantize
    from pipeline.tasks.base import ExportData, PrimaryMetric

EXPORT_DIR = "export"  # under models/<task>/


def file_name(task: str, fmt: str, quantize: str) -> str:
    return f"{task}-{quantize}.{fmt}" if fmt == "tflite" else f"{task}.{fmt}"


def convert(
    model: keras.Model, path: Path, fmt: Format, quantize: Quantize, calibration: np.ndarray
) -> Path:
    """`model` written as `fmt` at `path` (int8 calibrates on `calibration`, one at a time)."""
    from pipeline.export import convert as converting

    if fmt == "onnx":
        if quantize != "none":
            raise converting.ExportError(
                "ONNX is exported in float only: use --quantize none, or --format tflite"
            )
        return converting.to_onnx(model, path)

    def batches() -> Any:
        return (image[None].astype(np.float32) for image in calibration)

    return converting.to_tflite(model, path, quantize, batches)


def keras_outputs(model: keras.Model, inputs: np.ndarray, batch_size: int) -> np.ndarray:
    """The Keras model's outputs, cast to float32 one batch at a time (not all at once)."""
    outputs = [
        np.asarray(model.predict_on_batch(inputs[start : start + batch_size].astype(np.float32)))
        for start in range(0, len(inputs), batch_size)
    ]
    return np.concatenate(outputs)


def worse_by(keras_value: float, exported: float, primary: PrimaryMetric) -> float:
    """How much worse the export scores, in the metric's units (negative: better)."""
    return keras_value - exported if primary.greater_is_better else exported - keras_value


def allowed(keras_value: float, params: ExportParams) -> float:
    return params.tolerance * abs(keras_value) if params.relative else params.tolerance


def export(
    task: str,
    model: keras.Model,
    data: ExportData,
    exporter: Exports[Any],
    params: ExportParams,
    *,
    fmt: Format,
    quantize: Quantize,
    out_dir: Path,
    model_sha256: str,
) -> tuple[Row, Path | None]:
    """Convert, score, and keep the file in `out_dir` only within tolerance: (row, file)."""
    primary = exporter.primary_metric
    keras_figures = data.score(lambda x: keras_outputs(model, x, params.batch_size))
    name = file_name(task, fmt, quantize)
    with tempfile.TemporaryDirectory() as tmp:
        path = convert(
            exporter.export_ready(model), Path(tmp) / name, fmt, quantize, data.calibration_inputs
        )
        exported = ExportedModel(path)
        figures = data.score(lambda x: exported.predict(x, params.batch_size))
        timing = latency(exported, data.test_inputs[: params.latency_images])
        keras_value, value = float(keras_figures[primary.name]), float(figures[primary.name])
        limit = allowed(keras_value, params)
        ok = bool(np.isfinite(value)) and worse_by(keras_value, value, primary) <= limit
        row = Row(
            format=fmt,
            quantize=quantize,
            file=str(out_dir / name),
            size_bytes=path.stat().st_size,
            metric=primary.name,
            keras=keras_value,
            exported=value,
            worse_by=worse_by(keras_value, value, primary),
            allowed=limit,
            median_ms=timing.median_ms,
            p99_ms=timing.p99_ms,
            shipped=ok,
            model_sha256=model_sha256,
        )
        if not ok:
            return row, None
        out_dir.mkdir(parents=True, exist_ok=True)
        return row, Path(shutil.move(path, out_dir / name))


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def keras_file(task: str, model: str | None) -> tuple[Path, str | None]:
    """The Keras file to export and the MLflow run to attach the export to (None: none).

    `model`: a `.keras` path, a `models:/<name>@alias` or `models:/<name>/<version>` URI,
    or None for `models/<task>/model.keras` (attached to its training run)."""
    from pipeline.stages.inputs import require

    if model is None:
        path = require(layout.model_path(task), "export", task, "train")
        run_file = layout.run_file(task)
        run = json.loads(run_file.read_text()).get("run_id") if run_file.is_file() else None
        return path, run
    if model.startswith("models:/"):
        return _registered(model)
    path = Path(model)
    if path.suffix != ".keras" or not path.is_file():
        raise PipelineError(f"--model {model}: not a .keras file (or give models:/<task>@alias)")
    return path, None


def _registered(uri: str) -> tuple[Path, str | None]:
    """A registered version's Keras file (downloaded) and its run."""
    import mlflow
    from mlflow.exceptions import MlflowException

    from pipeline.core import tracking

    tracking.configure_tracking()
    try:
        local = Path(
            mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=tempfile.mkdtemp())
        )
        info = mlflow.models.get_model_info(uri)
    except MlflowException as err:
        raise PipelineError(f"cannot load {uri}: {str(err).splitlines()[0][:200]}") from err
    found = sorted(local.rglob("*.keras"))
    if not found:
        raise PipelineError(f"{uri} holds no .keras file to export")
    return found[0], info.run_id


def attach(run_id: str, files: list[Path]) -> None:
    """The export and its table as artifacts of `run_id` (the model version's run)."""
    import mlflow

    from pipeline.core import tracking

    tracking.configure_tracking()
    client = mlflow.MlflowClient()
    for file in files:
        client.log_artifact(run_id, str(file), EXPORT_DIR)


def run(
    task_name: str, config: Config, *, model: str | None, fmt: Format, quantize: Quantize
) -> str:
    from pipeline.stages.inputs import checked_manifest, valid_input
    from pipeline.tasks.models import load_saved

    exporter = task_with(task_name, "export", Exports)
    params: ExportParams = config.for_task("export", task_name)
    valid, _ = checked_manifest(valid_input(task_name), "export", task_name, config)
    source, run_id = keras_file(task_name, model)
    reports = layout.task_reports(task_name)
    paths = layout.task_paths(task_name, config.raw_dir(task_name), reports / EXPORT_DIR)
    data = exporter.export_data(valid, params, paths)
    row, shipped = export(
        task_name,
        load_saved(source),
        data,
        exporter,
        params,
        fmt=fmt,
        quantize=quantize,
        out_dir=layout.model_dir(task_name) / EXPORT_DIR,
        model_sha256=sha256(source),
    )
    rows = add_row(reports / "export.json", row)
    table = reports / "export.md"
    table.write_text(markdown(task_name, rows))
    figures = (
        f"{row.metric} {row.exported:.5f} vs Keras {row.keras:.5f} ({row.worse_by:+.5f} worse, "
        f"allowed {row.allowed:.5f}); {row.size_bytes / 1024:.0f} KiB, "
        f"{row.median_ms:.2f} ms median, {row.p99_ms:.2f} ms p99 per image"
    )
    if shipped is None:
        raise PipelineError(
            f"{task_name} {fmt}/{quantize}: beyond export.{task_name}.tolerance: {figures}; "
            f"not shipped, nothing attached (table: {table})"
        )
    note = "not attached to MLflow (no run)"
    if run_id is not None:
        try:
            attach(run_id, [shipped, table])
            note = f"attached to MLflow run {run_id}"
        except Exception as err:  # the file is shipped and scored; the store is the problem
            note = f"not attached to MLflow run {run_id} ({str(err).splitlines()[0][:120]})"
    return f"{task_name} {fmt}/{quantize}: {shipped}: {figures}; {note}; table: {table}"
