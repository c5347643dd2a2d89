"""`register`: a new registered-model version of the trained model, aliased `candidate`.

A model whose evaluation metrics are not finite (training diverged) is not registered.
"""

import json

from pipeline.config import Config
from pipeline.core import layout, registry, tracking
from pipeline.tasks import TASKS


def run(task_name: str, config: Config) -> str:
    tracking.configure_tracking()
    metrics = json.loads((layout.task_reports(task_name) / "metrics.json").read_text())
    run = json.loads(layout.run_file(task_name).read_text())
    numbers = {  # json.loads reads NaN/Infinity as floats: registry.register refuses them
        k: float(v)
        for k, v in metrics.items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    }
    version = registry.register(
        task_name,
        run["run_id"],
        run["model_uri"],
        numbers,
        TASKS[task_name].primary_metric,
        str(metrics["test_split_hash"]),
        layout.model_dir(task_name) / "registered.json",
    )
    return f"{task_name}: registered version {version} as models:/{task_name}@candidate"
