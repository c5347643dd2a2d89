"""`predict`: one command for every task; its options are the ones the tasks declare.

Each task lists the options it reads (`Predicts.predict_options`), so the command's
signature is built from the registry: a new task's option appears here without an edit.
"""

import inspect
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from pipeline.cli.common import fail, stdout
from pipeline.core.errors import PipelineError
from pipeline.core.registry.names import champion_uri
from pipeline.tasks import TASKS, Predicts, task_with, tasks_with
from pipeline.tasks.base import PredictOption

#: only the tasks whose model takes a photo are offered (plates_text reads a plate crop:
#: `predict plates --read` reads the plates it finds)
PredictingTask = Enum(  # type: ignore[misc]
    "PredictingTask", {name: name for name in tasks_with("predict")}, type=str
)
PredictingTaskArgument = Annotated[
    PredictingTask,  # type: ignore[valid-type]
    typer.Argument(help="Dataset whose model to apply.", show_default=False),
]


def _declared() -> dict[str, tuple[PredictOption, list[str]]]:
    """Every option some task reads, with the tasks that read it (one definition each)."""
    found: dict[str, tuple[PredictOption, list[str]]] = {}
    for name, task in TASKS.items():
        if not isinstance(task, Predicts):
            continue
        for option in task.predict_options:
            first, users = found.setdefault(option.name, (option, []))
            if (first.type, first.default) != (option.type, option.default):
                raise TypeError(f"predict option --{option.name} is declared twice, differently")
            users.append(name)
    return found


def _parameter(option: PredictOption, users: list[str]) -> inspect.Parameter:
    flag = "--" + option.name.replace("_", "-")
    annotation: Any = option.type if option.default is not None else option.type | None
    return inspect.Parameter(
        option.name,
        inspect.Parameter.KEYWORD_ONLY,
        default=option.default,
        annotation=Annotated[
            annotation,
            typer.Option(
                flag, help=f"{', '.join(users)}: {option.help}.", min=option.min, max=option.max
            ),
        ],
    )


def predict(
    task: PredictingTaskArgument,
    images: Annotated[list[Path], typer.Argument(help="Image files.", show_default=False)],
    model: Annotated[
        str | None,
        typer.Option(help="Model URI (default: models:/TASK.champion@champion, the champion)."),
    ] = None,
    **given: Any,
) -> None:
    """Apply a registered model of TASK to image files: one line per image.

    The model is the task's pyfunc (the same one `mlflow models serve` serves): it takes
    the encoded image bytes, any size, and does its own preprocessing.
    """
    from pipeline import predict as predicting

    declared = _declared()
    try:
        chosen = task_with(task.value, "predict", Predicts)
        own = {option.name for option in chosen.predict_options}
        foreign = [
            f"--{name.replace('_', '-')}"
            for name, value in given.items()
            if name not in own and value != declared[name][0].default
        ]
        if foreign:
            raise PipelineError(f"{task.value} has no option {', '.join(foreign)}")
        options = {name: given[name] for name in own}
        lines = predicting.run(chosen, images, model or champion_uri(task.value), options)
    except PipelineError as err:
        raise fail(err) from None
    for line in lines:
        stdout.print(escape(line))


def build_command() -> Any:
    """`predict` with one keyword-only parameter per declared option, for Typer to read."""
    signature = inspect.signature(predict)
    fixed = [p for p in signature.parameters.values() if p.kind != p.VAR_KEYWORD]
    options = [_parameter(option, users) for option, users in _declared().values()]

    def command(**values: Any) -> None:
        fixed_values = {p.name: values.pop(p.name) for p in fixed}
        predict(**fixed_values, **values)

    command.__name__ = "predict"
    command.__doc__ = predict.__doc__
    command.__signature__ = signature.replace(parameters=[*fixed, *options])  # type: ignore[attr-defined]
    return command
