"""`check-data`: every `data.<task>.raw_dir` is there before DVC hashes it.

DVC checks a stage's deps before it runs the stage's command, so a missing raw folder under
`dvc repro` reads `[Errno 2] No such file or directory` with no word of which param set it.
`make repro` and `make exp` run this first; a folder under `data/sample/` is made by the
pipeline's own `sample` stage and need not exist yet.
"""

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from pipeline.cli.common import stderr, stdout

SAMPLES = Path("data/sample")


def check_data(
    params: Annotated[Path, typer.Option("--params", help="Params file to read.")] = Path(
        "params.yaml"
    ),
) -> None:
    """Say which `data.<task>.raw_dir` is missing, by its key, before `dvc repro` runs."""
    from pipeline.config import load_config
    from pipeline.core.errors import PipelineError

    try:
        config = load_config(params)
    except PipelineError as err:
        stderr.print(f"error: {escape(str(err))}")
        raise typer.Exit(1) from None
    missing = [
        (task, raw)
        for task in type(config.data).model_fields
        if not (raw := config.raw_dir(task)).is_dir() and SAMPLES not in raw.parents
    ]
    for task, raw in missing:
        stderr.print(
            f"error: data.{task}.raw_dir: {escape(str(raw))} is not a folder: point it at the "
            f"dataset (in {escape(str(params))} or with `-S data.{task}.raw_dir=...`), or back "
            f"at {SAMPLES / task}"
        )
    if missing:
        raise typer.Exit(1)
    stdout.print("every data.*.raw_dir is a folder, or a sample the pipeline makes")
