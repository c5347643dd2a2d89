"""train -> evaluate -> register through the CLI, one epoch of tiny data per task.

What a user relies on after `pipeline train/evaluate/register TASK --params FILE`: exit code
0, the model file, `reports/TASK/metrics.json` with the primary metric and the baseline, a
registered version aliased `candidate`, and no second version when the same model is
registered again (e.g. after DVC restored the training from its run cache).
"""

import json

import pytest
import yaml
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.tasks import TASKS, tasks_with
from tests.tiny import processed_by, raw_producers, tiny_params

pytestmark = pytest.mark.train

PARAMS = "tiny.yaml"  # not params.yaml: proves every stage reads the file --params names
runner = CliRunner()

#: every task with a model, from the registry
MODEL_TASKS = tasks_with("train")


@pytest.fixture
def project(embedded_store):
    """tmp project (cwd) with its own MLflow store and a tiny params file."""
    params = tiny_params()
    params["backbone"]["weights"] = "none"  # no shared backbone to pretrain first
    (embedded_store / PARAMS).write_text(yaml.safe_dump(params, sort_keys=False))
    return embedded_store


def _invoke(*args: str) -> str:
    result = runner.invoke(app, [*args, "--params", PARAMS])
    assert result.exit_code == 0, f"pipeline {' '.join(args)}:\n{result.output}"
    return result.output


@pytest.mark.parametrize("task", MODEL_TASKS)
def test_train_evaluate_register_on_one_epoch(project, task):
    import mlflow

    params = yaml.safe_load((project / PARAMS).read_text())
    for producer in raw_producers(task, params):
        _invoke("sample", producer)
    for stage in ("ingest", "validate", processed_by(task)):
        _invoke(stage, task)
    primary = TASKS[task].primary_metric.name

    assert f"{task}: trained" in _invoke("train", task)
    assert (project / f"models/{task}/model.keras").is_file()
    run = json.loads((project / f"models/{task}/mlflow_run.json").read_text())

    printed = _invoke("evaluate", task)
    assert primary in printed and "baseline" in printed
    metrics = json.loads((project / f"reports/{task}/metrics.json").read_text())
    assert isinstance(metrics[primary], float)
    assert isinstance(metrics["baseline"][primary.removeprefix("test_")], float)
    assert isinstance(metrics["beats_baseline"], bool)

    assert f"registered version 1 as models:/{task}@candidate" in _invoke("register", task)
    client = mlflow.MlflowClient()
    candidate = client.get_model_version_by_alias(task, "candidate")
    assert int(candidate.version) == 1 and candidate.run_id == run["run_id"]
    registered = json.loads((project / f"models/{task}/registered.json").read_text())
    assert registered["model_uri"] == f"models:/{task}@candidate"
    # the tiny params store no drift profile: dvc.yaml's declared output says so instead
    no_profile = project / f"models/{task}/drift/NO_PROFILE.txt"
    assert "drift.at_register is false" in no_profile.read_text()

    _invoke("register", task)  # the same model again: no new version
    assert len(client.search_model_versions(f"name='{task}'")) == 1
    again = json.loads((project / f"models/{task}/registered.json").read_text())
    assert again["version"] == 1 and again["reused_existing_version"]
