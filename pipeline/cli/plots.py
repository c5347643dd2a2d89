"""`pipeline plots`: `dvc plots show` with a page that needs no network."""

import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from pipeline.cli.common import fail, stdout
from pipeline.core.errors import PipelineError


def _repo_root(start: Path) -> Path:
    """The nearest folder at or above `start` holding `.dvc/`."""
    for folder in (start, *start.parents):
        if (folder / ".dvc").is_dir():
            return folder
    raise PipelineError(f"{start} is not inside a DVC repository (no .dvc/ above it)")


def plots(
    targets: Annotated[
        list[str] | None,
        typer.Argument(
            help="Plot files or dvc.yaml plot ids to show (default: all).", show_default=False
        ),
    ] = None,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for index.html, relative to the repository.")
    ] = Path("dvc_plots"),
) -> None:
    """Render the DVC plots into `dvc_plots/index.html`, offline.

    Writes `.dvc/plots/offline.html` (the page template that `.dvc/config` names, with Vega,
    Vega-Lite and vega-embed inlined from the installed vl-convert-python) when it is missing
    or the libraries changed, then runs `dvc plots show` with it. The page loads nothing
    from the network.
    """
    from pipeline.core import plots_page

    try:
        root = _repo_root(Path.cwd())
        template = root / plots_page.TEMPLATE_PATH
        if plots_page.ensure_template(template):
            stdout.print(f"wrote {escape(str(template))} ({escape(plots_page.versions())})")
    except PipelineError as err:
        raise fail(err) from None
    command = [sys.executable, "-m", "dvc", "plots", "show", "--html-template", str(template)]
    done = subprocess.run([*command, "--out", str(out), *(targets or [])], cwd=root, check=False)
    if done.returncode != 0:
        raise typer.Exit(done.returncode)
