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
from pipeline.core.io import write_json

MAX_PARAM_LENGTH = 6000


def project_root() -> Path:
    """The main project: `$DVC_ROOT` or the cwd, walked out of any `.dvc/tmp/exps/` copy."""
    root = Path(os.environ.get("DVC_ROOT") or Path.cwd()).resolve()
    parts = root.parts
    for index in range(len(parts) - 2):
        if parts[index : index + 3] == (".dvc", "tmp", "exps"):
            return Path(*parts[:index])
    return root


def configure_tracking() -> str:
    """Point MLflow at the shared server, or at the project's embedded store."""
    import mlflow

    uri = os.environ.get("MLFLOW_TRACKING_URI") or _embedded_uri()
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return uri


def _embedded_uri() -> str:
    return f"sqlite:///{project_root() / 'mlflow.db'}"


def _experiment_id(task: str) -> str:
    import mlflow

    experiment = mlflow.get_experiment_by_name(task)
    if experiment is not None:
        return experiment.experiment_id
    location = None  # a tracking server decides where artifacts go
    if mlflow.get_tracking_uri() == _embedded_uri():  # (set_tracking_uri exports the env var)
        location = (project_root() / "mlartifacts" / task).as_uri()
    return mlflow.create_experiment(task, artifact_location=location)


def flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"train": {"driving": {"epochs": 3}}} -> {"train.driving.epochs": 3}."""
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


def lineage_tags(task: str, lock_file: Path = Path("dvc.lock")) -> dict[str, str]:
    """Git commit and dirty flag, and the hashes of the task's stage deps in dvc.lock."""
    status = _git("status", "--porcelain")
    tags = {
        "task": task,
        "git_commit": _git("rev-parse", "HEAD") or "unknown",
        "git_dirty": "unknown" if status is None else str(bool(status)).lower(),
    }
    if "DVC_EXP_NAME" in os.environ:
        tags["dvc_exp_name"] = os.environ["DVC_EXP_NAME"]
    if lock_file.is_file():
        stages = (yaml.safe_load(lock_file.read_text()) or {}).get("stages", {})
        for stage, entry in stages.items():
            if stage.endswith(f"@{task}") or "@" not in stage:
                for dep in entry.get("deps", []):
                    digest = dep.get("md5") or dep.get("hash") or ""
                    tags[f"dvc.{stage.replace('@', ':')}.{dep['path']}"] = str(digest)
    return tags


@contextmanager
def start_run(task: str, params: dict[str, Any], run_file: Path) -> Iterator[Any]:
    """A new run in the task's experiment, with params and lineage; its id saved to run_file."""
    import mlflow

    configure_tracking()
    with mlflow.start_run(experiment_id=_experiment_id(task)) as run:
        mlflow.log_params({k: str(v)[:MAX_PARAM_LENGTH] for k, v in flatten(params).items()})
        mlflow.set_tags(lineage_tags(task))
        write_json(
            run_file,
            {
                "run_id": run.info.run_id,
                "experiment_id": run.info.experiment_id,
                "tracking_uri": mlflow.get_tracking_uri(),
            },
        )
        yield run


@contextmanager
def resume_run(run_file: Path) -> Iterator[Any]:
    """Reopen the run recorded in run_file (evaluate logs into the training's run)."""
    import mlflow
    from mlflow.exceptions import MlflowException

    configure_tracking()
    if not run_file.is_file():
        raise PipelineError(f"{run_file} not found: run the train stage first")
    run_id = json.loads(run_file.read_text())["run_id"]
    try:
        mlflow.MlflowClient().get_run(run_id)
    except MlflowException as err:
        raise PipelineError(
            f"MLflow run {run_id} from {run_file} is not in {mlflow.get_tracking_uri()}: "
            "rerun the train stage"
        ) from err
    with mlflow.start_run(run_id=run_id) as run:
        yield run


def record_model(run_file: Path, model_uri: str) -> None:
    """Add the logged model's URI (`models:/m-...` in MLflow 3) to the run file."""
    write_json(run_file, json.loads(run_file.read_text()) | {"model_uri": model_uri})


def log_history(history: dict[str, list[float]]) -> None:
    import mlflow

    for name, values in history.items():
        for epoch, value in enumerate(values):
            mlflow.log_metric(name, float(value), step=epoch)


def log_metrics(metrics: dict[str, Any]) -> None:
    """Every number of a (nested) metrics dict, under dotted names."""
    import mlflow

    numbers = {
        k.replace(" ", "_").replace("+", "p").replace("..", "_to_"): float(v)
        for k, v in flatten(metrics).items()
        if isinstance(v, int | float) and not isinstance(v, bool) and v == v
    }
    mlflow.log_metrics(numbers)


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
