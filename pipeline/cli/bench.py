"""`bench`: our way and the textbook's way of the same work, timed side by side."""

from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli.common import fail, stderr, stdout
from pipeline.core.errors import PipelineError


def bench(
    names: Annotated[
        list[str] | None,
        typer.Argument(
            help="Benchmarks to run (default: all; reports/bench.md names them; an unknown "
            "name lists them).",
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
        raise fail(err) from None
    stdout.print((out / "bench.md").read_text(), markup=False)
    if any(r.agree is False for r in results):
        stderr.print("[bold red]error:[/] outputs disagree; timings were not taken for those")
        raise typer.Exit(1)
