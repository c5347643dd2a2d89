"""Tracking: the store lives in the main project, runs carry params and lineage."""

import json
import socket
import time

import pytest
from typer.testing import CliRunner

mlflow = pytest.importorskip("mlflow")

from pipeline.core import tracking  # noqa: E402


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("DVC_ROOT", raising=False)
    yield tmp_path
    mlflow.set_tracking_uri(None)


def test_runs_from_a_dvc_experiment_copy_land_in_the_main_project(project, monkeypatch):
    copy = project / ".dvc" / "tmp" / "exps" / "run" / "abc123"
    copy.mkdir(parents=True)
    monkeypatch.setenv("DVC_ROOT", str(copy))
    assert tracking.project_root() == project
    assert tracking.configure_tracking() == f"sqlite:///{project / 'mlflow.db'}"


def test_a_tracking_server_uri_wins(project, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://mlflow.internal:5000")
    assert tracking.configure_tracking(check=False) == "http://mlflow.internal:5000"


@pytest.fixture
def http_defaults_unset(monkeypatch):
    for name in tracking.HTTP_DEFAULTS:
        monkeypatch.delenv(name, raising=False)


def test_http_calls_get_short_retries_unless_the_user_chose(
    project, monkeypatch, http_defaults_unset
):
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "90")
    tracking.configure_tracking()
    from mlflow.environment_variables import (
        MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR,
        MLFLOW_HTTP_REQUEST_MAX_RETRIES,
        MLFLOW_HTTP_REQUEST_TIMEOUT,
    )

    assert MLFLOW_HTTP_REQUEST_MAX_RETRIES.get() == 2  # MLflow's own default is 7
    assert MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR.get() == 1  # 2
    assert MLFLOW_HTTP_REQUEST_TIMEOUT.get() == 90  # the user's, not our 15


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("command", [["promote", "driving"], ["models", "driving"]])
def test_an_unreachable_server_fails_a_command_fast_on_one_line(
    project, monkeypatch, http_defaults_unset, command
):
    from pipeline.cli import app

    uri = f"http://127.0.0.1:{_closed_port()}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    started = time.monotonic()
    result = CliRunner().invoke(app, command)
    assert time.monotonic() - started < 60
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output
    assert f"MLflow store {uri} failed" in lines[0] and "Connection refused" in lines[0]
    assert "no alias" not in lines[0] and "dvc repro" not in lines[0]


def test_a_store_error_is_one_line_naming_the_store():
    from mlflow.exceptions import MlflowException

    err = MlflowException("API request to http://h:1/x failed with exception Read timed out.")
    message = str(tracking.store_error(err, "reading x", "http://h:1"))
    assert message.startswith("MLflow store http://h:1 failed while reading x: the request timed")


def test_params_are_flattened():
    assert tracking.flatten({"train": {"driving": {"epochs": 3}}, "seed": 1}) == {
        "train.driving.epochs": 3,
        "seed": 1,
    }


def test_a_run_records_params_lineage_and_its_id(project):
    (project / "dvc.lock").write_text(
        "schema: '2.0'\nstages:\n  train@toy:\n    deps:\n    - path: data/x\n      md5: abc\n"
        "  train@other:\n    deps:\n    - path: data/y\n      md5: def\n"
    )
    with tracking.start_run("toy", {"train": {"epochs": 2}}, project / "run.json") as run:
        tracking.log_history({"loss": [1.0, 0.5], "phase": [1, 2]})
    record = json.loads((project / "run.json").read_text())
    assert record["run_id"] == run.info.run_id
    data = mlflow.MlflowClient().get_run(run.info.run_id).data
    assert data.params["train.epochs"] == "2"
    assert data.tags["task"] == "toy" and "git_commit" in data.tags and "git_dirty" in data.tags
    # dvc.lock is one artifact of the task's stages, not a tag per file
    assert not any(key.startswith("dvc.") for key in data.tags)
    logged = mlflow.artifacts.load_dict(f"{run.info.artifact_uri}/lineage/dvc_lock.json")
    assert logged == {"train@toy": {"deps": [{"path": "data/x", "md5": "abc"}]}}
    # the fine-tuning phase is a tag, not a metric chart
    assert "phase" not in data.metrics and data.tags["finetune_from_epoch"] == "1"
    history = mlflow.MlflowClient().get_metric_history(run.info.run_id, "loss")
    assert [m.value for m in history] == [1.0, 0.5]

    with tracking.resume_run(project / "run.json") as again:
        tracking.log_metrics(
            {"test": {"mse": 0.1}, "name": "ignored", "baseline": {"name": "mean", "mse": 0.2}}
        )
    assert again.info.run_id == run.info.run_id
    metrics = mlflow.MlflowClient().get_run(run.info.run_id).data.metrics
    assert metrics == {"test.mse": 0.1, "baseline/mse": 0.2, "loss": 0.5}


def test_evaluate_before_train_says_what_to_run(project):
    with (
        pytest.raises(tracking.PipelineError, match="run the train stage first"),
        tracking.resume_run(project / "missing.json"),
    ):
        pass


def _git(cwd, *args: str) -> None:
    import subprocess

    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def test_git_dirty_ignores_what_dvc_repro_writes_but_not_a_persons_edit(project, monkeypatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(project.parent))
    assert tracking.git_dirty() == "unknown"  # not a git checkout
    (project / "metrics").mkdir()
    for name in ("params.yaml", "dvc.lock", "metrics/plates.json", "train.py"):
        (project / name).write_text("committed\n")
    _git(project, "init", "-q")
    _git(project, "add", ".")
    _git(project, "commit", "-q", "-m", "baseline")
    assert tracking.git_dirty() == "false"
    # a stage before this one rewrote the lock and wrote metrics, as in a fresh clone's repro
    (project / "dvc.lock").write_text("rewritten\n")
    (project / "metrics/plates.json").write_text("new figures\n")
    (project / "metrics/driving.json").write_text("first figures\n")
    _git(project, "add", "dvc.lock")  # DVC's core.autostage
    assert tracking.git_dirty() == "false"
    assert tracking.lineage_tags("toy")["git_dirty"] == "false"
    for edited in ("train.py", "params.yaml"):  # code, or `dvc exp run -S`
        (project / edited).write_text("edited\n")
        assert tracking.git_dirty() == "true", edited
        _git(project, "checkout", "-q", edited)
    (project / "notes.py").write_text("new\n")
    assert tracking.git_dirty() == "true"


def test_the_dvc_written_paths_are_dvc_yamls_uncached_outputs():
    from pathlib import Path

    import yaml

    dvc_yaml = yaml.safe_load((Path(__file__).parents[2] / "dvc.yaml").read_text())
    uncached = [
        path
        for stage in dvc_yaml["stages"].values()
        for kind in ("outs", "metrics", "plots")
        for entry in stage.get("do", stage).get(kind, [])
        if isinstance(entry, dict)
        for path, options in entry.items()
        if options and options.get("cache") is False
    ]
    assert uncached, "dvc.yaml lists no uncached output: is DVC_WRITTEN still right?"
    assert all(path.split("/")[0] in tracking.DVC_WRITTEN for path in uncached), uncached
