"""`evaluate`: the trained model on the untouched test split, beside the trivial baseline."""

import json
import math
from typing import Any

from pipeline.config import Config
from pipeline.core import layout, tracking
from pipeline.core.errors import PipelineError
from pipeline.core.io import write_json
from pipeline.core.manifest import read_manifest
from pipeline.tasks import TASKS


def run(task_name: str, config: Config) -> str:
    task = TASKS[task_name]
    model = task.load_model(layout.model_path(task_name), layout.assets_dir(task_name))
    out_dir = layout.task_reports(task_name) / "evaluation"
    with tracking.resume_run(layout.run_file(task_name)):
        metrics = task.evaluate(
            model,
            read_manifest(layout.valid_path(task_name)),
            getattr(config.data, task_name).raw_dir,
            config.for_task("evaluate", task_name),
            out_dir,
            processed_dir=layout.processed_dir(task_name),
            assets_dir=layout.assets_dir(task_name),
        )
        write_json(layout.task_reports(task_name) / "metrics.json", metrics)
        _fail_on_non_finite(task_name, metrics, task.primary_metric.name)
        tracking.log_metrics(metrics)
        tracking.log_artifacts(out_dir, "evaluation")
        tracking.log_artifact(layout.validation_report(task_name), "validation")
    primary = task.primary_metric
    baseline = metrics["baseline"]
    return (
        f"{task_name}: {primary.name} {metrics[primary.name]:.4f} "
        f"(baseline {baseline['name']}: {json.dumps(_numbers(baseline))}); "
        f"report {layout.task_reports(task_name) / 'metrics.json'}"
    )


def _fail_on_non_finite(task_name: str, metrics: dict[str, Any], primary: str) -> None:
    """A NaN, infinite or missing primary metric means a broken model: fail (run FAILED).

    Only the primary metric decides: a secondary figure may be undefined for an honest
    reason (R² of a test split whose angle never varies).
    """
    value = metrics.get(primary)
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise PipelineError(
            f"{task_name}: the model scores {primary} {value} on the test split: it is broken "
            "and will not be registered; retrain it (e.g. with a lower learning rate)"
        )


def _numbers(figures: dict) -> dict:
    return {k: round(v, 4) for k, v in figures.items() if isinstance(v, float)}
