"""Registry: candidate on register, champion only for a better model on the same test split."""

import json

import pytest

mlflow = pytest.importorskip("mlflow")

from pipeline.core import registry, tracking  # noqa: E402
from pipeline.tasks.base import PrimaryMetric  # noqa: E402

MSE = PrimaryMetric("test_mse", greater_is_better=False)
ECHO_MODEL = """
import mlflow
import pandas as pd


class Echo(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input: pd.DataFrame, params=None):
        return model_input


mlflow.models.set_model(Echo())
"""


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("DVC_ROOT", str(tmp_path))
    yield tmp_path
    mlflow.set_tracking_uri(None)


def _register(store, mse, split="same"):
    code = store / "echo_model.py"
    code.write_text(ECHO_MODEL)
    with tracking.start_run("toy", {"x": 1}, store / "run.json") as run:
        logged = mlflow.pyfunc.log_model(name="model", python_model=str(code), pip_requirements=[])
    return registry.register(
        "toy",
        run.info.run_id,
        logged.model_uri,
        {"test_mse": mse},
        MSE,
        split,
        store / "registered.json",
    )


def test_register_makes_a_candidate_and_writes_the_record(store):
    assert _register(store, 0.5) == 1
    record = json.loads((store / "registered.json").read_text())
    assert record["model_uri"] == "models:/toy@candidate" and record["version"] == 1
    assert mlflow.MlflowClient().get_model_version_by_alias("toy", "candidate").version == 1
    assert (store / "mlartifacts").is_dir() and not (store / "mlruns").exists()
    served = mlflow.pyfunc.load_model("models:/toy@candidate")  # the alias reaches the files
    assert served.predict({"x": [1]}) == {"x": [1]}


def test_promotion_follows_the_primary_metric(store):
    _register(store, 0.5)
    assert registry.promote("toy", MSE).promoted  # no champion yet
    _register(store, 0.3)
    better = registry.promote("toy", MSE)
    assert better.promoted and better.champion_value == 0.5
    _register(store, 0.9)
    worse = registry.promote("toy", MSE)
    assert not worse.promoted and "does not beat" in worse.reason
    client = mlflow.MlflowClient()
    assert client.get_model_version_by_alias("toy", "champion").version == 2
    tags = client.get_model_version("toy", "3").tags
    assert tags["promotion.decision"] == "refused"
    assert tags["promotion.candidate_value"] == "0.9" and tags["promotion.champion_value"] == "0.3"
    assert tags["promotion.by"] and tags["promotion.at"]


def test_a_different_test_split_is_refused_unless_forced(store):
    _register(store, 0.5)
    registry.promote("toy", MSE)
    _register(store, 0.1, split="other")
    assert "different test splits" in registry.promote("toy", MSE).reason
    assert registry.promote("toy", MSE, force=True).promoted


def test_rollback_returns_champion_to_its_previous_holder(store):
    _register(store, 0.5)
    registry.promote("toy", MSE)
    _register(store, 0.9)
    registry.promote("toy", MSE, version=2, force=True)
    decision = registry.rollback("toy")
    assert decision.version == 1
    assert mlflow.MlflowClient().get_model_version_by_alias("toy", "champion").version == 1
    rows = registry.list_versions("toy")
    assert [(r["version"], r["aliases"]) for r in rows] == [(2, ["candidate"]), (1, ["champion"])]


def test_higher_is_better_metrics_compare_the_other_way(store):
    ap = PrimaryMetric("test_mse", greater_is_better=True)  # reuse the logged name
    _register(store, 0.5)
    registry.promote("toy", ap)
    _register(store, 0.9)
    assert registry.promote("toy", ap).promoted


def test_promoting_with_nothing_registered_says_what_to_run(store):
    tracking.configure_tracking()
    with pytest.raises(registry.PipelineError, match="dvc repro register@toy"):
        registry.promote("toy", MSE)
