"""Task classes are declarations over their modules, and the CLI imports them all at start:
so no task module may pull in the heavy libraries at import time."""

import subprocess
import sys

from pipeline.tasks import TASKS
from pipeline.tasks.base import Trains

HEAVY = ("tensorflow", "keras", "mlflow", "great_expectations", "matplotlib")


def test_starting_the_cli_imports_no_heavy_library():
    code = f"import sys, pipeline.cli; print([m for m in {HEAVY!r} if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_each_training_task_declares_the_metric_its_evaluate_reports():
    """`primary_metric` is the very constant the task's evaluate builds its Evaluation with."""
    for task in TASKS.values():
        if isinstance(task, Trains):
            evaluate_module = sys.modules[type(task).evaluate.__module__]
            assert task.primary_metric is evaluate_module.PRIMARY, task.name
