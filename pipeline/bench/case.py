"""One benchmark row as a declaration, and the one scaffold that runs any row.

A row names what it compares and its goal, and gives four functions: one that makes the
inputs (once, from the run's `Setup`), ours and the textbook's way (each called with the
inputs), and the check that their outputs agree. The scaffold runs each way once and
checks the agreement first (nothing is timed when the outputs disagree), then takes the
timed repeats and the medians, and hands them to the row's goal, which says the ratio,
whether it is met, and any extra figures (a latency's median and p99, say).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np

I = TypeVar("I")  # noqa: E741 - the row's inputs, whatever its input maker returns


@dataclass(frozen=True)
class Setup:
    quick: bool
    scratch: Path
    seed: int = 42
    out_dir: Path = Path("reports")  # where a case writes its plots, beside bench.md

    @property
    def repeats(self) -> int:
        return self.size(1, 3)

    def size(self, quick: int, full: int) -> int:
        """A row's input size: tiny on a quick run (the machinery only), else full."""
        return quick if self.quick else full

    def folder(self, name: str) -> Path:
        """A fresh scratch folder of the row's own, for the sample data it writes."""
        path = self.scratch / name
        path.mkdir(parents=True, exist_ok=True)
        return path


class Skip(Exception):
    """Raised by a row's input maker: the row is reported as skipped, with this reason."""


@dataclass(frozen=True)
class Agreement:
    ok: bool
    text: str  # what was compared, with its figures: "largest difference 0 (tolerance 1e-3)"


@dataclass(frozen=True)
class Figure:
    """A figure of a row beyond ours/baseline/ratio, shown in the row's notes in bench.md."""

    name: str  # "ours median"
    value: float
    unit: str  # "ms"

    def __str__(self) -> str:
        return f"{self.name} {self.value:.2f} {self.unit}"


@dataclass(frozen=True)
class Run:
    seconds: float
    output: Any


@dataclass(frozen=True)
class Measured(Generic[I]):
    """What the scaffold measured of a row whose outputs agree, for the row's goal."""

    inputs: I
    ours: list[Run]  # the timed runs, in order
    baseline: list[Run]  # empty when the row has no baseline

    @property
    def ours_seconds(self) -> float:
        return statistics.median(r.seconds for r in self.ours)

    @property
    def baseline_seconds(self) -> float | None:
        return statistics.median(r.seconds for r in self.baseline) if self.baseline else None


@dataclass(frozen=True)
class Verdict:
    met: bool
    ratio: float | None = None  # baseline / ours, or the figure the goal names
    notes: tuple[str, ...] = ()  # shown before the row's note on its inputs
    figures: tuple[Figure, ...] = ()
    details: str = ""  # markdown after the summary table (the scale case's own table)
    data: dict[str, Any] = field(default_factory=dict)  # figures behind `details`, for JSON


@dataclass(frozen=True)
class Goal(Generic[I]):
    text: str  # as the table shows it: "ratio >= 30"
    judge: Callable[[Measured[I]], Verdict]


def speedup(measured: Measured[Any]) -> float:
    """How many times faster ours is than the textbook's way."""
    baseline = measured.baseline_seconds
    assert baseline is not None, "a speed-up needs a baseline"
    return baseline / measured.ours_seconds


def speedup_at_least(times: float) -> Goal[Any]:
    """The common goal: ours at least `times` times faster than the textbook's way."""

    def judge(measured: Measured[Any]) -> Verdict:
        ratio = speedup(measured)
        return Verdict(ratio >= times, ratio)

    return Goal(f"ratio >= {times:g}", judge)


def largest_difference_below(tolerance: float, what: str) -> Callable[..., Agreement]:
    """The common agreement: both ways' arrays within `tolerance` everywhere."""
    shown = f"{tolerance:.0e}".replace("e-0", "e-")  # 1e-3, as people write it

    def agree(_inputs: Any, ours: np.ndarray, theirs: np.ndarray) -> Agreement:
        gap = float(np.abs(ours - theirs).max())
        return Agreement(
            gap < tolerance, f"largest {what} difference {gap:.2g} (tolerance {shown})"
        )

    return agree


@dataclass(frozen=True)
class Case(Generic[I]):
    """One row of the benchmark table."""

    name: str  # as on the command line
    what: str | Callable[[Setup], str]  # what it compares (a function when sizes show in it)
    goal: Goal[I]
    inputs: Callable[[Setup], I]  # makes the inputs once; raises `Skip` when it cannot here
    ours: Callable[[I], Any]
    baseline: Callable[[I], Any] | None  # the textbook's way; None: there is none
    agree: Callable[[I, Any, Any], Agreement]  # (inputs, ours' output, baseline's or None)
    note: Callable[[I], str] | None = None  # about the inputs: "60 images, trained model"
    # Untimed runs of each way before the timed ones, the agreement run the first of them;
    # 0: the agreement run is timed too (a slow way, or one that warms nothing).
    warmup: int = 1
    baseline_warmup: int = 1
    repeats: int | None = None  # timed runs; None: the setup's (1 quick, else 3)
    clock: Callable[[Any], float] | None = None  # seconds a run reports itself; None: wall
    # Judge the first runs even when the outputs disagree (scale: the stages that finished).
    judge_anyway: bool = False

    def describe(self, setup: Setup) -> str:
        return self.what(setup) if callable(self.what) else self.what


@dataclass
class Result:
    name: str
    what: str
    goal: str
    ours: float | None = None  # seconds
    baseline: float | None = None
    ratio: float | None = None  # baseline / ours, or the figure the goal names
    met: bool | None = None
    agree: bool | None = None
    agreement: str = ""
    notes: list[str] = field(default_factory=list)
    details: str = ""  # markdown after the summary table (the scale case's own table)
    data: dict[str, Any] = field(default_factory=dict)  # figures behind `details`, for JSON
    figures: list[Figure] = field(default_factory=list)


def run_case(case: Case[Any], setup: Setup) -> Result:
    """Make the inputs, check that both ways agree, then time them and judge the goal.

    Inputs that are a context manager (a server the row started) are closed at the end.
    """
    result = Result(case.name, case.describe(setup), case.goal.text)
    try:
        inputs = case.inputs(setup)
    except Skip as skipped:
        result.notes.append(f"skipped: {skipped}")
        return result
    with inputs if isinstance(inputs, AbstractContextManager) else nullcontext():
        _check_and_time(case, setup, inputs, result)
    return result


def _check_and_time(case: Case[Any], setup: Setup, inputs: Any, result: Result) -> None:
    first = _run(case, case.ours, inputs)
    first_baseline = None if case.baseline is None else _run(case, case.baseline, inputs)
    theirs = None if first_baseline is None else first_baseline.output
    agreement = case.agree(inputs, first.output, theirs)
    result.agree, result.agreement = agreement.ok, agreement.text
    note = [case.note(inputs)] if case.note is not None else []
    if agreement.ok:
        repeats = case.repeats or setup.repeats
        ours = _timed(case, case.ours, inputs, first, case.warmup, repeats)
        baseline = []
        if case.baseline is not None and first_baseline is not None:
            warmup = case.baseline_warmup
            baseline = _timed(case, case.baseline, inputs, first_baseline, warmup, repeats)
    elif case.judge_anyway:
        ours, baseline = [first], [] if first_baseline is None else [first_baseline]
    else:
        result.notes += note
        return
    measured = Measured(inputs, ours, baseline)
    verdict = case.goal.judge(measured)
    result.ours, result.baseline = measured.ours_seconds, measured.baseline_seconds
    result.ratio, result.met = verdict.ratio, verdict.met
    result.notes += [*verdict.notes, *note]
    result.figures = list(verdict.figures)
    result.details, result.data = verdict.details, dict(verdict.data)


def _run(case: Case[Any], way: Callable[[Any], Any], inputs: Any) -> Run:
    start = time.perf_counter()
    output = way(inputs)
    seconds = time.perf_counter() - start
    return Run(seconds if case.clock is None else case.clock(output), output)


def _timed(
    case: Case[Any], way: Callable[[Any], Any], inputs: Any, first: Run, warmup: int, repeats: int
) -> list[Run]:
    """`repeats` timed runs after `warmup` untimed ones, of which `first` was the first."""
    for _ in range(warmup - 1):
        way(inputs)
    runs = [first] if warmup == 0 else []
    while len(runs) < repeats:
        runs.append(_run(case, way, inputs))
    return runs
