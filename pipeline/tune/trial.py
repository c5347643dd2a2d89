"""One trial: `pipeline train` in its own workspace, each epoch's losses reported to Ray Tune.

The training runs as a child process of the trial, so it is exactly the stage DVC runs; the
trial follows the per-epoch log that `two_phase_fit` appends and reports each new epoch,
which lets ASHA stop the trial between epochs. A stopped trial's process dies with it
(`PR_SET_PDEATHSIG`), its MLflow run left for the sweep to mark KILLED.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.core.errors import PipelineError
from pipeline.tune import workspace
from pipeline.tune.space import applied

POLL_S = 0.5
#: MLflow tags of a trial's child run
TRIAL_TAG = "tune.trial"
PARENT_TAG = "mlflow.parentRunId"


@dataclass(frozen=True)
class Sweep:
    """What every trial of a sweep shares (pickled to Ray's workers)."""

    task: str
    root: Path
    params: dict[str, Any]
    scratch: Path
    tracking_uri: str
    experiment_id: str
    parent_run_id: str


def _die_with_parent() -> None:
    """In the child: be sent SIGTERM when the trial's thread ends (a stopped trial)."""
    import ctypes

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def child_run(sweep: Sweep, trial_id: str) -> str:
    """A new run under the sweep's parent run; the trial's training logs into it."""
    import mlflow

    client = mlflow.MlflowClient(sweep.tracking_uri, sweep.tracking_uri)
    run = client.create_run(
        sweep.experiment_id,
        run_name=f"{sweep.task}-trial-{trial_id}",
        tags={PARENT_TAG: sweep.parent_run_id, TRIAL_TAG: trial_id, "task": sweep.task},
    )
    return str(run.info.run_id)


def run_trial(values: dict[str, Any], sweep: Sweep) -> None:
    """Ray Tune's trainable: train with `values` applied, report each epoch."""
    from ray import tune

    trial_id = tune.get_context().get_trial_id()
    work = sweep.scratch / trial_id
    workspace.create(work, sweep.root, applied(sweep.params, values))
    env = workspace.environment(sweep.root, sweep.tracking_uri, child_run(sweep, trial_id))
    command = [sys.executable, "-m", "pipeline.cli", "train", sweep.task, "--params"]
    reported = 0
    with (work / workspace.LOG).open("w") as log:
        process = subprocess.Popen(
            [*command, workspace.PARAMS],
            cwd=work,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
        try:
            while True:
                finished = process.poll() is not None
                history = (
                    workspace.final_history(work, sweep.task) if finished else None
                ) or workspace.epochs_so_far(work, sweep.task)
                losses = history.get("val_loss", [])
                for epoch in range(reported, len(losses)):
                    tune.report(_row(history, epoch))
                reported = max(reported, len(losses))
                if finished:
                    break
                time.sleep(POLL_S)
        finally:
            if process.poll() is None:
                process.terminate()
                process.wait()
    if process.returncode != 0:
        lines = (work / workspace.LOG).read_text().strip().splitlines()
        raise PipelineError(
            f"trial {trial_id}: pipeline train failed ({lines[-1] if lines else 'no output'}); "
            f"its log: {work / workspace.LOG}"
        )


def _row(history: dict[str, list[float]], epoch: int) -> dict[str, float]:
    """What Tune gets for one epoch: its losses and the best val loss so far."""
    row = {
        name: values[epoch]
        for name, values in history.items()
        if name in ("loss", "val_loss") and epoch < len(values)
    }
    row["best_val_loss"] = min(history["val_loss"][: epoch + 1])
    row["epoch"] = epoch + 1
    return row
