"""A trial's scratch workspace: the project's inputs linked in, its own params and outputs.

A trial writes what `pipeline train` writes (`models/<task>/`, `reports/<task>/`, its
checkpoints) in a folder of its own, so trials running at once never share a file and the
project's DVC outputs stay as they are. It reads the project's `data/` and shared backbone
through links. MLflow runs go to the project's store (`DVC_ROOT` and the tracking URI point
there, as under `dvc exp run`); git lineage is the project's.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import yaml

from pipeline.core import layout
from pipeline.core.finetune import read_epoch_log

PARAMS = "params.yaml"
LOG = "trial.log"
#: read-only inputs a training may read, linked from the project when it has them
LINKED = (Path("data"), layout.BACKBONE_DIR)


def create(work: Path, root: Path, params: dict[str, Any]) -> None:
    """Lay out `work` for one trial with `params` (a whole params file)."""
    work.mkdir(parents=True, exist_ok=True)
    (work / PARAMS).write_text(yaml.safe_dump(params, sort_keys=False))
    for linked in LINKED:
        if (root / linked).exists() and not (work / linked).exists():
            (work / linked).parent.mkdir(parents=True, exist_ok=True)
            (work / linked).symlink_to((root / linked).resolve(), target_is_directory=True)
    if (root / "dvc.lock").is_file():  # the data lineage the run records
        shutil.copyfile(root / "dvc.lock", work / "dvc.lock")


def environment(root: Path, tracking_uri: str, run_id: str | None = None) -> dict[str, str]:
    """The trial's environment: the project's store and lineage, the run it logs into."""
    env = dict(os.environ)
    # DVC_ROOT: the project whose registry lock a trial takes (already set under `dvc exp`)
    env.update({"DVC_ROOT": env.get("DVC_ROOT") or str(root), "MLFLOW_TRACKING_URI": tracking_uri})
    if (root / ".git").exists():
        env.update({"GIT_DIR": str(root / ".git"), "GIT_WORK_TREE": str(root)})
    env.pop("MLFLOW_RUN_ID", None)
    if run_id:
        env["MLFLOW_RUN_ID"] = run_id  # mlflow.start_run resumes it: the trial's child run
    return env


def epochs_so_far(work: Path, task: str) -> dict[str, list[float]]:
    """Per-epoch figures of a running training, from the logs its phases append to."""
    history: dict[str, list[float]] = {}
    for log in sorted((work / layout.checkpoints_dir(task)).glob("*_epochs.jsonl")):
        for name, values in read_epoch_log(log).items():
            history.setdefault(name, []).extend(values)
    return history


def final_history(work: Path, task: str) -> dict[str, list[float]] | None:
    """Per-epoch figures of a finished training (`reports/<task>/history.json`)."""
    path = work / layout.task_reports(task) / "history.json"
    if not path.is_file():
        return None
    history: dict[str, list[float]] = {}
    for row in json.loads(path.read_text()):
        for name, value in row.items():
            if name != "epoch":
                history.setdefault(name, []).append(float(value))
    return history


def trained_run(work: Path, task: str) -> dict[str, Any] | None:
    """The run file of a training that finished and logged its model, else None."""
    path = work / layout.run_file(task)
    if not path.is_file():
        return None
    run: dict[str, Any] = json.loads(path.read_text())
    return run if "model_uri" in run else None
