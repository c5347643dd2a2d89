"""`register`: a new registered-model version of the trained model, aliased `candidate`.

A model whose evaluation metrics are not finite (training diverged) is not registered. The
train split's drift profile (`pipeline.drift`) is stored with the version, as the artifact
`drift/` of its run and in `models/<task>/drift/`, for `pipeline drift` to compare with.
"""

import json

from pipeline.config import Config
from pipeline.core import layout, registry, tracking
from pipeline.stages.inputs import require
from pipeline.tasks import Trains, task_with
from pipeline.tasks.base import Evaluation


def run(task_name: str, config: Config) -> str:
    task = task_with(task_name, "register", Trains)
    run_file = require(layout.run_file(task_name), "register", task_name, "train")
    metrics = require(
        layout.task_reports(task_name) / "metrics.json", "register", task_name, "evaluate"
    )
    tracking.configure_tracking()
    evaluation = Evaluation.from_json(json.loads(metrics.read_text()), task.primary_metric)
    run = json.loads(run_file.read_text())
    if config.drift.at_register:  # before registering: a model that cannot predict stops here
        from pipeline.drift.reference import build_reference

        reference = build_reference(task_name, config, model_uri=run["model_uri"])
    version = registry.register(
        task_name,
        run["run_id"],
        run["model_uri"],
        evaluation.metrics,  # json.loads reads NaN/Infinity as floats: register refuses them
        evaluation.primary,
        evaluation.split_fingerprint,
        layout.model_dir(task_name) / "registered.json",
    )
    if config.drift.at_register:
        from pipeline.drift.reference import log_reference

        log_reference(run["run_id"], reference)
    return f"{task_name}: registered version {version} as models:/{task_name}@candidate"
