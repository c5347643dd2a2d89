"""Matplotlib figures written as PNG, headless."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.core.io import atomic_file

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def new_figure(width: float = 8, height: float = 4.5) -> Figure:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def save_figure(figure: Figure, path: Path) -> None:
    with atomic_file(path) as tmp:
        figure.savefig(tmp, dpi=110)
