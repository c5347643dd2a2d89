"""Progress of long loops and trainings: how far, how many images per second, time left.

On a terminal, a rich progress bar; elsewhere (DVC, CI, a log file) a plain line every
`every` seconds and one at the end, so a long stage shows it is alive and when it will end.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, TextIO, TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

if TYPE_CHECKING:
    import keras
    from rich.progress import Task

T = TypeVar("T")


def duration(seconds: float) -> str:
    """`42 s`, `3 min 05 s`, `1 h 02 min`: short enough for a progress line."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def rate_line(label: str, done: int, total: int | None, seconds: float, unit: str) -> str:
    """`label 300/900 images (150 images/s, 4 s left)`; no rate before any time has passed."""
    count = f"{done:,}/{total:,}" if total else f"{done:,}"
    if seconds <= 0 or done == 0:
        return f"{label} {count} {unit}"
    rate = done / seconds
    left = f", {duration((total - done) / rate)} left" if total else ""
    return f"{label} {count} {unit} ({rate:,.1f} {unit}/s{left})"


class _Rate(ProgressColumn):
    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.1f} {self.unit}/s")


def track(
    items: Iterable[T],
    description: str,
    total: int | None = None,
    *,
    unit: str = "images",
    per_step: int = 1,
    every: float = 10.0,
    stream: TextIO | None = None,
) -> Iterator[T]:
    """Yield `items` while showing progress on stderr in `unit`s (`per_step` of them per item).

    `per_step` counts batches as their images (the last one may be smaller: the rate and
    time left are estimates). Off a terminal, a plain line every `every` seconds.
    """
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    units_total = None if total is None else total * per_step
    console = Console(file=stream or sys.stderr)
    if not console.is_terminal:
        yield from _plain(items, description, units_total, unit, per_step, every, console)
        return
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _Rate(unit),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task(description, total=units_total)
        for item in items:
            yield item
            bar.advance(task, per_step)


def _plain(
    items: Iterable[T],
    description: str,
    total: int | None,
    unit: str,
    per_step: int,
    every: float,
    console: Console,
) -> Iterator[T]:
    start = last = time.perf_counter()
    done = 0
    for item in items:
        yield item
        done += per_step
        now = time.perf_counter()
        if now - last >= every:
            console.print(rate_line(description, done, total, now - start, unit), highlight=False)
            last = now
    done = min(done, total) if total else done
    seconds = time.perf_counter() - start
    console.print(rate_line(description, done, total, seconds, unit), highlight=False)


def epoch_progress(
    label: str, images: int, epochs: int, stream: TextIO | None = None
) -> keras.callbacks.Callback:
    """A Keras callback printing, after each epoch, the losses, images/s and the time left.

    It replaces Keras' own epoch lines (fit with `verbose=0`), whose epoch counts are per
    phase.

    `images` are the training images of one epoch (validation time counts in the rate:
    it is part of what an epoch costs); `epochs` the most the training may run, so the
    time left is an upper bound when early stopping ends it sooner. Epoch numbers are
    those `fit` gets (a second phase or a resumed run starts at its `initial_epoch`).
    """
    import keras

    class EpochProgress(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.started = 0.0
            self.seconds: list[float] = []

        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            seconds = time.perf_counter() - self.started
            self.seconds.append(seconds)
            per_epoch = sum(self.seconds[-3:]) / len(self.seconds[-3:])
            left = max(epochs - epoch - 1, 0)
            losses = "".join(
                f"{name} {(logs or {})[name]:.4g}, "
                for name in ("loss", "val_loss")
                if name in (logs or {})
            )
            print(
                f"{label}: epoch {epoch + 1}/{epochs}, {losses}"
                f"{images:,} images in {duration(seconds)} "
                f"({images / max(seconds, 1e-9):,.0f} images/s), "
                f"at most {duration(left * per_epoch)} left",
                file=stream or sys.stderr,
                flush=True,
            )

    return EpochProgress()
