"""train -> evaluate -> register through the CLI, one epoch of tiny data per task.

What a user relies on after `pipeline train/evaluate/register TASK --params FILE`: exit code
0, the model file, `reports/TASK/metrics.json` with the primary metric and the baseline, a
registered version aliased `candidate`, and no second version when the same model is
registered again (e.g. after DVC restored the training from its run cache).
"""

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from pipeline.cli import app

pytestmark = pytest.mark.train

REPO = Path(__file__).parents[2]
PARAMS = "tiny.yaml"  # not params.yaml: proves every stage reads the file --params names
runner = CliRunner()

#: task -> (stage that makes its processed folder, primary metric, baseline key)
TASKS = {
    "plates": ("augment", "test_ap50", "ap50"),
    "driving": ("augment", "test_mse", "mse"),
    "captions": ("features", "test_bleu4", "bleu4"),
}


def _tiny(params: dict) -> None:
    """A few images per task, one epoch, small networks, no pretrained weights to fetch."""
    params["sample"]["plates"]["images"] = 16
    params["sample"]["driving"]["frames"] = 60
    params["sample"]["captions"]["images"] = 16
    params["ingest"]["driving"]["segment_frames"] = 10
    params["validate"]["max_rejected_fraction"] = 0.25
    params["backbone"]["weights"] = "none"
    params["augment"]["plates"]["copies"] = 1
    params["augment"]["driving"]["copies"] = 1
    params["features"]["captions"]["image_size"] = 32
    params["train"]["plates"].update(input_size=[64, 96], head_width=8, batch_size=8)
    params["train"]["plates"]["fit"].update(head_epochs=1, finetune_epochs=0)
    params["train"]["driving"]["fit"].update(head_epochs=1, finetune_epochs=0)
    params["train"]["captions"].update(epochs=1, units=16, embedding_dim=8)
    params["train"]["captions"]["text"]["min_word_count"] = 2
    params["train"]["captions"]["val_from_train"] = 0.25  # 16 images: val has 2
    params["evaluate"]["captions"]["beam_size"] = 2


@pytest.fixture
def project(embedded_store):
    """tmp project (cwd) with its own MLflow store and a tiny params file."""
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    _tiny(params)
    (embedded_store / PARAMS).write_text(yaml.safe_dump(params, sort_keys=False))
    return embedded_store


def _invoke(*args: str) -> str:
    result = runner.invoke(app, [*args, "--params", PARAMS])
    assert result.exit_code == 0, f"pipeline {' '.join(args)}:\n{result.output}"
    return result.output


@pytest.mark.parametrize("task", list(TASKS))
def test_train_evaluate_register_on_one_epoch(project, task):
    import mlflow

    prepare, primary, short = TASKS[task]
    for stage in ("sample", "ingest", "validate", prepare):
        _invoke(stage, task)

    assert f"{task}: trained" in _invoke("train", task)
    assert (project / f"models/{task}/model.keras").is_file()
    run = json.loads((project / f"models/{task}/mlflow_run.json").read_text())

    printed = _invoke("evaluate", task)
    assert primary in printed and "baseline" in printed
    metrics = json.loads((project / f"reports/{task}/metrics.json").read_text())
    assert isinstance(metrics[primary], float)
    assert isinstance(metrics["baseline"][short], float)
    assert isinstance(metrics["beats_baseline"], bool)

    assert f"registered version 1 as models:/{task}@candidate" in _invoke("register", task)
    client = mlflow.MlflowClient()
    candidate = client.get_model_version_by_alias(task, "candidate")
    assert int(candidate.version) == 1 and candidate.run_id == run["run_id"]
    registered = json.loads((project / f"models/{task}/registered.json").read_text())
    assert registered["model_uri"] == f"models:/{task}@candidate"

    _invoke("register", task)  # the same model again: no new version
    assert len(client.search_model_versions(f"name='{task}'")) == 1
    again = json.loads((project / f"models/{task}/registered.json").read_text())
    assert again["version"] == 1 and again["reused_existing_version"]
