"""`deps`: the source files each DVC stage runs, as `code_deps/` links (`pipeline.core.lineage`)."""

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from pipeline.cli.common import stderr, stdout


def deps(
    write: Annotated[
        bool, typer.Option("--write", help="Rewrite code_deps/ from the imports.")
    ] = False,
    check: Annotated[
        bool,
        typer.Option("--check", help="Exit 1 when code_deps/ or dvc.yaml miss an import."),
    ] = False,
) -> None:
    """List the source files each stage@task of dvc.yaml runs, read from the imports.

    `--write` also writes dvc.yaml's `plots` from the tasks' declarations (`Task.plots`).

    dvc.yaml lists one folder per stage@task, `code_deps/<stage>/<task>/`, of links to those
    files: run `pipeline deps --write` after adding or removing an import.
    """
    from pipeline.core import dvc_plots, lineage
    from pipeline.tasks import TASKS

    root = Path.cwd()
    declared = {name: task.plots for name, task in TASKS.items()}
    if write:
        written = lineage.write_links(root)
        files = sum(len(links) for links in written.values())
        stdout.print(f"{lineage.LINKS_DIR}: {len(written)} folders, {files} links")
        dvc_plots.write(root, declared)
        stdout.print(f"{dvc_plots.DVC_FILE}: {len(dvc_plots.entries(declared))} plots")
    problems = (
        lineage.stale(root) + lineage.dvc_entries_missing(root) + dvc_plots.stale(root, declared)
    )
    if check or write:
        for problem in problems:
            stderr.print(escape(problem))
        if problems:
            stderr.print("run `pipeline deps --write` (and list the folder in dvc.yaml)")
            raise typer.Exit(1)
        stdout.print("code deps up to date")
        return
    for folder, links in lineage.expected_links(root).items():
        stdout.print(escape(f"{folder}: {len(links)} files"))
        for file in links.values():
            stdout.print(escape(f"  {file}"))
