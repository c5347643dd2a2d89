"""The task registry: every dataset the pipeline knows, by name, and the stages each has.

A new dataset is a `Task` subclass in its own subpackage, added to `TASKS`, with its
params sections in params.yaml (dvc.yaml fans each stage out over those sections); no
stage, CLI or core module changes.
"""

from __future__ import annotations

import inspect
from typing import Any, TypeVar

from pipeline.core.errors import PipelineError
from pipeline.tasks.base import (
    Augments,
    Evaluates,
    Exports,
    ExtractsFeatures,
    Ingests,
    Predicts,
    Refines,
    Samples,
    Task,
    Trains,
    Validates,
)
from pipeline.tasks.captions import Captions
from pipeline.tasks.driving import Driving
from pipeline.tasks.plates import Plates
from pipeline.tasks.plates_text import PlateText

TASKS: dict[str, Task] = {
    task.name: task for task in (Plates(), PlateText(), Driving(), Captions())
}

#: the protocol a task implements to have each per-task command
STAGES: dict[str, type] = {
    "sample": Samples,
    "ingest": Ingests,
    "validate": Validates,
    "augment": Augments,
    "features": ExtractsFeatures,
    "train": Trains,
    "evaluate": Evaluates,
    "register": Trains,
    "promote": Trains,
    "models": Trains,
    "predict": Predicts,
    "export": Exports,
}

T = TypeVar("T")


def declaration_errors(task: Task) -> list[str]:
    """How `task`'s bound stage functions differ from their protocols' signatures (parameter
    names and kinds), for every protocol its class implements: the one check every task's
    declaration gets (tests/code/test_task_declarations.py runs it over `TASKS`)."""
    errors = []
    for protocol in {*STAGES.values(), Refines}:
        if not isinstance(task, protocol):
            continue
        for name, wanted in vars(protocol).items():
            if name.startswith("_") or not inspect.isfunction(wanted):
                continue
            expected = list(inspect.signature(wanted).parameters.values())[1:]  # no self
            found = list(inspect.signature(getattr(task, name)).parameters.values())
            if [(p.name, p.kind) for p in expected] != [(p.name, p.kind) for p in found]:
                errors.append(
                    f"{task.name}.{name}{inspect.signature(getattr(task, name))} does not match "
                    f"{protocol.__name__}.{name}({', '.join(map(str, expected))})"
                )
    return errors


def tasks_with(stage: str) -> list[str]:
    """The names of the tasks that have `stage`."""
    return [name for name, task in TASKS.items() if isinstance(task, STAGES[stage])]


def task_with(name: str, stage: str, protocol: type[T]) -> T:
    """Task `name` as the implementation of `stage`, or one line naming the tasks that have it."""
    task: Any = TASKS.get(name)
    if task is None:
        raise PipelineError(f"no task {name!r}; tasks: {', '.join(TASKS)}")
    if not isinstance(task, protocol):
        have = ", ".join(tasks_with(stage)) or "none"
        raise PipelineError(
            f"{name} has no `{stage}` stage; tasks that have one: {have} "
            "(`dvc repro` runs each task's own stages, see dvc.yaml)"
        )
    return task


__all__ = ["STAGES", "TASKS", "Task", "declaration_errors", "task_with", "tasks_with"]
