"""`promote` and `models`: the registry's aliases and promotion history."""

from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from pipeline.cli.common import TaskArgument, fail, stderr, stdout
from pipeline.core.errors import PipelineError
from pipeline.tasks import Trains, task_with
from pipeline.tasks.base import PrimaryMetric

if TYPE_CHECKING:
    from pipeline.core.registry.history import Record


def _primary(task_name: str) -> PrimaryMetric:
    """The primary metric of a task that has a model (one line if it has none)."""
    try:
        return task_with(task_name, "promote", Trains).primary_metric
    except PipelineError as err:
        raise fail(err) from None


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
    """Move `champion` to a version of TASK that beats the current champion.

    The version is copied into the registered model `TASK.champion`, whose alias `champion`
    predict, drive and serve load (on a team server only maintainers may edit it). Both are
    compared on the primary test metric measured on the same test split; a
    version whose metric is not finite is never promoted. Every decision (who, when, both
    versions and figures, forced or not, why) is appended to the promotion history: tags
    `promotion.NNNN.*` on `TASK.champion` and on the version, shown by `models --history`.
    """
    from pipeline.core import registry, tracking

    primary = _primary(task.value)
    try:
        tracking.configure_tracking()
        if rollback:
            decision = registry.rollback(task.value, primary)
        else:
            decision = registry.promote(task.value, primary, version=version, force=force)
    except PipelineError as err:
        raise fail(err) from None
    (stdout if decision.promoted else stderr).print(escape(f"{task.value}: {decision.reason}"))
    if not decision.promoted:
        if "does not beat" in decision.reason or "different test splits" in decision.reason:
            stderr.print("(--force promotes it anyway; `pipeline models` lists the versions)")
        raise typer.Exit(1)


def models(
    task: TaskArgument,
    history: Annotated[
        bool, typer.Option("--history", help="Also print every promotion decision, oldest first.")
    ] = False,
) -> None:
    """List TASK's registered versions with their aliases, primary metric and last decision."""
    from rich.table import Table

    from pipeline.core import registry, tracking

    primary = _primary(task.value)
    try:
        tracking.configure_tracking()
        versions = registry.list_versions(task.value)
        records = registry.promotion_history(task.value) if history else []
    except PipelineError as err:
        raise fail(err) from None
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
        stdout.print(escape(history_line(record)))


def history_line(record: "Record") -> str:
    """One decision as `models --history` prints it; a figure or champion that does not
    exist (the first promotion has no champion to compare with) is left out, not `None`."""

    def version(number: int | None) -> str:
        return "none" if number is None else str(number)

    candidate, champion = record.candidate_value, record.champion_value
    if candidate is not None and champion is not None:
        figures = f"{record.metric} {candidate} vs {champion}"
    elif candidate is not None:
        figures = f"{record.metric} {candidate}"
    elif champion is not None:
        figures = f"champion's {record.metric} {champion}"
    else:
        figures = ""
    if record.forced:
        figures = f"{figures}, forced" if figures else "forced"
    return (
        f"{record.seq:04d} {record.at} {record.by} {record.action} v{record.version}: "
        f"{record.outcome}, champion {version(record.champion_before)} -> "
        f"{version(record.champion_after)}{f' ({figures})' if figures else ''} {record.reason}"
        + (f" [registered by {record.registered_by}]" if record.registered_by else "")
    )
