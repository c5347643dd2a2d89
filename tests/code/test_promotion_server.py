"""The gate against a real `mlflow server` over HTTP: its "not found" answers still mean
"no champion", and once it is gone promote fails fast, on one line, naming it."""

import os
import signal
import time

import pytest

mlflow = pytest.importorskip("mlflow")

from pipeline.core import registry, tracking  # noqa: E402
from pipeline.core.registry import history  # noqa: E402
from pipeline.tasks.base import PrimaryMetric  # noqa: E402
from tests.servers import mlflow_server  # noqa: E402

pytestmark = pytest.mark.server

MSE = PrimaryMetric("test_mse", greater_is_better=False)


@pytest.fixture
def server(tmp_path, monkeypatch):
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    with mlflow_server(f"sqlite:///{tmp_path / 's.db'}", artifacts) as (uri, process):
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("DVC_ROOT", str(tmp_path))
        monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
        yield process, uri
        mlflow.set_tracking_uri(None)


def test_the_gate_over_http(server):
    process, uri = server
    tracking.configure_tracking()
    client = mlflow.MlflowClient()
    with pytest.raises(registry.PipelineError, match="dvc repro register@toy"):
        registry.promote("toy", MSE)  # the server's "Registered Model ... not found"
    client.create_registered_model("toy")
    tags = {"metric.test_mse": "0.5", "primary_metric": "test_mse", "test_split_hash": "s"}
    version = client.create_model_version("toy", "s3://bucket/toy/1", tags=tags)
    client.set_registered_model_alias("toy", "candidate", version.version)
    first = registry.promote("toy", MSE)  # the server's "alias champion not found"
    assert first.promoted and "no champion yet" in first.reason
    assert [r.outcome for r in registry.promotion_history("toy")] == ["promoted"]
    assert history.last_champion(client.get_registered_model("toy.champion").tags) == 1

    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    started = time.monotonic()
    with pytest.raises(registry.PipelineError) as err:
        registry.promote("toy", MSE)
    assert time.monotonic() - started < 60
    message = str(err.value)
    assert f"MLflow store {uri} failed" in message and "\n" not in message
    assert "no alias" not in message and "no champion" not in message
