"""`register`: a new registered-model version of the trained model, aliased `candidate`.

A model whose evaluation metrics are not finite (training diverged) is not registered. The
train split's drift profile (`pipeline.drift`) is stored with the version, as the artifact
`drift/` of its run and in `models/<task>/drift/`, for `pipeline drift` to compare with.
"""

import json

from pipeline.config import Config
from pipeline.core import layout, registry, tracking
from pipeline.core.io import atomic_dir
from pipeline.stages.inputs import require
from pipeline.tasks import Trains, task_with
from pipeline.tasks.base import Evaluation


def _no_reference(task_name: str) -> None:
    """`models/<task>/drift/` (a declared output) without a profile, saying why: an earlier
    model's profile must not be taken for this one's."""
    from pipeline.drift.reference import reference_dir

    with atomic_dir(reference_dir(task_name)) as folder:
        (folder / "NO_PROFILE.txt").write_text(
            "drift.at_register is false: no drift profile was stored with this version.\n"
            "Set it to true and rerun `dvc repro`, or give `pipeline drift` a profile folder.\n"
        )


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
    else:
        _no_reference(task_name)
    return f"{task_name}: registered version {version} as models:/{task_name}@candidate"
