"""Each task's experiment is a model-training experiment for MLflow's UI, not a GenAI one.

Real embedded (sqlite) store in tmp_path; experiments made "before" are created with
MLflow's own API, as an older pipeline or a teammate would have.
"""

from pathlib import Path

import pytest

mlflow = pytest.importorskip("mlflow")

from pipeline.core import tracking  # noqa: E402
from pipeline.core.errors import PipelineError  # noqa: E402

KIND = "mlflow.experimentKind"


@pytest.fixture
def project(embedded_store):
    return embedded_store


def _train_run(project: Path, task: str = "driving") -> str:
    with tracking.start_run(task, {"x": 1}, project / "run.json") as run:
        return run.info.experiment_id


def _tags(experiment_id: str) -> dict[str, str]:
    return mlflow.MlflowClient().get_experiment(experiment_id).tags


def test_a_new_task_experiment_is_a_model_training_one(project):
    experiment_id = _train_run(project)
    experiment = mlflow.MlflowClient().get_experiment(experiment_id)
    assert experiment.name == "driving"
    assert experiment.tags[KIND] == "custom_model_development"
    assert experiment.artifact_location == (project / "mlartifacts" / "driving").as_uri()


@pytest.mark.parametrize("before", [None, "genai_development"])
def test_an_experiment_made_before_becomes_a_training_one_on_the_next_run(project, before):
    made = mlflow.create_experiment("driving", tags={KIND: before} if before else None)
    assert _train_run(project) == made  # the same experiment, not a second one
    assert _tags(made)[KIND] == "custom_model_development"
    assert len(mlflow.search_runs([made], output_format="list")) == 1


def test_a_training_kind_a_user_picked_is_kept(project):
    made = mlflow.create_experiment("driving", tags={KIND: "regression"})
    _train_run(project)
    assert _tags(made)[KIND] == "regression"


def test_an_experiment_another_process_creates_at_the_same_moment_is_shared(project, monkeypatch):
    """A teammate's run creates the experiment between our look-up and our create."""
    look_up = mlflow.get_experiment_by_name
    theirs = {}

    def racing_look_up(name):
        if not theirs:
            theirs["id"] = mlflow.create_experiment(name)  # untagged, by an older pipeline
            return None
        return look_up(name)

    monkeypatch.setattr(mlflow, "get_experiment_by_name", racing_look_up)
    assert _train_run(project) == theirs["id"]
    assert _tags(theirs["id"])[KIND] == "custom_model_development"


def test_a_deleted_task_experiment_says_how_to_get_it_back(project):
    made = mlflow.create_experiment("driving")
    mlflow.delete_experiment(made)
    with pytest.raises(PipelineError) as err:
        _train_run(project)
    message = str(err.value)
    assert "\n" not in message
    assert f"'driving' (id {made}) is deleted" in message
    assert f"mlflow experiments restore -x {made}" in message
    assert not (project / "run.json").exists()


def test_the_installed_mlflow_ui_knows_the_kind_and_the_switch_the_readme_names():
    """Guards the tag value and docs/mlflow.md's `?workflowType=machine_learning` on upgrades."""
    bundle = Path(mlflow.__file__).parent / "server" / "js" / "build" / "static" / "js"
    text = "".join(path.read_text(errors="ignore") for path in bundle.glob("*.js"))
    assert '"mlflow.experimentKind"' in text
    assert 'CUSTOM_MODEL_DEVELOPMENT="custom_model_development"' in text
    assert 'key:"mlflow.workflowType"' in text and 'get("workflowType")' in text
    assert 'MACHINE_LEARNING="machine_learning"' in text
