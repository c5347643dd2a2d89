"""`pipeline bench scale`: each task's stages at 1x, 3x and 10x the sample, cost by size.

Every stage runs as `pipeline <stage> <task> --params ...` in a process of its own in a
scratch project, so its wall time and peak memory (the child's own high-water mark,
VmHWM, which it reports as it exits) are its alone, imports included, as a user running
`dvc repro` pays them.
Epochs are fixed and early stopping is off (patience above the epochs), so the training
time compares the same work at every size; `backbone.weights: none` needs no network and
no `pretrain`. The growth of a stage from the smallest to the largest size is reported as
the exponent of time in data (1 = linear) and the ratio of peak memories (1 = flat).
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

import pipeline
from pipeline.core.mappings import merged
from pipeline.tasks import TASKS, tasks_with

#: what the full and the quick run take: sizes (factors of the smallest), how many tasks
#: (None: every task with a model; else the first ones), the smallest size (the sample's
#: params, or `tiny`: each task's tiny sample) and the last stage run
FULL: dict[str, Any] = {"sizes": (1, 3, 10), "tasks": None, "base": "params", "last": None}
# quick: the machinery on one task's tiny sample, up to `augment`: a stage importing TensorFlow
# and MLflow costs 15-30 s on 2 cores even on a few dozen images, too long for a quick check
QUICK: dict[str, Any] = {"sizes": (1, 3), "tasks": 1, "base": "tiny", "last": "augment"}
TIME_EXPONENT_GOAL = 1.1  # time may grow at most about linearly with the data
MEMORY_RATIO_GOAL = 1.25  # peak memory at the largest size within 25% of the smallest's ...
MEMORY_SLACK_MB = 100  # ... or within 100 MB of it (a small process may grow 25% by little)

# The stage reports its own peak (VmHWM) when it exits: `ru_maxrss` from `wait4` would also
# count this parent's memory, which Linux carries over into a child's figure at exec.
_CHILD = """
import atexit, sys
from pathlib import Path
peak_file = Path(sys.argv.pop(1))

def report_peak():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            peak_file.write_text(line.split()[1])

atexit.register(report_peak)
from pipeline.cli import app
sys.argv[0] = "pipeline"
app()
"""


@dataclass
class StageRun:
    task: str
    stage: str
    factor: int
    count: int  # sample size (frames or images) at this factor
    seconds: float
    peak_mb: float
    ok: bool
    log: str  # last lines of its output when it failed


def producer(task: str, params: dict[str, Any]) -> str:
    """The task whose `sample` writes `task`'s raw folder (itself, or e.g. plates for
    plates_text)."""
    raw_dir = params["data"][task]["raw_dir"]
    return next(name for name in tasks_with("sample") if params["data"][name]["raw_dir"] == raw_dir)


def count_key(task: str, params: dict[str, Any]) -> str:
    """The sample param that sets `task`'s size (`Samples.sample_size`)."""
    return TASKS[producer(task, params)].sample_size  # type: ignore[attr-defined]


def stages(task: str, params: dict[str, Any]) -> list[tuple[str, str]]:
    """(stage, task it runs for) from raw data to test metrics."""
    prepare = "augment" if task in tasks_with("augment") else "features"
    return [
        ("sample", producer(task, params)),
        *((stage, task) for stage in ("ingest", "validate", prepare, "train", "evaluate")),
    ]


def _no_early_stopping(section: dict[str, Any]) -> None:
    for key, value in section.items():
        if key == "patience":
            section[key] = 99
        elif isinstance(value, dict):
            _no_early_stopping(value)


def base_params() -> dict[str, Any]:
    """The project's params: ./params.yaml where the bench runs, else the package's own."""
    here = Path("params.yaml")
    path = here if here.is_file() else Path(pipeline.__file__).parents[1] / "params.yaml"
    return dict(yaml.safe_load(path.read_text()))


def scaled_params(
    params: dict[str, Any], task: str, factor: int, base: str, quick: bool
) -> dict[str, Any]:
    """`params` for one task at `factor` times its sample, offline, with the task's tiny
    training (`Task.tiny`: its few epochs and small network) and no early stopping, so that
    every size does the same work per image."""
    out = merged(params, {"backbone": {"weights": "none"}})
    out["data"] = {
        name: {"raw_dir": f"data/sample/{producer(name, params)}"} for name in out["data"]
    }
    source, key = producer(task, params), count_key(task, params)
    tiny = TASKS[source].tiny().get("sample", {})
    count = tiny[key] if base == "tiny" and key in tiny else out["sample"][source][key]
    out["sample"][source][key] = int(count * factor)
    out["train"][task] = merged(out["train"][task], TASKS[task].tiny().get("train", {}))
    _no_early_stopping(out["train"][task])
    return out


def run_stage(folder: Path, task: str, stage: str, params_file: Path) -> tuple[float, float, str]:
    """(seconds, peak MB, exit status text) of `pipeline <stage> <task>` in its own process."""
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": f"sqlite:///{folder / 'mlflow.db'}",
        "PYTHONUNBUFFERED": "1",
    }
    log = folder / "logs" / f"{task}-{stage}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with log.open("w") as out:
        peak_file = log.with_suffix(".peak_kb")
        child = subprocess.Popen(
            [
                sys.executable,
                "-c",
                _CHILD,
                str(peak_file),
                stage,
                task,
                "--params",
                str(params_file),
            ],
            cwd=folder,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        child.wait()
    seconds = time.perf_counter() - start
    peak_mb = int(peak_file.read_text()) / 1024 if peak_file.is_file() else float("nan")
    return seconds, peak_mb, "" if child.returncode == 0 else _tail(log)


def _tail(log: Path, lines: int = 5) -> str:
    return " / ".join(log.read_text(errors="replace").strip().splitlines()[-lines:])


def measure_all(scratch: Path, quick: bool) -> list[StageRun]:
    """Every task's stages at every size, each in a fresh scratch project."""
    plan = QUICK if quick else FULL
    params = base_params()
    runs = []
    for task in tasks_with("train")[: plan["tasks"]]:
        for factor in plan["sizes"]:
            folder = scratch / f"{task}-{factor}x"
            folder.mkdir(parents=True, exist_ok=True)
            scaled = scaled_params(params, task, factor, plan["base"], quick)
            params_file = folder / "params.yaml"
            params_file.write_text(yaml.safe_dump(scaled, sort_keys=False))
            count = scaled["sample"][producer(task, params)][count_key(task, params)]
            steps = stages(task, params)
            if plan["last"] is not None:
                steps = steps[: [stage for stage, _ in steps].index(plan["last"]) + 1]
            for stage, runs_for in steps:
                seconds, peak, failure = run_stage(folder, runs_for, stage, params_file)
                run = StageRun(task, stage, factor, count, seconds, peak, not failure, failure)
                runs.append(run)
                print(
                    f"scale: {task} {stage} at {factor}x ({count:,}): {seconds:.1f} s, "
                    f"{peak:,.0f} MB{'' if not failure else ' FAILED: ' + failure}",
                    file=sys.stderr,
                    flush=True,
                )
                if failure:
                    break  # later stages need this one's outputs
    return runs


@dataclass
class Growth:
    task: str
    stage: str
    time_exponent: float | None  # log(t_max / t_min) / log(size_max / size_min)
    memory_ratio: float | None  # peak at the largest size / peak at the smallest
    grown_mb: float | None = None  # peak at the largest size - peak at the smallest
    seconds_per_1000: float | None = None  # added time per 1,000 more images (the slope)
    mb_per_1000: float | None = None  # added peak memory per 1,000 more images

    @property
    def met(self) -> bool:
        if self.time_exponent is None or self.memory_ratio is None or self.grown_mb is None:
            return False
        flat = self.memory_ratio <= MEMORY_RATIO_GOAL or self.grown_mb <= MEMORY_SLACK_MB
        return self.time_exponent <= TIME_EXPONENT_GOAL and flat


def growth(runs: list[StageRun]) -> list[Growth]:
    out = []
    for task, stage in dict.fromkeys((r.task, r.stage) for r in runs):
        done = sorted((r for r in runs if (r.task, r.stage) == (task, stage) and r.ok),
                      key=lambda r: r.factor)  # fmt: skip
        if len(done) < 2:
            out.append(Growth(task, stage, None, None))
            continue
        small, large = done[0], done[-1]
        exponent = math.log(large.seconds / small.seconds) / math.log(large.count / small.count)
        more = (large.count - small.count) / 1000
        grown = large.peak_mb - small.peak_mb
        out.append(
            Growth(task, stage, exponent, large.peak_mb / small.peak_mb, grown,
                   (large.seconds - small.seconds) / more, grown / more)
        )  # fmt: skip
    return out


def markdown(runs: list[StageRun], grown: list[Growth], plot_name: str) -> str:
    factors = sorted({r.factor for r in runs})
    head = " | ".join(f"{f}x time | {f}x peak" for f in factors)
    lines = [
        "## Cost by size (`pipeline bench scale`)",
        "",
        "Each stage in its own process (time and peak RSS include Python and library imports); "
        "the tasks' tiny training (`Task.tiny()`: fixed epochs, small networks), no early "
        "stopping, `backbone.weights: none`. Growth from the smallest "
        f"to the largest size: time exponent (1 = linear; goal <= {TIME_EXPONENT_GOAL}) and "
        f"peak-memory ratio (1 = flat; goal <= {MEMORY_RATIO_GOAL}, or at most "
        f"{MEMORY_SLACK_MB} MB more), and the slopes: seconds and MB added per 1,000 more "
        "items of the task's sample (its `sample_size`: images, or rows of a log).",
        "",
        f"| task | stage | {head} | time exponent | memory ratio | s / 1,000 | MB / 1,000 | met |",
        "|---|---|" + "---|---|" * len(factors) + "---|---|---|---|---|",
    ]
    for g in grown:
        cells = []
        for factor in factors:
            run = next(
                (r for r in runs if (r.task, r.stage, r.factor) == (g.task, g.stage, factor)), None
            )
            if run is None or not run.ok:
                cells += ["failed" if run else "-", "-"]
            else:
                cells += [f"{run.seconds:.1f} s", f"{run.peak_mb:,.0f} MB"]
        exponent = "-" if g.time_exponent is None else f"{g.time_exponent:.2f}"
        ratio = "-" if g.memory_ratio is None else f"{g.memory_ratio:.2f}"
        slope = "-" if g.seconds_per_1000 is None else f"{g.seconds_per_1000:.1f}"
        mb = "-" if g.mb_per_1000 is None else f"{g.mb_per_1000:.0f}"
        lines.append(
            f"| {g.task} | {g.stage} | {' | '.join(cells)} | {exponent} | {ratio} | {slope} "
            f"| {mb} | {'yes' if g.met else '**no**'} |"
        )
    sizes: dict[str, dict[int, int]] = {}
    for r in runs:
        sizes.setdefault(r.task, {})[r.factor] = r.count
    params = base_params()
    lines += ["", "Sample sizes: " + "; ".join(
        f"{task} " + ", ".join(
            f"{f}x = {n:,} {count_key(task, params)}" for f, n in sorted(by.items())
        )
        for task, by in sizes.items()
    ), "", f"![time and peak memory by size]({plot_name})", ""]  # fmt: skip
    return "\n".join(lines)


def plot(runs: list[StageRun], path: Path) -> None:
    """Per task: time and peak memory of each stage against the sample size (log-log)."""
    from pipeline.core.plots import new_figure, save_figure

    tasks = list(dict.fromkeys(r.task for r in runs))
    figure = new_figure(10, 3.2 * len(tasks))
    axes = figure.subplots(len(tasks), 2, squeeze=False)
    for row, task in enumerate(tasks):
        for stage in dict.fromkeys(r.stage for r in runs if r.task == task):
            done = sorted(
                (r for r in runs if (r.task, r.stage) == (task, stage) and r.ok),
                key=lambda r: r.count,
            )
            counts = [r.count for r in done]
            axes[row][0].plot(counts, [r.seconds for r in done], marker="o", label=stage)
            axes[row][1].plot(counts, [r.peak_mb for r in done], marker="o", label=stage)
        size = f"{task}: sample {count_key(task, base_params())}"
        axes[row][0].set(xscale="log", yscale="log", xlabel=size, ylabel="seconds",
                         title=f"{task}: time per stage")  # fmt: skip
        axes[row][1].set(xscale="log", xlabel=size, ylabel="peak RSS (MB)",
                         title=f"{task}: peak memory per stage")  # fmt: skip
        axes[row][1].set_ylim(bottom=0)
        axes[row][0].legend(fontsize=7)
    save_figure(figure, path)


def as_json(runs: list[StageRun], grown: list[Growth]) -> dict[str, Any]:
    return {
        "runs": [asdict(r) for r in runs],
        "growth": [{**asdict(g), "met": g.met} for g in grown],
    }
