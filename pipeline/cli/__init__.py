"""`pipeline`: one command per stage, the task as an argument.

Heavy libraries (pandas, Great Expectations, TensorFlow, MLflow) are imported by the stage
that needs them, so `pipeline --help` answers at once. No command knows a task: which tasks
have a stage, the options of `predict` and any task's own commands come from the registry.
"""

import functools
from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.markup import escape

from pipeline.cli.common import ParamsOption, TaskArgument, TaskName, fail, stdout
from pipeline.config import DEFAULT_PARAMS, Config, load_config
from pipeline.core import quiet
from pipeline.core.errors import PipelineError
from pipeline.tasks import TASKS, task_with, tasks_with

app = typer.Typer(
    help=f"Reproducible MLOps pipeline over {len(TASKS)} image datasets ({', '.join(TASKS)}).\n\n"
    "Each command is one DVC stage; `dvc repro` runs them all in order.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)

__all__ = ["app", "tasks_with"]


@app.callback()
def main(
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            "-v",
            envvar=quiet.VERBOSE_ENV,
            help="Show the libraries' own output too: TensorFlow start-up lines, MLflow "
            "warnings and download bars (also PIPELINE_VERBOSE=1).",
        ),
    ] = False,
) -> None:
    """Set up quiet output before any command imports TensorFlow or MLflow."""
    quiet.configure(verbose)


def _run_stage(stage: str, task: TaskName, params: ParamsOption, run: Callable) -> None:
    """Run a stage of `task`; an expected failure becomes one line and exit 1."""
    from pipeline.tasks import STAGES

    try:
        task_with(task.value, stage, STAGES[stage])  # before reading params: the cheap check
        config: Config = load_config(params)
        message = run(task.value, config)
    except PipelineError as err:
        raise fail(err) from None
    stdout.print(escape(message))


def _tasks(stage: str) -> str:
    return ", ".join(tasks_with(stage)) or "none"


@app.command(
    help=f"""Write a small synthetic dataset in TASK's real on-disk format to
`data/sample/TASK/` (tasks: {_tasks("sample")}).

Deterministic from `seed`; sizes come from the `sample.TASK` section of params."""
)
def sample(task: TaskArgument, params: ParamsOption = DEFAULT_PARAMS) -> None:
    from pipeline.stages import sample as stage

    _run_stage("sample", task, params, stage.run)


@app.command()
def ingest(task: TaskArgument, params: ParamsOption = DEFAULT_PARAMS) -> None:
    """Read `data.TASK.raw_dir` into `data/interim/TASK/manifest.parquet` with a split column.

    Works on the sample or on the real dataset in the same format. No row is dropped:
    rows ingest cannot read carry an `issue` for `validate` to report.
    """
    from pipeline.stages import ingest as stage

    _run_stage("ingest", task, params, stage.run)


@app.command()
def validate(task: TaskArgument, params: ParamsOption = DEFAULT_PARAMS) -> None:
    """Check TASK's manifest and every file it names with a Great Expectations suite.

    Writes `valid.parquet` and `rejected.parquet` (with a `reason` per row) next to the
    manifest, `reports/validation/TASK.json` and HTML data docs under `reports/validation/`.
    Fails when the rejected share exceeds `validate.max_rejected_fraction` or a structural
    check (schema, overlapping splits) fails.
    """
    from pipeline.stages import validate as stage

    _run_stage("validate", task, params, stage.run)


@app.command(
    help=f"""Augment TASK's valid train split into `data/processed/TASK/`; val/test
copied as they are (tasks: {_tasks("augment")}).

Plots of the augmented data (before/after histograms, samples) in `reports/TASK/augment/`."""
)
def augment(task: TaskArgument, params: ParamsOption = DEFAULT_PARAMS) -> None:
    from pipeline.stages import augment as stage

    _run_stage("augment", task, params, stage.run)


@app.command(
    help=f"""Compute image embeddings of TASK's valid images into
`data/processed/TASK/` (tasks: {_tasks("features")}).

The backbone's features as `.npz` (no pickle) and the extractor itself for serving."""
)
def features(task: TaskArgument, params: ParamsOption = DEFAULT_PARAMS) -> None:
    from pipeline.stages import features as stage

    _run_stage("features", task, params, stage.run)


@app.command()
def pretext(task: TaskArgument, params: ParamsOption = DEFAULT_PARAMS) -> None:
    """Draw TASK's share of train images for the self-supervised backbone, resized, into
    `data/pretext/TASK.npz` (`pretrain.images_per_task` of them, `pretrain.image_size`)."""
    from pipeline.stages import pretext as stage

    _run_stage("ingest", task, params, stage.run)


@app.command()
def pretrain(params: ParamsOption = DEFAULT_PARAMS) -> None:
    """Train the self-supervised backbone (rotation prediction) on every task's train images.

    Writes `models/backbone/backbone.weights.h5`, used when `backbone.weights: selfsup`,
    and the pretext accuracy to `reports/backbone/pretext.json`.
    """
    from pipeline.stages import pretrain as stage

    try:
        message = stage.run(load_config(params))
    except PipelineError as err:
        raise fail(err) from None
    stdout.print(escape(message))


@app.command(
    help=f"""Train TASK's model into `models/TASK/model.keras` (tasks: {_tasks("train")}).

Opens an MLflow run with the stage's params, per-epoch metrics, git and DVC lineage. An
interrupted run resumes from its last finished epoch when rerun."""
)
def train(task: TaskArgument, params: ParamsOption = DEFAULT_PARAMS) -> None:
    from pipeline.stages import train as stage

    _run_stage("train", task, params, stage.run)


@app.command()
def evaluate(task: TaskArgument, params: ParamsOption = DEFAULT_PARAMS) -> None:
    """Score TASK's model on the test split beside its trivial baseline.

    Writes `reports/TASK/metrics.json` and plots, and logs them into the training's MLflow run.
    """
    from pipeline.stages import evaluate as stage

    _run_stage("evaluate", task, params, stage.run)


@app.command()
def register(task: TaskArgument, params: ParamsOption = DEFAULT_PARAMS) -> None:
    """Register TASK's trained model as a new MLflow model version aliased `candidate`."""
    from pipeline.stages import register as stage

    _run_stage("register", task, params, stage.run)


def _add_commands() -> None:
    """The registry commands, `predict`, `bench`, `plots`, `deps`, `export` and the commands
    tasks bring."""
    from pipeline.cli import bench, datasets, deps, drift, export, plots, predict, registry, users
    from pipeline.cli.tune import tune

    app.command()(registry.promote)
    app.command()(registry.models)
    app.command()(predict.build_command())
    app.command()(bench.bench)
    app.command()(plots.plots)
    app.command()(deps.deps)
    app.command(name="check-data")(datasets.check_data)
    app.command()(users.server)
    app.add_typer(users.users_app, name="users")
    app.command()(export.export)
    app.command()(drift.drift)
    app.command()(tune)
    for task in TASKS.values():
        for command in task.commands():
            app.command()(_one_line_errors(command))


def _one_line_errors(command: Callable[..., None]) -> Callable[..., None]:
    """A task's own command, whose expected failures end as one line and exit 1."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> None:
        try:
            command(*args, **kwargs)
        except PipelineError as err:
            raise fail(err) from None

    return run


_add_commands()

if __name__ == "__main__":
    app()
