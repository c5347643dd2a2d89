"""The task registry: every dataset the pipeline knows, by name, and the stages each has.

A new dataset is a `Task` subclass in its own subpackage, added to `TASKS`, with its
params sections in params.yaml (dvc.yaml fans each stage out over those sections); no
stage, CLI or core module changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

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

if TYPE_CHECKING:  # mypy holds every bound stage function to its protocol's signature
    _samples: list[Samples[Any]] = [Plates(), Driving(), Captions()]
    _ingests: list[Ingests[Any]] = [Plates(), PlateText(), Driving(), Captions()]
    _validates: list[Validates[Any]] = [Plates(), PlateText(), Driving(), Captions()]
    _augments: list[Augments[Any]] = [Plates(), PlateText(), Driving()]
    _features: list[ExtractsFeatures[Any]] = [Captions()]
    _trains: list[Trains[Any]] = [Plates(), PlateText(), Driving(), Captions()]
    _evaluates: list[Evaluates[Any]] = [Plates(), PlateText(), Driving(), Captions()]
    _predicts: list[Predicts] = [Plates(), PlateText(), Driving(), Captions()]
    _refines: list[Refines] = [PlateText()]
    _exports: list[Exports[Any]] = [PlateText(), Driving()]

T = TypeVar("T")


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


__all__ = ["STAGES", "TASKS", "Task", "task_with", "tasks_with"]
