"""`evaluate`: the trained model on the untouched test split, beside the trivial baseline."""

import json

from pipeline.config import Config
from pipeline.core import layout, tracking
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


def _numbers(figures: dict) -> dict:
    return {k: round(v, 4) for k, v in figures.items() if isinstance(v, float)}
