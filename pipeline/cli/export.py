"""`export`: a trained model as a TFLite or ONNX file, re-scored on the test split."""

from enum import Enum, StrEnum
from typing import Annotated

import typer
from rich.markup import escape

from pipeline.cli.common import ParamsOption, fail, stdout
from pipeline.config import DEFAULT_PARAMS, load_config
from pipeline.core.errors import PipelineError
from pipeline.tasks import tasks_with

ExportingTask = Enum(  # type: ignore[misc]
    "ExportingTask", {name: name for name in tasks_with("export")}, type=str
)


class Format(StrEnum):
    tflite = "tflite"
    onnx = "onnx"


class Quantize(StrEnum):
    none = "none"
    dynamic = "dynamic"
    int8 = "int8"


def export(
    task: Annotated[
        ExportingTask,  # type: ignore[valid-type]
        typer.Argument(help="Dataset whose model to export.", show_default=False),
    ],
    model: Annotated[
        str | None,
        typer.Option(
            help="A .keras file or models:/TASK@alias (default: models/TASK/model.keras)."
        ),
    ] = None,
    format: Annotated[Format, typer.Option("--format", help="File format.")] = Format.tflite,
    quantize: Annotated[
        Quantize,
        typer.Option(help="none (float32), dynamic (int8 weights) or int8 (calibrated)."),
    ] = Quantize.none,
    params: ParamsOption = DEFAULT_PARAMS,
) -> None:
    """Export TASK's model as `models/TASK/export/` .tflite (builtin ops only) or .onnx.

    The file is scored on the test split with the task's own metric code beside the Keras
    model; `reports/TASK/export.md` gets a row (size, metric, difference, latency). Worse than
    `export.TASK.tolerance`: exit 1, the file is not kept and nothing goes to MLflow.
    """
    from pipeline.export.run import run

    try:
        message = run(
            task.value, load_config(params), model=model, fmt=format.value, quantize=quantize.value
        )
    except PipelineError as err:
        raise fail(err) from None
    stdout.print(escape(message))
