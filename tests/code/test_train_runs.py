"""Training runs: a run a killed process left RUNNING is closed; names say what ran."""

import os
import socket
import subprocess
import sys

import pytest

mlflow = pytest.importorskip("mlflow")

from pipeline.core import tracking  # noqa: E402


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    tracking.configure_tracking()
    yield mlflow.MlflowClient()
    mlflow.set_tracking_uri(None)


def _running_run(client, experiment_id, pid):
    run = client.create_run(experiment_id, tags={"host": socket.gethostname(), "pid": str(pid)})
    return run.info.run_id


def test_a_run_left_running_by_a_dead_process_is_marked_killed(store):
    experiment_id = store.create_experiment("driving")
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], **_OUT)
    orphan = _running_run(store, experiment_id, int(done.stdout))
    alive = _running_run(store, experiment_id, os.getpid())  # e.g. a parallel training
    assert tracking.close_abandoned_runs(experiment_id) == [orphan]
    assert store.get_run(orphan).info.status == "KILLED"
    assert store.get_run(alive).info.status == "RUNNING"


_OUT = {"capture_output": True, "text": True, "check": True}


def test_each_run_gets_its_own_readable_name(store, tmp_path, monkeypatch):
    monkeypatch.setenv("DVC_EXP_NAME", "lower-lr")
    with tracking.start_run("driving", {"seed": 1}, tmp_path / "run.json") as run:
        name = run.info.run_name
    assert name.startswith("driving-lower-lr-")
    finished = store.get_run(run.info.run_id)
    assert finished.info.status == "FINISHED"
    assert finished.data.tags["pid"] == str(os.getpid())


def test_a_failed_training_leaves_no_pointer_to_its_run(store, tmp_path):
    run_file = tmp_path / "models" / "run.json"
    with pytest.raises(RuntimeError), tracking.start_run("driving", {}, run_file) as run:
        assert run_file.is_file()
        raise RuntimeError("the loss became infinite")
    assert not run_file.exists()
    assert store.get_run(run.info.run_id).info.status == "FAILED"


def _draws_inside_training(project, monkeypatch, store_uri):
    """Run the real train stage with a stub fit that records the random draws it sees."""
    import random

    import keras
    import numpy as np

    from pipeline.config import load_config
    from pipeline.stages import train
    from pipeline.tasks import TASKS
    from pipeline.tasks.base import Trained

    seen = {}

    def fit(*args, **kwargs):
        seen["draws"] = (random.random(), float(np.random.rand()), float(keras.random.uniform(())))
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        return Trained(model, {"loss": [1.0], "val_loss": [1.0]})

    monkeypatch.setenv("MLFLOW_TRACKING_URI", store_uri)
    monkeypatch.setattr(TASKS["driving"], "fit", fit)
    monkeypatch.setattr(TASKS["driving"], "log_model", lambda *a: "models:/stub")
    monkeypatch.setattr(train, "checked_provenance", lambda *a, **k: None)  # no data here
    train.run("driving", load_config(project / "params.yaml"))
    return seen["draws"]


def test_the_same_seed_gives_the_same_draws_whatever_the_tracking_store(tmp_path, monkeypatch):
    """Stores differ in how much of Python's `random` creating a run consumes (the SQL
    store names runs in-process, a server does it remotely): training must not care."""
    import random
    import shutil
    from pathlib import Path

    shutil.copy(Path(__file__).parents[2] / "params.yaml", tmp_path / "params.yaml")
    monkeypatch.chdir(tmp_path)
    plain = _draws_inside_training(tmp_path, monkeypatch, f"sqlite:///{tmp_path / 'a.db'}")

    create_run = mlflow.tracking.MlflowClient.create_run

    def create_run_drawing_random(self, *args, **kwargs):
        random.random(), random.random()  # what a store may do while creating the run
        return create_run(self, *args, **kwargs)

    monkeypatch.setattr(mlflow.tracking.MlflowClient, "create_run", create_run_drawing_random)
    drawing = _draws_inside_training(tmp_path, monkeypatch, f"sqlite:///{tmp_path / 'b.db'}")
    assert plain == drawing
    mlflow.set_tracking_uri(None)


def test_a_store_failure_when_reopening_a_run_is_not_read_as_a_missing_run(
    store, tmp_path, monkeypatch
):
    from mlflow.exceptions import MlflowException

    from pipeline.core.errors import PipelineError

    with tracking.start_run("driving", {}, tmp_path / "run.json"):
        pass

    def failing(self, run_id):
        raise MlflowException("503 Service Unavailable", error_code="TEMPORARILY_UNAVAILABLE")

    monkeypatch.setattr(mlflow.MlflowClient, "get_run", failing)
    with pytest.raises(PipelineError) as err, tracking.resume_run(tmp_path / "run.json"):
        pass
    assert "failed while reopening run" in str(err.value)
    assert "rerun the train stage" not in str(err.value)


def test_a_store_failure_when_starting_a_run_is_one_line(store, tmp_path, monkeypatch):
    from mlflow.exceptions import MlflowException

    from pipeline.core.errors import PipelineError

    def failing(*args, **kwargs):
        raise MlflowException("connection reset", error_code="INTERNAL_ERROR")

    monkeypatch.setattr(mlflow, "start_run", failing)
    starting = tracking.start_run("driving", {}, tmp_path / "run.json")
    with pytest.raises(PipelineError, match="failed while starting a driving run"), starting:
        pass
    assert not (tmp_path / "run.json").exists()
