"""What every command shares: the consoles, the task argument, the one-line error."""

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from pipeline.core.errors import PipelineError
from pipeline.tasks import TASKS

stdout = Console(soft_wrap=True)
stderr = Console(stderr=True, soft_wrap=True)

TaskName = Enum("TaskName", {name: name for name in TASKS}, type=str)  # type: ignore[misc]
TaskArgument = Annotated[TaskName, typer.Argument(help="Dataset to work on.", show_default=False)]
ParamsOption = Annotated[
    Path, typer.Option("--params", help="Params file to read instead of params.yaml.")
]


def fail(err: PipelineError) -> typer.Exit:
    """An expected failure: one red line on stderr, exit 1."""
    stderr.print(f"[bold red]error:[/] {escape(str(err))}")
    return typer.Exit(1)
