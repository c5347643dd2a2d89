"""Tracking: the store lives in the main project, runs carry params and lineage."""

import json

import pytest

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
    assert tracking.configure_tracking() == "http://mlflow.internal:5000"


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
        tracking.log_history({"loss": [1.0, 0.5]})
    record = json.loads((project / "run.json").read_text())
    assert record["run_id"] == run.info.run_id
    data = mlflow.MlflowClient().get_run(run.info.run_id).data
    assert data.params["train.epochs"] == "2"
    assert data.tags["task"] == "toy" and "git_commit" in data.tags and "git_dirty" in data.tags
    assert data.tags["dvc.train:toy.data/x"] == "abc"
    assert not any("other" in key for key in data.tags)
    history = mlflow.MlflowClient().get_metric_history(run.info.run_id, "loss")
    assert [m.value for m in history] == [1.0, 0.5]

    with tracking.resume_run(project / "run.json") as again:
        tracking.log_metrics({"test": {"mse": 0.1}, "name": "ignored"})
    assert again.info.run_id == run.info.run_id
    assert mlflow.MlflowClient().get_run(run.info.run_id).data.metrics["test.mse"] == 0.1


def test_evaluate_before_train_says_what_to_run(project):
    with (
        pytest.raises(tracking.PipelineError, match="run the train stage first"),
        tracking.resume_run(project / "missing.json"),
    ):
        pass
