"""`drift`: does new data (a raw folder, a recording, a serving trail) still look like what
the model was trained on?"""

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from pipeline.cli.common import ParamsOption, TaskArgument, fail, stdout
from pipeline.config import DEFAULT_PARAMS, load_config
from pipeline.core.errors import PipelineError

#: the exit status when drift passes the thresholds (1 is an error, 2 a usage error)
DRIFT_EXIT = 3


class Embedding(StrEnum):
    auto = "auto"
    backbone = "backbone"
    pixels = "pixels"


def drift(
    task: TaskArgument,
    data: Annotated[
        Path,
        typer.Argument(
            help="A raw folder in any layout TASK's ingest reads (a `pipeline drive --record` "
            "folder too), or a serving trail folder.",
            show_default=False,
        ),
    ],
    model: Annotated[
        str | None,
        typer.Option(
            help="Model whose profile is the reference and whose predictions are "
            "compared (default: models:/TASK.champion@champion)."
        ),
    ] = None,
    reference: Annotated[
        Path | None,
        typer.Option(help="A profile folder (profile.json + profile.npz) to compare with instead."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Report folder (default: reports/drift/TASK).")
    ] = None,
    embedding: Annotated[
        Embedding,
        typer.Option(help="auto: the shared backbone if its weights are there, else pixels."),
    ] = Embedding.auto,
    predictions: Annotated[
        bool, typer.Option(help="Run the model on DATA and compare its predictions.")
    ] = True,
    mlflow: Annotated[
        bool, typer.Option(help="Log the report to MLflow (experiment `drift`).")
    ] = True,
    alpha: Annotated[
        float | None, typer.Option(help="Family-wise significance of the per-feature tests [0.01].")
    ] = None,
    min_effect: Annotated[
        float | None,
        typer.Option(help="Smallest drift, in reference standard deviations (Wasserstein) [0.5]."),
    ] = None,
    max_auc: Annotated[
        float | None,
        typer.Option(help="Embedding classifier ROC AUC that counts as drift [0.75]."),
    ] = None,
    params: ParamsOption = DEFAULT_PARAMS,
) -> None:
    """Compare DATA with the images, labels and predictions TASK's model was trained on.

    Per-feature Kolmogorov-Smirnov tests with effect sizes, an embedding domain classifier
    and the prediction distribution; writes `drift.html` and `drift.json` to the report
    folder and logs them to MLflow. Exit 0: no drift; 3: drift past the thresholds
    (`drift:` of params.yaml when present, else the defaults shown); 1: an error.
    """
    from pipeline.drift import reference as references
    from pipeline.drift.run import run

    try:
        config = load_config(params)
        overrides = {
            k: v
            for k, v in {"alpha": alpha, "min_effect": min_effect, "max_auc": max_auc}.items()
            if v is not None
        }
        base = references.params_of(config)
        try:
            thresholds = base.model_validate(base.model_dump() | overrides)
        except ValueError as err:
            raise PipelineError(f"drift thresholds: {str(err).splitlines()[-1].strip()}") from err
        outcome = run(
            task.value,
            data,
            config,
            params=thresholds,
            model_uri=model,
            reference_dir=reference,
            out_dir=out,
            embedding=embedding.value,
            predictions=predictions,
            log_to_mlflow=mlflow,
            say=lambda line: stdout.print(escape(line)),
        )
    except PipelineError as err:
        raise fail(err) from None
    verdict = outcome.result
    if verdict.drifted:
        stdout.print(f"[bold red]drift[/]: {escape('; '.join(verdict.reasons))}")
        raise typer.Exit(DRIFT_EXIT)
    stdout.print(f"[green]no drift[/] against the reference ({escape(str(outcome.out_dir))})")
