"""`pipeline tune`: a hyper-parameter sweep of one task on Ray Tune (the `tune` extra)."""

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from pipeline.cli.common import ParamsOption, TaskArgument, fail, stdout
from pipeline.config import DEFAULT_PARAMS
from pipeline.core.errors import PipelineError


def tune(
    task: TaskArgument,
    space: Annotated[
        list[str],
        typer.Option(
            "--space",
            "-s",
            help="KEY=SPEC over params keys, repeatable: `choice(a,b)`, `uniform(lo,hi)`, "
            "`loguniform(lo,hi)`, `randint(lo,hi)` or `a,b,c`, e.g. "
            "`train.driving.fit.learning_rate=loguniform(0.0001,0.01)`.",
        ),
    ],
    trials: Annotated[int, typer.Option(min=1, help="Trials, the params file's values first.")] = 8,
    max_concurrent: Annotated[
        int, typer.Option(min=1, help="Trials training at once (one CPU each).")
    ] = 2,
    address: Annotated[
        str | None,
        typer.Option(help="A Ray cluster (`ray://host:10001` or `auto`); default: local Ray."),
    ] = None,
    grace_epochs: Annotated[
        int, typer.Option(min=1, help="Epochs every trial runs before ASHA may stop it.")
    ] = 1,
    max_epochs: Annotated[
        int | None, typer.Option(min=1, help="ASHA's max_t; default: the params' epochs.")
    ] = None,
    keep_workspaces: Annotated[
        bool, typer.Option(help="Keep the trials' scratch folders (their logs) after.")
    ] = False,
    params: ParamsOption = DEFAULT_PARAMS,
) -> None:
    """Sweep TASK's params on Ray Tune: each trial a `pipeline train` in its own workspace
    and a child MLflow run, ASHA stopping poor trials early, the best trial evaluated and
    registered as `candidate`, its params written to `reports/tune/TASK/best.params.yaml`
    with the `dvc exp run -S` line that reproduces it."""
    from pipeline.tune import sweep

    options = sweep.Options(
        space=space,
        trials=trials,
        max_concurrent=max_concurrent,
        address=address,
        max_epochs=max_epochs,
        grace_epochs=grace_epochs,
        keep_workspaces=keep_workspaces,
    )
    try:
        message = sweep.run(task.value, Path(params), options)
    except PipelineError as err:
        raise fail(err) from None
    stdout.print(escape(message))
