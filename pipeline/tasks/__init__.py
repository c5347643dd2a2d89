"""The task registry: every dataset the pipeline knows, by name.

A new dataset is a `Task` subclass in its own subpackage, added here; stages never change.
"""

from pipeline.tasks.base import Task
from pipeline.tasks.captions import Captions
from pipeline.tasks.driving import Driving
from pipeline.tasks.plates import Plates

TASKS: dict[str, Task] = {task.name: task for task in (Plates(), Driving(), Captions())}

__all__ = ["TASKS", "Task"]
