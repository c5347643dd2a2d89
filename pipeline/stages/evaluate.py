"""`evaluate`: the trained model on the untouched test split, beside the trivial baseline."""

import json
import math
from pathlib import Path
from typing import Any

from pipeline.config import Config
from pipeline.core import layout, tracking
from pipeline.core.errors import PipelineError
from pipeline.core.io import write_json
from pipeline.core.manifest import read_manifest
from pipeline.tasks import TASKS

# Git-tracked (dvc.yaml: `cache: false`), so every experiment commit carries its figures and
# `dvc exp show` / `dvc metrics diff` can read them; the full report stays in reports/.
SUMMARY_DIR = Path("metrics")


def run(task_name: str, config: Config) -> str:
    task = TASKS[task_name]
    model = task.load_model(layout.model_path(task_name), layout.assets_dir(task_name))
    out_dir = layout.task_reports(task_name) / "evaluation"
    with tracking.resume_run(layout.run_file(task_name)):
        # what decides the test figures, as tags: params of a finished run cannot change,
        # and a re-evaluation with other settings must be able to say so
        dumped = config.model_dump(mode="json", by_alias=True)
        tracking.set_tags(
            {
                f"stage.evaluate.{key}": str(value)
                for key, value in tracking.flatten(
                    {"data": dumped["data"][task_name], "evaluate": dumped["evaluate"][task_name]}
                ).items()
            }
        )
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
        write_json(SUMMARY_DIR / f"{task_name}.json", summary(metrics, task.primary_metric.name))
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


def summary(metrics: dict[str, Any], primary: str) -> dict[str, Any]:
    """The few figures an experiment table compares: every top-level `test_*` number, the
    baseline's figure for the primary metric (`baseline_<name>`) and `beats_baseline`.

    Task-agnostic on purpose (a new task needs no edit here). A non-finite figure becomes
    null: NaN is not JSON and would break the tools that read the file.
    """
    short = primary.removeprefix("test_")
    baseline = metrics.get("baseline")
    figures = {k: v for k, v in metrics.items() if k.startswith("test_") and _is_number(v)}
    if isinstance(baseline, dict) and _is_number(baseline.get(short)):
        figures[f"baseline_{short}"] = baseline[short]
    if isinstance(metrics.get("beats_baseline"), bool):
        figures["beats_baseline"] = metrics["beats_baseline"]
    return {k: v if isinstance(v, bool) or math.isfinite(v) else None for k, v in figures.items()}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _numbers(figures: dict) -> dict:
    return {k: round(v, 4) for k, v in figures.items() if isinstance(v, float)}
