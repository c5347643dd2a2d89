"""The one tiny params profile the tests run with, built from the tasks' own declarations.

Each params field may declare its value in a run of seconds beside its default
(`Field(160, gt=0, **tiny(20))`, `pipeline.core.section.tiny`), so each task knows how its
params shrink (`Task.tiny()`);
this module adds the few settings of no task (the shared backbone's pretraining, the
rejection budget that a dozen images needs) and applies both to a copy of params.yaml.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from pipeline.core.mappings import merged
from pipeline.tasks import TASKS, Task, tasks_with

REPO = Path(__file__).parents[1]

#: settings of no task: a few images of pretraining, a rejection budget for a dozen images,
#: no drift profile at registration
SHARED: dict[str, Any] = {
    "validate": {"max_rejected_fraction": 0.25},
    "pretrain": {"images_per_task": 8, "epochs": 1, "image_size": 32},
    "drift": {"at_register": False},  # the end-to-end run turns it on: seconds per task
}


def tiny_params(
    params: dict[str, Any] | None = None, tasks: dict[str, Task] | None = None
) -> dict[str, Any]:
    """params.yaml (or `params`) shrunk by every task's `tiny` and the shared settings."""
    params = yaml.safe_load((REPO / "params.yaml").read_text()) if params is None else params
    for task in (tasks or TASKS).values():
        params = merged(
            params, {section: {task.name: values} for section, values in task.tiny().items()}
        )
    return merged(params, SHARED)


def raw_producers(task: str, params: dict[str, Any]) -> list[str]:
    """The tasks whose `sample` writes `task`'s raw folder (plates_text reads the plates one)."""
    raw_dir = params["data"][task]["raw_dir"]
    return [name for name in tasks_with("sample") if params["data"][name]["raw_dir"] == raw_dir]


def processed_by(task: str) -> str:
    """The stage that makes `task`'s processed folder: `augment` or `features`."""
    return "augment" if task in tasks_with("augment") else "features"
