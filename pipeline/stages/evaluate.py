"""`evaluate`: the trained model on the untouched test split, beside the trivial baseline."""

import json
import math
from pathlib import Path
from typing import Any

from pipeline.config import Config
from pipeline.core import layout, tracking
from pipeline.core.errors import PipelineError
from pipeline.core.io import write_json
from pipeline.stages.inputs import (
    checked_manifest,
    checked_provenance,
    processed_input,
    require,
    valid_input,
)
from pipeline.tasks import Evaluates, Trains, task_with
from pipeline.tasks.base import Evaluation

# Git-tracked (dvc.yaml: `cache: false`), so every experiment commit carries its figures and
# `dvc exp show` / `dvc metrics diff` can read them; the full report stays in reports/.
SUMMARY_DIR = Path("metrics")


def run(task_name: str, config: Config) -> str:
    trainer = task_with(task_name, "train", Trains)
    evaluator = task_with(task_name, "evaluate", Evaluates)
    # the earliest missing input first: its command is the one to run
    valid, _ = checked_manifest(valid_input(task_name), "evaluate", task_name, config)
    checked_provenance(processed_input(task_name), "evaluate", task_name, config)
    for path in (layout.model_path(task_name), layout.run_file(task_name)):
        require(path, "evaluate", task_name, "train")
    paths = layout.task_paths(
        task_name, config.raw_dir(task_name), layout.task_reports(task_name) / "evaluation"
    )
    paths.reports_dir.mkdir(parents=True, exist_ok=True)  # a task may draw nothing there
    model = trainer.load_model(layout.model_path(task_name), paths)
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
        evaluation = evaluator.evaluate(model, valid, config.for_task("evaluate", task_name), paths)
        report = evaluation.to_json()
        write_json(layout.task_reports(task_name) / "metrics.json", report)
        _fail_on_non_finite(task_name, evaluation)
        write_json(SUMMARY_DIR / f"{task_name}.json", summary(evaluation))
        tracking.log_metrics(report)
        tracking.log_artifacts(paths.reports_dir, "evaluation")
        tracking.log_artifact(layout.validation_report(task_name), "validation")
    return (
        f"{task_name}: {evaluation.primary.name} {evaluation.value:.4f} "
        f"(baseline {evaluation.baseline.name}: {json.dumps(_rounded(evaluation.baseline.metrics))}"
        f"{'' if evaluation.beats_baseline else '; does NOT beat it'}); "
        f"report {layout.task_reports(task_name) / 'metrics.json'}"
    )


def _fail_on_non_finite(task_name: str, evaluation: Evaluation) -> None:
    """A NaN or infinite primary metric means a broken model: fail (run FAILED).

    Only the primary metric decides: a secondary figure may be undefined for an honest
    reason (R² of a test split whose angle never varies).
    """
    if not math.isfinite(evaluation.value):
        raise PipelineError(
            f"{task_name}: the model scores {evaluation.primary.name} {evaluation.value} on the "
            "test split: it is broken and will not be registered; retrain it (e.g. with a "
            "lower learning rate)"
        )


def summary(evaluation: Evaluation) -> dict[str, Any]:
    """The few figures an experiment table compares: every top-level `test_*` number, the
    baseline's figure for the primary metric (`baseline_<name>`) and `beats_baseline`.

    A non-finite figure becomes null: NaN is not JSON and would break the tools that read it.
    """
    figures: dict[str, Any] = {k: v for k, v in evaluation.metrics.items() if k.startswith("test_")}
    if evaluation.baseline_value is not None:
        short = evaluation.primary.name.removeprefix("test_")
        figures[f"baseline_{short}"] = evaluation.baseline_value
    clean = {k: v if math.isfinite(v) else None for k, v in figures.items()}
    return clean | {"beats_baseline": evaluation.beats_baseline}


def _rounded(figures: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 4) for k, v in figures.items()}
