"""Task classes are declarations over their modules, and the CLI imports them all at start:
so no task module may pull in the heavy libraries at import time."""

import subprocess
import sys

from pipeline.tasks import TASKS, declaration_errors
from pipeline.tasks.base import Trains

HEAVY = ("tensorflow", "keras", "mlflow", "great_expectations", "matplotlib", "ray")


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


def test_every_bound_stage_function_has_its_protocols_signature():
    assert {name: declaration_errors(task) for name, task in TASKS.items()} == {
        name: [] for name in TASKS
    }


def test_a_stage_function_with_swapped_parameters_is_named():
    from pipeline.tasks.base import Task

    def swapped(params, raw_dir, seed):  # the protocol's order is raw_dir, params, seed
        raise AssertionError("never called")

    class Swapped(Task):
        name = "swapped"
        read_raw = staticmethod(swapped)

    (error,) = declaration_errors(Swapped())
    assert error.startswith("swapped.read_raw(params, raw_dir, seed) does not match Ingests.")
