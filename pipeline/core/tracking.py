"""MLflow runs: one experiment per task, lineage tags, the run id kept beside the model.

The embedded store is `sqlite:///<project>/mlflow.db` with artifacts in
`<project>/mlartifacts/`; `MLFLOW_TRACKING_URI` switches to a shared server. Runs started
by `dvc exp run --temp/--queue` (which work in a copy under `.dvc/tmp/exps/`) land in
the main project's store. MLflow is imported inside functions: it costs seconds.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from pipeline.core.errors import PipelineError
from pipeline.core.io import pid_alive, write_json
from pipeline.core.store import (  # the store's answers, read where the runs are made
    HTTP_DEFAULTS,
    configure_tracking,
    embedded_uri,
    is_not_found,
    project_root,
    store_error,
)

__all__ = ["HTTP_DEFAULTS", "configure_tracking", "is_not_found", "project_root", "store_error"]

MAX_PARAM_LENGTH = 6000


# MLflow 3 stores an experiment's kind in this tag (its UI writes it when a user picks one);
# UIs that read it open a `custom_model_development` experiment on its training runs, not on
# the GenAI overview. 3.17.2's own UI reads its sidebar's GenAI / Model training switch
# instead (browser-local, `?workflowType=machine_learning` in a link): see docs/mlflow.md.
KIND_TAG = "mlflow.experimentKind"
TRAINING_KIND = "custom_model_development"
#: kinds the UI already shows as model training: a user's choice among them is kept
TRAINING_KINDS = frozenset(
    {TRAINING_KIND, "custom_model_development_inferred", "finetuning", "regression"}
    | {"classification", "forecasting", "automl"}
)


def _experiment_id(task: str) -> str:
    """The task's experiment, created on first use and marked a model-training experiment.

    Another process (a teammate, a queued `dvc exp`) may create it at the same moment on a
    shared server: the loser reads the winner's.
    """
    import mlflow
    from mlflow.exceptions import MlflowException

    experiment = mlflow.get_experiment_by_name(task)
    if experiment is None:
        location = None  # a tracking server decides where artifacts go
        if mlflow.get_tracking_uri() == embedded_uri():  # (set_tracking_uri exports the env)
            location = (project_root() / "mlartifacts" / task).as_uri()
        try:
            return mlflow.create_experiment(
                task, artifact_location=location, tags={KIND_TAG: TRAINING_KIND}
            )
        except MlflowException as err:
            if err.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
            experiment = mlflow.get_experiment_by_name(task)
            if experiment is None:
                raise
    if experiment.lifecycle_stage == "deleted":
        uri, number = mlflow.get_tracking_uri(), experiment.experiment_id
        raise PipelineError(
            f"MLflow experiment {task!r} (id {number}) is deleted in {uri}: restore it "
            f"(`MLFLOW_TRACKING_URI={uri} mlflow experiments restore -x {number}`) or purge "
            f"it for good (`mlflow gc --backend-store-uri <its database> --experiment-ids "
            f"{number}`)"
        )
    _mark_training(experiment)
    return experiment.experiment_id


def _mark_training(experiment: Any) -> None:
    """Tag an experiment made before the kind was set (or marked GenAI) as model training."""
    import mlflow

    if experiment.tags.get(KIND_TAG) not in TRAINING_KINDS:
        mlflow.MlflowClient().set_experiment_tag(experiment.experiment_id, KIND_TAG, TRAINING_KIND)


def flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"train": {"task": {"epochs": 3}}} -> {"train.task.epochs": 3}."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return done.stdout.strip()


#: Git-tracked files that `dvc repro` itself writes as stages finish (dvc.yaml's `cache: false`
#: metrics and the lock): a run sees them changed by the stages before it, not by a person.
DVC_WRITTEN = ("dvc.lock", "metrics")


def git_dirty() -> str:
    """Whether the checkout differs from its commit by more than what DVC writes: "true",
    "false", or "unknown" outside git. The paths are relative to the current folder, the DVC
    root a stage runs in."""
    status = _git("status", "--porcelain", "--", *(f":(exclude){p}" for p in DVC_WRITTEN))
    return "unknown" if status is None else str(bool(status)).lower()


def lineage_tags(task: str) -> dict[str, str]:
    """What a person reads on the run's page: the task, git commit and dirty flag, experiment.

    The data hashes of `dvc.lock` are one artifact (`lineage_record`), not a tag per file:
    tag keys must never be built from user paths, and forty hash tags bury the rest.
    """
    tags = {
        "task": task,
        "git_commit": _git("rev-parse", "HEAD") or "unknown",
        "git_dirty": git_dirty(),
    }
    if "DVC_EXP_NAME" in os.environ:
        tags["dvc_exp_name"] = os.environ["DVC_EXP_NAME"]
    return tags


def lineage_record(task: str, lock_file: Path = Path("dvc.lock")) -> dict[str, Any]:
    """The task's stages in `dvc.lock` (deps, params and outs with their hashes), and the
    shared stages (no `@`), as logged in the run's `lineage/dvc_lock.json`."""
    if not lock_file.is_file():
        return {}
    stages = (yaml.safe_load(lock_file.read_text()) or {}).get("stages", {})
    return {
        stage: entry
        for stage, entry in sorted(stages.items())
        if stage.endswith(f"@{task}") or "@" not in stage
    }


def run_name(task: str) -> str:
    """`<task>-<DVC experiment or short commit>-<UTC time>`: unique, and says what it ran."""
    from datetime import UTC, datetime

    source = os.environ.get("DVC_EXP_NAME") or (_git("rev-parse", "--short", "HEAD") or "nogit")
    return f"{task}-{source}-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}"


def close_abandoned_runs(experiment_id: str) -> list[str]:
    """Mark KILLED the runs left RUNNING by a process of this host that no longer exists."""
    import socket

    import mlflow

    client = mlflow.MlflowClient()
    host = socket.gethostname()
    closed = []
    for run in client.search_runs(
        [experiment_id], filter_string=f"attributes.status = 'RUNNING' and tags.host = '{host}'"
    ):
        pid = run.data.tags.get("pid", "")
        if pid.isdigit() and not pid_alive(int(pid)):
            client.set_terminated(run.info.run_id, status="KILLED")
            closed.append(run.info.run_id)
    return closed


@contextmanager
def start_run(task: str, params: dict[str, Any], run_file: Path) -> Iterator[Any]:
    """A new run in the task's experiment, with params and lineage; its id saved to run_file.

    Runs that a killed process left RUNNING are marked KILLED first. If the block fails,
    the run is FAILED and run_file is removed.
    """
    import socket

    import mlflow

    configure_tracking()
    try:
        experiment_id = _experiment_id(task)
        close_abandoned_runs(experiment_id)
        active = mlflow.start_run(experiment_id=experiment_id, run_name=run_name(task))
    except PipelineError:
        raise
    except Exception as err:  # the store failed: one line naming it, not a traceback
        raise store_error(err, f"starting a {task} run") from err
    with active as run:
        mlflow.log_params({k: str(v)[:MAX_PARAM_LENGTH] for k, v in flatten(params).items()})
        mlflow.set_tags(
            lineage_tags(task) | {"host": socket.gethostname(), "pid": str(os.getpid())}
        )
        if lineage := lineage_record(task):
            mlflow.log_dict(lineage, "lineage/dvc_lock.json")
        write_json(
            run_file,
            {
                "run_id": run.info.run_id,
                "experiment_id": run.info.experiment_id,
                "tracking_uri": mlflow.get_tracking_uri(),
            },
        )
        try:
            yield run
        except BaseException:
            # a failed training must not leave a pointer to its FAILED run beside an older
            # model: evaluate and register then stop, saying to rerun train
            run_file.unlink(missing_ok=True)
            raise


@contextmanager
def resume_run(run_file: Path) -> Iterator[Any]:
    """Reopen the run recorded in run_file (evaluate logs into the training's run)."""
    import mlflow

    configure_tracking()
    if not run_file.is_file():
        raise PipelineError(f"{run_file} not found: run the train stage first")
    run_id = json.loads(run_file.read_text())["run_id"]
    try:
        mlflow.MlflowClient().get_run(run_id)
        active = mlflow.start_run(run_id=run_id)
    except Exception as err:
        if not is_not_found(err):  # a store that failed must not read as a missing run
            raise store_error(err, f"reopening run {run_id}") from err
        raise PipelineError(
            f"MLflow run {run_id} from {run_file} is not in {mlflow.get_tracking_uri()}: "
            "rerun the train stage"
        ) from err
    with active as run:
        yield run


def record_model(run_file: Path, model_uri: str, **facts: str) -> None:
    """Add the logged model's URI (`models:/m-...` in MLflow 3) and `facts` to the run file."""
    write_json(run_file, json.loads(run_file.read_text()) | {"model_uri": model_uri, **facts})


#: per-epoch series that are bookkeeping, not measurements: a tag says where phase 2 began
NOT_METRICS = ("phase",)


def log_history(history: dict[str, list[float]]) -> None:
    """Per-epoch metrics; the fine-tuning phase as the tag `finetune_from_epoch`."""
    import mlflow

    for name, values in history.items():
        if name in NOT_METRICS:
            continue
        for epoch, value in enumerate(values):
            mlflow.log_metric(name, float(value), step=epoch)
    phases = list(history.get("phase", []))
    if 2 in phases:
        mlflow.set_tag("finetune_from_epoch", str(phases.index(2)))


def log_metrics(metrics: dict[str, Any]) -> None:
    """Every number of a (nested) metrics dict, under dotted names."""
    import mlflow

    numbers = {
        _chart_name(k): float(v)
        for k, v in flatten(metrics).items()
        if isinstance(v, int | float) and not isinstance(v, bool) and v == v
    }
    mlflow.log_metrics(numbers)


#: nested sections whose figures describe the data, not the model: the MLflow UI draws a
#: `section/name` metric in its own chart section, so the model's own figures open the page
SECTIONS = ("baseline", "per_source")


def _chart_name(name: str) -> str:
    """`baseline.mse` -> `baseline/mse`; other names unchanged."""
    section, _, rest = name.partition(".")
    return f"{section}/{rest}" if section in SECTIONS and rest else name


def set_tags(tags: dict[str, str]) -> None:
    import mlflow

    mlflow.set_tags(tags)


def log_artifact(path: Path, folder: str) -> None:
    import mlflow

    if path.exists():
        mlflow.log_artifact(str(path), artifact_path=folder)


def log_artifacts(path: Path, folder: str) -> None:
    import mlflow

    if path.is_dir():
        mlflow.log_artifacts(str(path), artifact_path=folder)
