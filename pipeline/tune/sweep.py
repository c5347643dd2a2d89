"""The sweep: a parent MLflow run, the trials on Ray Tune under ASHA, the best one registered.

The trials draw their values with a seeded search (the params' `seed`), the first trial
being the params file's own values, so a sweep's table says how much the best beats the
default. The best trial is the trained one with the lowest validation loss; it goes through
`pipeline evaluate` and `pipeline register` in its workspace (the same gate as ever), and
its values are written as a params file and a `dvc exp run -S` line that reproduce it.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from pipeline.core.errors import PipelineError
from pipeline.core.io import write_json
from pipeline.tune import workspace
from pipeline.tune.space import Dimension, applied, current, exp_run_line, parse_space
from pipeline.tune.trial import PARENT_TAG, TRIAL_TAG, Sweep, run_trial

INSTALL = "uv pip install -r requirements/tune.lock"
METRIC = "val_loss"


@dataclass(frozen=True)
class Options:
    """What `pipeline tune` was asked."""

    space: list[str]
    trials: int = 8
    max_concurrent: int = 2
    address: str | None = None
    max_epochs: int | None = None
    grace_epochs: int = 1
    reduction_factor: int = 2
    keep_workspaces: bool = False


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise PipelineError(f"`pipeline tune` needs Ray Tune: {INSTALL}") from None
    return ray


def most_epochs(params: dict[str, Any], task: str) -> int:
    """The most epochs a training of `task` runs with `params` (ASHA's `max_t`)."""
    section = params["train"][task]
    fit = section.get("fit")
    if isinstance(fit, dict) and "head_epochs" in fit:
        return int(fit["head_epochs"]) + int(fit.get("finetune_epochs", 0))
    return int(section.get("epochs", 100))


def run(task: str, params_file: Path, options: Options) -> str:
    """Sweep `task` over `options.space`; returns the lines to print."""
    from pipeline.config import load_config
    from pipeline.stages.inputs import checked_provenance, processed_input
    from pipeline.tasks import Trains, task_with

    task_with(task, "tune", Trains)
    ray = _ray()  # a missing extra says so before anything else
    config = load_config(params_file)  # a bad params file fails before Ray starts
    params = yaml.safe_load(params_file.read_text())
    dimensions = parse_space(options.space, params)
    checked_provenance(processed_input(task), "tune", task, config, reads_raw=False)
    root = Path.cwd().resolve()
    scratch = Path(tempfile.mkdtemp(prefix=f"pipeline-tune-{task}-"))
    started = time.perf_counter()
    try:
        sweep, parent = _open_parent(task, root, params, scratch, dimensions, options)
        with parent:
            rows = _run_trials(ray, sweep, dimensions, options, config.seed)
            _close_stopped(sweep, rows)
            summary = _summary(sweep, dimensions, rows, time.perf_counter() - started)
            summary["registered"] = _register_best(sweep, summary)
            _record(sweep, summary, root / "reports" / "tune" / task)
    finally:
        if not options.keep_workspaces:
            shutil.rmtree(scratch, ignore_errors=True)
    return _message(task, summary, root / "reports" / "tune" / task)


def _open_parent(
    task: str,
    root: Path,
    params: dict[str, Any],
    scratch: Path,
    dimensions: list[Dimension],
    options: Options,
) -> tuple[Sweep, Any]:
    """The sweep's parent run, started (the caller's `with` ends it)."""
    import socket

    import mlflow

    from pipeline.core import tracking

    uri = tracking.configure_tracking()
    experiment_id = tracking._experiment_id(task)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    active = mlflow.start_run(experiment_id=experiment_id, run_name=f"{task}-tune-{stamp}")
    mlflow.set_tags(
        tracking.lineage_tags(task)
        | {"host": socket.gethostname(), "pid": str(os.getpid()), "tune.sweep": "parent"}
    )
    mlflow.log_params(
        {f"space.{d.key}": f"{d.kind}{list(d.args)}" for d in dimensions}
        | {
            "trials": options.trials,
            "max_concurrent_trials": options.max_concurrent,
            "scheduler": "ASHA",
            "grace_epochs": options.grace_epochs,
            "reduction_factor": options.reduction_factor,
        }
    )
    sweep = Sweep(task, root, params, scratch, uri, experiment_id, active.info.run_id)
    return sweep, active


def _run_trials(
    ray: Any, sweep: Sweep, dimensions: list[Dimension], options: Options, seed: int
) -> list[dict[str, Any]]:
    """Each trial's values, epochs, last losses and error, as Ray Tune ended them."""
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler
    from ray.tune.search import BasicVariantGenerator

    defaults = {d.key: current(sweep.params, d.key) for d in dimensions}
    # one past the last epoch: ASHA stops a trial that reaches max_t, which would kill a
    # training that reported its last epoch and is still saving its model
    max_t = max(options.max_epochs or 0, most_epochs(sweep.params, sweep.task)) + 1
    started_ray = not ray.is_initialized()
    if started_ray:
        ray.init(
            address=options.address,
            num_cpus=None if options.address else os.cpu_count(),
            include_dashboard=False,
            log_to_driver=False,
            configure_logging=False,
        )
    try:
        tuner = tune.Tuner(
            tune.with_resources(functools.partial(run_trial, sweep=sweep), {"cpu": 1}),
            param_space={d.key: d.to_ray() for d in dimensions},
            tune_config=tune.TuneConfig(
                metric=METRIC,
                mode="min",
                num_samples=options.trials,
                scheduler=ASHAScheduler(
                    max_t=max_t,
                    grace_period=min(options.grace_epochs, max_t),
                    reduction_factor=options.reduction_factor,
                ),
                search_alg=BasicVariantGenerator(
                    points_to_evaluate=[defaults],
                    max_concurrent=options.max_concurrent,
                    random_state=seed,
                ),
            ),
            run_config=tune.RunConfig(
                name=f"{sweep.task}-tune",
                storage_path=str(sweep.scratch / "ray"),
                verbose=1,
            ),
        )
        grid = tuner.fit()
    finally:
        if started_ray:
            ray.shutdown()
    rows = []
    for index in range(len(grid)):
        result = grid[index]
        metrics = result.metrics or {}
        values = {d.key: (result.config or {})[d.key] for d in dimensions}
        rows.append(
            {
                "trial": metrics.get("trial_id") or Path(result.path).name,
                "values": values,
                "default": values == defaults,
                "epochs": int(metrics.get("epoch", 0)),
                "last_val_loss": metrics.get(METRIC),
                "best_val_loss": metrics.get("best_val_loss"),  # up to where it stopped
                "error": None if result.error is None else str(result.error).strip()[-300:],
                "reported": _reported(result),
            }
        )
    return rows


def _reported(result: Any) -> dict[str, list[float]]:
    """The per-epoch losses a trial reported, for the run of a trial that was stopped."""
    frame = result.metrics_dataframe
    if frame is None:
        return {}
    return {n: [float(v) for v in frame[n]] for n in ("loss", METRIC) if n in frame.columns}


def _children(sweep: Sweep) -> list[Any]:
    import mlflow

    return list(
        mlflow.MlflowClient().search_runs(
            [sweep.experiment_id], filter_string=f"tags.`{PARENT_TAG}` = '{sweep.parent_run_id}'"
        )
    )


def _close_stopped(sweep: Sweep, rows: list[dict[str, Any]]) -> None:
    """Mark KILLED the child runs of trials ASHA stopped (their process died mid-run), with
    the epochs they reported, which the training had no time to log."""
    import mlflow

    client = mlflow.MlflowClient()
    reported = {row["trial"]: row.pop("reported") for row in rows}
    for run in _children(sweep):
        if run.info.status == "RUNNING":
            for name, values in reported.get(run.data.tags.get(TRIAL_TAG), {}).items():
                for epoch, value in enumerate(values):
                    client.log_metric(run.info.run_id, name, value, step=epoch)
            client.set_tag(run.info.run_id, "tune.stopped_early", "true")
            client.set_terminated(run.info.run_id, status="KILLED")


def _summary(
    sweep: Sweep, dimensions: list[Dimension], rows: list[dict[str, Any]], seconds: float
) -> dict[str, Any]:
    """The sweep's table: per trial its run, status, epochs and best val loss; the best."""
    runs = {r.data.tags.get(TRIAL_TAG): r for r in _children(sweep)}
    for row in rows:
        work = sweep.scratch / row["trial"]
        run = runs.get(row["trial"])
        history = workspace.final_history(work, sweep.task)
        trained = workspace.trained_run(work, sweep.task) is not None and history is not None
        row["run_id"] = run.info.run_id if run else None
        row["status"] = run.info.status if run else "NOT_STARTED"
        row["trained"] = trained
        if trained and history:
            row["best_val_loss"] = min(history[METRIC])
    done = [r for r in rows if r["trained"] and r["best_val_loss"] is not None]
    if not done:
        errors = "; ".join(r["error"] for r in rows if r["error"]) or "no trial finished"
        raise PipelineError(f"tune {sweep.task}: no trial trained a model ({errors[:400]})")
    best = min(done, key=lambda r: r["best_val_loss"])
    default = next((r for r in rows if r["default"]), None)
    return {
        "task": sweep.task,
        "parent_run_id": sweep.parent_run_id,
        "wall_seconds": round(seconds, 1),
        "space": {d.key: f"{d.kind}{list(d.args)}" for d in dimensions},
        "trials": rows,
        "best": best,
        "default": default,
        "reproduce": exp_run_line(best["values"]),
    }


def _register_best(sweep: Sweep, summary: dict[str, Any]) -> str:
    """`pipeline evaluate` then `pipeline register` in the best trial's workspace."""
    best = summary["best"]
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.tune.best", sweep.task, workspace.PARAMS],
        cwd=sweep.scratch / best["trial"],
        env=workspace.environment(sweep.root, sweep.tracking_uri),
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        why = (done.stderr or done.stdout).strip().splitlines()
        raise PipelineError(
            f"tune {sweep.task}: the best trial ({best['trial']}) was not registered: "
            f"{why[-1] if why else 'no output'}"
        )
    found = re.search(r"registered version (\d+)", done.stdout)
    return found.group(1) if found else done.stdout.strip()


def _record(sweep: Sweep, summary: dict[str, Any], out: Path) -> None:
    """`best.params.yaml` and `sweep.json` in `out`, also on the parent run."""
    import mlflow

    out.mkdir(parents=True, exist_ok=True)
    best_params = applied(sweep.params, summary["best"]["values"])
    (out / "best.params.yaml").write_text(yaml.safe_dump(best_params, sort_keys=False))
    write_json(out / "sweep.json", summary)
    mlflow.log_artifact(str(out / "best.params.yaml"), "tune")
    mlflow.log_artifact(str(out / "sweep.json"), "tune")
    metrics = {"best_val_loss": summary["best"]["best_val_loss"], "wall_s": summary["wall_seconds"]}
    default = summary["default"]
    if default and default["best_val_loss"] is not None:
        metrics["default_val_loss"] = default["best_val_loss"]
    mlflow.log_metrics(metrics)
    mlflow.set_tags(
        {
            "tune.best_run_id": summary["best"]["run_id"] or "",
            "tune.registered_version": summary["registered"],
            "tune.reproduce": summary["reproduce"],
        }
    )


def _message(task: str, summary: dict[str, Any], out: Path) -> str:
    lines = [f"{task}: {len(summary['trials'])} trials in {summary['wall_seconds']:.0f} s"]
    for row in summary["trials"]:
        loss = "-" if row["best_val_loss"] is None else f"{row['best_val_loss']:.4g}"
        values = ", ".join(
            f"{k.rsplit('.', 1)[-1]}={v:.4g}"
            if isinstance(v, float)
            else f"{k.rsplit('.', 1)[-1]}={v}"
            for k, v in row["values"].items()
        )
        mark = " (params file)" if row["default"] else ""
        lines.append(
            f"  {row['trial']}: {values}{mark}: {row['epochs']} epochs, {row['status']}, "
            f"best val_loss {loss}"
        )
    best = summary["best"]
    lines += [
        f"best: {best['trial']} (val_loss {best['best_val_loss']:.4g}, run {best['run_id']}), "
        f"registered version {summary['registered']} as models:/{task}@candidate",
        f"parent run {summary['parent_run_id']}; table {out / 'sweep.json'}",
        f"reproduce: {summary['reproduce']} (or --params {out / 'best.params.yaml'})",
    ]
    return "\n".join(lines)
