"""The benchmarks: ours and the textbook's way, same inputs, outputs checked to agree first.

One declaration a row; `case.run_case` runs any of them. Every row builds its own small
sample data in a scratch folder with the project's sample generators, so it measures the
same thing on any checkout. A task's rows live with the task, as the `CASES` of its
`benchmarks` module (or package), found here through the task registry; the rows about the
whole project come last. A new row: its input maker, ways, agreement check (and a goal,
when not a plain speed-up) and one `Case(...)` in its task's `CASES`.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

from pipeline.bench import project
from pipeline.bench.case import Case, Goal
from pipeline.tasks import TASKS

PROJECT: tuple[Case[Any], ...] = (
    Case(
        name="scale",
        what="every stage of every task at 1x, 3x and 10x the sample, each in its own process",
        goal=Goal(project.SCALE_GOAL, project.growth),
        inputs=project.here,
        ours=project.stages,
        baseline=None,
        agree=project.all_finished,
        warmup=0,
        repeats=1,  # minutes of stage runs, each already in a fresh process
        clock=project.total_seconds,
        judge_anyway=True,
    ),
    Case(
        name="repro-noop",
        what="`dvc repro` with nothing changed",
        goal=project.at_most(3),
        inputs=project.up_to_date,
        ours=project.repro,
        baseline=None,
        agree=project.nothing_to_compare,
    ),
)


def task_cases(task: str) -> tuple[Case[Any], ...]:
    """The rows of `task`: its `benchmarks` module's `CASES`, none when it has no module (or
    its package is not under pipeline/tasks/, as a test's task may not be)."""
    name = f"pipeline.tasks.{task}.benchmarks"
    try:
        found = importlib.util.find_spec(name)
    except ModuleNotFoundError:  # no pipeline.tasks.<task> package
        found = None
    if found is None:
        return ()
    return tuple(importlib.import_module(name).CASES)


TABLE: tuple[Case[Any], ...] = (*(c for task in TASKS for c in task_cases(task)), *PROJECT)

CASES: dict[str, Case[Any]] = {case.name: case for case in TABLE}
if len(CASES) != len(TABLE):
    raise RuntimeError("two benchmark rows share a name: each row's name must be its own")
