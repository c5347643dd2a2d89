"""`pipeline tune`: a two-trial sweep of driving on local Ray, as a user runs it.

What a user relies on: exit code 0, one parent MLflow run with a child run per trial holding
that trial's params, the best trial registered as `candidate`, and a params file that
reproduces the best trial.
"""

import json

import pytest
import yaml
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.config import load_config
from tests.tiny import tiny_params

pytest.importorskip("ray", reason="the tune extra is not installed (requirements/tune.lock)")

pytestmark = [pytest.mark.slow, pytest.mark.train]

PARAMS = "tiny.yaml"
LEARNING_RATE = "train.driving.fit.learning_rate"
runner = CliRunner()


def _invoke(*args: str) -> str:
    result = runner.invoke(app, [*args, "--params", PARAMS])
    assert result.exit_code == 0, f"pipeline {' '.join(args)}:\n{result.output}"
    return result.output


@pytest.fixture
def project(embedded_store):
    """tmp project (cwd) with driving's processed frames and a tiny params file."""
    params = tiny_params()
    params["backbone"]["weights"] = "none"
    (embedded_store / PARAMS).write_text(yaml.safe_dump(params, sort_keys=False))
    for stage in ("sample", "ingest", "validate", "augment"):
        _invoke(stage, "driving")
    return embedded_store


def test_two_trial_sweep_logs_children_and_registers_the_best(project):
    import mlflow

    printed = _invoke(
        "tune", "driving", "--space", f"{LEARNING_RATE}=choice(0.0005,0.002)", "--trials", "2"
    )
    assert "registered version 1 as models:/driving@candidate" in printed

    client = mlflow.MlflowClient()
    experiment = client.get_experiment_by_name("driving").experiment_id
    runs = client.search_runs([experiment])
    parents = [r for r in runs if r.data.tags.get("tune.sweep") == "parent"]
    assert len(parents) == 1
    parent = parents[0].info.run_id
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent]
    assert len(children) == 2
    rates = {float(r.data.params[LEARNING_RATE]) for r in children}
    assert 0.001 in rates and len(rates) == 2  # the params file's value, then a drawn one

    sweep = json.loads((project / "reports/tune/driving/sweep.json").read_text())
    best = sweep["best"]
    candidate = client.get_model_version_by_alias("driving", "candidate")
    assert candidate.run_id == best["run_id"] in {r.info.run_id for r in children}
    assert min(t["best_val_loss"] for t in sweep["trials"] if t["trained"]) == best["best_val_loss"]

    reproduced = load_config(project / "reports/tune/driving/best.params.yaml")
    assert reproduced.train.driving.fit.learning_rate == best["values"][LEARNING_RATE]
    assert f"-S '{LEARNING_RATE}={best['values'][LEARNING_RATE]}'" in sweep["reproduce"]
