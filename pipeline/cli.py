"""`pipeline`: one command per stage, the task as an argument.

Heavy libraries (pandas, Great Expectations, TensorFlow, MLflow) are imported by the stage
that needs them, so `pipeline --help` answers at once.
"""

from enum import Enum
from importlib import import_module
from importlib.util import find_spec
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from pipeline.config import DEFAULT_PARAMS, load_config
from pipeline.core import quiet
from pipeline.core.errors import PipelineError
from pipeline.tasks import TASKS

app = typer.Typer(
    help="Reproducible MLOps pipeline for licence plates, driving logs and Flickr8k captions.\n\n"
    "Each command is one DVC stage; `dvc repro` runs them all in order.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)
stdout = Console(soft_wrap=True)
stderr = Console(stderr=True, soft_wrap=True)

TaskName = Enum("TaskName", {name: name for name in TASKS}, type=str)  # type: ignore[misc]
TaskArgument = Annotated[TaskName, typer.Argument(help="Dataset to work on.", show_default=False)]
ParamsOption = Annotated[
    Path, typer.Option("--params", help="Params file to read instead of params.yaml.")
]


#: stages only some tasks have, and the task module (`pipeline/tasks/<task>/<module>.py`)
#: that gives a task the stage
OPTIONAL_STAGES = {"augment": "augment", "features": "features"}


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


def _fail(err: PipelineError) -> typer.Exit:
    stderr.print(f"[bold red]error:[/] {escape(str(err))}")
    return typer.Exit(1)


def tasks_with(stage: str) -> list[str]:
    """The tasks that have `stage` (every task has the stages not in OPTIONAL_STAGES)."""
    module = OPTIONAL_STAGES.get(stage)
    if module is None:
        return list(TASKS)
    return [
        name
        for name, task in TASKS.items()
        if find_spec(f"{type(task).__module__}.{module}") is not None
    ]


def _check_stage(stage: str, task: str) -> None:
    have = tasks_with(stage)
    if task not in have:
        raise PipelineError(
            f"{task} has no `{stage}` stage; tasks that have one: {', '.join(have) or 'none'} "
            f"(`dvc repro` runs each task's own stages, see dvc.yaml)"
        )


def _run_stage(stage: str, task: TaskName | None, params: Path) -> None:
    """Run `pipeline.stages.<stage>.run`; an expected failure becomes one line and exit 1."""
    try:
        if task is not None:
            _check_stage(stage, task.value)
        config = load_config(params)
        run = import_module(f"pipeline.stages.{stage}").run
        message = run(config) if task is None else run(task.value, config)
    except PipelineError as err:
        raise _fail(err) from None
    stdout.print(escape(message))


@app.command()
def sample(task: TaskArgument, params: ParamsOption = DEFAULT_PARAMS) -> None:
    """Write a small synthetic dataset in TASK's real on-disk format to `data/sample/TASK/`.

    Deterministic from `seed`; sizes come from the `sample.TASK` section of params.
    """
    _run_stage("sample", task, params)


@app.command()
def ingest(task: TaskArgument, params: ParamsOption = DEFAULT_PARAMS) -> None:
    """Read `data.TASK.raw_dir` into `data/interim/TASK/manifest.parquet` with a split column.

    Works on the sample or on the real dataset in the same format. No row is dropped:
    rows ingest cannot read carry an `issue` for `validate` to report.
    """
    _run_stage("ingest", task, params)


@app.command()
def validate(task: TaskArgument, params: ParamsOption = DEFAULT_PARAMS) -> None:
    """Check TASK's manifest and every file it names with a Great Expectations suite.

    Writes `valid.parquet` and `rejected.parquet` (with a `reason` per row) next to the
    manifest, `reports/validation/TASK.json` and HTML data docs under `reports/validation/`.
    Fails when the rejected share exceeds `validate.max_rejected_fraction` or a structural
    check (schema, overlapping splits) fails.
    """
    _run_stage("validate", task, params)


@app.command()
def augment(task: TaskArgument, params: ParamsOption = DEFAULT_PARAMS) -> None:
    """Augment TASK's valid train split into `data/processed/TASK/`; val/test copied as they are.

    Driving: side cameras with the steering correction, flips, brightness, shifts and
    down-sampling of straight driving, with before/after histograms in `reports/TASK/augment/`.
    """
    _run_stage("augment", task, params)


@app.command()
def features(task: TaskArgument, params: ParamsOption = DEFAULT_PARAMS) -> None:
    """Compute image embeddings of TASK's valid images into `data/processed/TASK/`.

    Captions: the backbone's feature map pooled to a small grid (`.npz`, no pickle), and
    the extractor itself as `extractor.keras` for serving.
    """
    _run_stage("features", task, params)


@app.command()
def pretrain(params: ParamsOption = DEFAULT_PARAMS) -> None:
    """Train the self-supervised backbone (rotation prediction) on every task's train images.

    Writes `models/backbone/backbone.weights.h5`, used when `backbone.weights: selfsup`,
    and the pretext accuracy to `reports/backbone/pretext.json`.
    """
    _run_stage("pretrain", None, params)


@app.command()
def train(task: TaskArgument, params: ParamsOption = DEFAULT_PARAMS) -> None:
    """Train TASK's model (two-phase fine-tuning) into `models/TASK/model.keras`.

    Opens an MLflow run with every param, per-epoch metrics, git and DVC lineage. An
    interrupted run resumes from its last finished epoch when rerun.
    """
    _run_stage("train", task, params)


@app.command()
def evaluate(task: TaskArgument, params: ParamsOption = DEFAULT_PARAMS) -> None:
    """Score TASK's model on the test split beside its trivial baseline.

    Writes `reports/TASK/metrics.json` and plots, and logs them into the training's MLflow run.
    """
    _run_stage("evaluate", task, params)


@app.command()
def register(task: TaskArgument, params: ParamsOption = DEFAULT_PARAMS) -> None:
    """Register TASK's trained model as a new MLflow model version aliased `candidate`."""
    _run_stage("register", task, params)


@app.command()
def promote(
    task: TaskArgument,
    version: Annotated[
        int | None, typer.Option(help="Version to promote (default: the `candidate`).")
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Promote even if it does not beat the champion (never a non-finite metric).",
        ),
    ] = False,
    rollback: Annotated[
        bool, typer.Option("--rollback", help="Give `champion` back to its previous holder.")
    ] = False,
) -> None:
    """Move TASK's `champion` alias to a version that beats the current champion.

    Both are compared on the primary test metric measured on the same test split; a
    version whose metric is not finite is never promoted. Every decision (who, when, both
    versions and figures, forced or not, why) is appended to the promotion history: tags
    `promotion.NNNN.*` on the registered model and on the version, shown by `models --history`.
    """
    from pipeline.core import registry, tracking

    primary = TASKS[task.value].primary_metric
    try:
        tracking.configure_tracking()
        if rollback:
            decision = registry.rollback(task.value, primary)
        else:
            decision = registry.promote(task.value, primary, version=version, force=force)
    except PipelineError as err:
        raise _fail(err) from None
    (stdout if decision.promoted else stderr).print(escape(f"{task.value}: {decision.reason}"))
    if not decision.promoted:
        if "does not beat" in decision.reason or "different test splits" in decision.reason:
            stderr.print("(--force promotes it anyway; `pipeline models` lists the versions)")
        raise typer.Exit(1)


@app.command()
def predict(
    task: TaskArgument,
    images: Annotated[list[Path], typer.Argument(help="Image files.", show_default=False)],
    model: Annotated[
        str | None,
        typer.Option(help="Model URI (default: models:/TASK@champion)."),
    ] = None,
    beam: Annotated[int, typer.Option(min=1, help="captions: beam size; 1 = greedy.")] = 1,
    out: Annotated[
        Path | None, typer.Option(help="plates: folder for the images with their boxes drawn.")
    ] = None,
    min_score: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="plates: lowest score of a plate shown.")
    ] = 0.3,
) -> None:
    """Apply a registered model of TASK to image files.

    captions: one caption per image. plates: the boxes of each image, in its pixels (and
    the drawn images with --out). driving: the steering angle of each 320x160 frame.
    """
    from pipeline import predict as predicting

    uri = model or f"models:/{task.value}@champion"
    try:
        if task.value == "captions":
            for path, caption in predicting.caption(images, uri, beam):
                stdout.print(f"{escape(str(path))}: {escape(caption)}")
        elif task.value == "plates":
            for path, rows in predicting.detect_plates(images, uri, min_score, out):
                boxes = "; ".join(
                    f"[{r['x1']:.0f}, {r['y1']:.0f}, {r['x2']:.0f}, {r['y2']:.0f}] {r['score']:.2f}"
                    for r in rows
                )
                stdout.print(f"{escape(str(path))}: {len(rows)} plate(s) {escape(boxes)}")
            if out is not None:
                stdout.print(f"drawn images in {escape(str(out))}")
        else:
            for path, angle in predicting.steer(images, uri):
                stdout.print(f"{escape(str(path))}: steering {angle:+.4f}")
    except PipelineError as err:
        raise _fail(err) from None


@app.command()
def bench(
    names: Annotated[
        list[str] | None,
        typer.Argument(
            help="Benchmarks to run (default: all): caption-greedy, caption-beam, features, "
            "driving-input, driving-infer, ingest-1m, scale, repro-noop.",
            show_default=False,
        ),
    ] = None,
    quick: Annotated[bool, typer.Option("--quick", help="Tiny inputs, one repeat.")] = False,
    out: Annotated[Path, typer.Option(help="Folder of bench.json and bench.md.")] = Path("reports"),
) -> None:
    """Time our way and the textbook's way of the same work, side by side, on this machine.

    Each benchmark first checks that both give the same results, then reports the median
    of several runs after a warm-up, the ratio and its goal, in `reports/bench.md`.
    """
    from pipeline import bench as benchmarks

    try:
        results = benchmarks.run(names or [], quick, out)
    except PipelineError as err:
        raise _fail(err) from None
    stdout.print((out / "bench.md").read_text())
    if any(r.agree is False for r in results):
        stderr.print("[bold red]error:[/] outputs disagree; timings were not taken for those")
        raise typer.Exit(1)


@app.command()
def models(
    task: TaskArgument,
    history: Annotated[
        bool, typer.Option("--history", help="Also print every promotion decision, oldest first.")
    ] = False,
) -> None:
    """List TASK's registered versions with their aliases, primary metric and last decision."""
    from rich.table import Table

    from pipeline.core import registry, tracking

    primary = TASKS[task.value].primary_metric
    try:
        tracking.configure_tracking()
        versions = registry.list_versions(task.value)
        records = registry.promotion_history(task.value) if history else []
    except PipelineError as err:
        raise _fail(err) from None
    table = Table(
        title=f"{task.value} models ({primary.name}, "
        f"{'higher' if primary.greater_is_better else 'lower'} is better)"
    )
    for column in ("version", "aliases", primary.name, "run", "created", "last decision"):
        table.add_column(column)
    for row in versions:
        value = row.get("primary_value")
        table.add_row(
            str(row["version"]),
            ", ".join(row.get("aliases", [])),
            "-" if value is None else f"{value:.4f}",
            str(row.get("run_id", ""))[:8],
            str(row.get("created", "")),
            str(row.get("promotion", "")),
        )
    stdout.print(table)
    for record in records:
        stdout.print(
            escape(
                f"{record.seq:04d} {record.at} {record.by} {record.action} v{record.version}: "
                f"{record.outcome}, champion {record.champion_before} -> {record.champion_after} "
                f"({record.metric} {record.candidate_value} vs {record.champion_value}"
                f"{', forced' if record.forced else ''}) {record.reason}"
            )
        )


if __name__ == "__main__":
    app()
