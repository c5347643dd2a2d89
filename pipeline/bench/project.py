"""The whole-project rows: every stage at growing sizes (`scale`), a no-op `dvc repro`."""

from __future__ import annotations

import json
import subprocess
import sys

from pipeline.bench import scale as scaling
from pipeline.bench.case import Agreement, Goal, Measured, Setup, Skip, Verdict

PLOT = "bench_scale.png"  # beside bench.md

# ---- scale ---------------------------------------------------------------------------------
SCALE_GOAL = (
    f"time exponent <= {scaling.TIME_EXPONENT_GOAL}, peak memory ratio <= "
    f"{scaling.MEMORY_RATIO_GOAL} (or <= {scaling.MEMORY_SLACK_MB} MB more)"
)


def here(setup: Setup) -> Setup:
    """The setup itself: the stages make their own data in its scratch folder."""
    return setup


def stages(setup: Setup) -> list[scaling.StageRun]:
    """Ours: every stage of every task at every size, each in its own process."""
    return scaling.measure_all(setup.scratch, setup.quick)


def total_seconds(runs: list[scaling.StageRun]) -> float:
    return sum(r.seconds for r in runs)


def all_finished(_setup: Setup, runs: list[scaling.StageRun], _theirs: None) -> Agreement:
    failed = [f"{r.task} {r.stage} at {r.factor}x: {r.log}" for r in runs if not r.ok]
    if failed:
        return Agreement(False, "failed: " + "; ".join(failed))
    return Agreement(True, f"all {len(runs)} stage runs finished")


def growth(measured: Measured[Setup]) -> Verdict:
    """Every stage's growth within the goals; the plot and the table of each stage."""
    runs: list[scaling.StageRun] = measured.ours[-1].output
    grown = scaling.growth(runs)
    worst = max((g.time_exponent or 0.0 for g in grown), default=0.0)
    peak = max((r.peak_mb for r in runs), default=0.0)
    if runs:
        scaling.plot(runs, measured.inputs.out_dir / PLOT)
    return Verdict(
        all(g.met for g in grown),
        worst,
        notes=(
            f"ours = total time; ratio = the largest time exponent; highest peak {peak:,.0f} MB",
        ),
        details=scaling.markdown(runs, grown, PLOT),
        data=scaling.as_json(runs, grown),
    )


# ---- repro-noop ----------------------------------------------------------------------------
DVC = [sys.executable, "-m", "dvc"]


def up_to_date(_setup: Setup) -> list[str]:
    """The `dvc repro` command, when the pipeline here is up to date (else nothing to time)."""
    status = subprocess.run([*DVC, "status", "--json"], capture_output=True, text=True)
    if status.returncode != 0 or json.loads(status.stdout or "{}") != {}:
        raise Skip("the pipeline is not up to date here (run `make repro`)")
    return [*DVC, "repro"]


def repro(command: list[str]) -> None:
    subprocess.run(command, check=True, capture_output=True)


def nothing_to_compare(_inputs: list[str], _ours: None, _theirs: None) -> Agreement:
    return Agreement(True, "nothing to compare: no baseline")


def at_most(seconds: float) -> Goal[list[str]]:
    """Ours within `seconds` (the ratio is ours' time)."""

    def judge(measured: Measured[list[str]]) -> Verdict:
        return Verdict(measured.ours_seconds <= seconds, measured.ours_seconds)

    return Goal(f"<= {seconds:g} s", judge)
