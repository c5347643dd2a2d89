"""Real `dvc repro` of the whole pipeline on a copy of the repository, with a tiny profile.

One session fixture (conftest.py) copies the repository and runs the first `dvc repro`
once; each test then asserts one stage family, so the first failure hides nothing else. The tests
after `test_a_second_repro_is_a_no_op` change params and rerun; they run in file order,
and each one first settles the project if the one before it stopped half-way.
"""

import json
import sys
from pathlib import Path

import pytest

from pipeline.tasks import TASKS as REGISTRY
from pipeline.tasks.base import Augments, Samples
from tests.e2e.dvc_project import (
    DVC,
    commit_all,
    edit_params,
    ran,
    restored,
    run,
)
from tests.shapes_task import Shapes

# the session's tiny `dvc repro` (conftest.py) is made once per worker: one worker
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("repro")]

#: the registry's tasks and the fifth one conftest.py added to the copy from its package
DECLARED = {**REGISTRY, Shapes.name: Shapes()}
TASKS = tuple(DECLARED)
PRIMARY = {name: task.primary_metric.name for name, task in DECLARED.items()}
PIPELINE = (str(Path(sys.executable).parent / "pipeline"),)


SERVE_CAPTIONS_AND_PLATES = """
from pathlib import Path
import json
import mlflow, pandas as pd
from pipeline.core.tracking import configure_tracking
configure_tracking()
jpeg = sorted(Path("data/sample/captions/Flicker8k_Dataset").glob("*.jpg"))[0].read_bytes()
captioner = mlflow.pyfunc.load_model("models:/captions@candidate")
captions = captioner.predict(pd.DataFrame({"image": [jpeg, jpeg]}), params={"beam": 2})
assert list(captions.columns) == ["caption"] and len(captions) == 2
assert captions["caption"][0] == captions["caption"][1]
print("captioned", len(captions), "images")
plates = sorted(Path("data/sample/plates").glob("*.jpg"))[:2]
detector = mlflow.pyfunc.load_model("models:/plates@candidate")
found = detector.predict(pd.DataFrame({"image": [p.read_bytes() for p in plates]}))
assert list(found.columns) == ["count", "boxes"] and len(found) == 2
for rows in found["boxes"]:
    for row in json.loads(rows):  # boxes in the raw image's own pixels
        assert 0 <= row["x1"] <= row["x2"] <= 320 and 0 <= row["y1"] <= row["y2"] <= 240, row
print("detected on", len(found), "images")
"""

# DESIGN.md's serving contract for every task: a DataFrame with an `image` column of encoded
# bytes in, a DataFrame out (driving: `steering`), the same angles as the Keras model on the
# decoded frames. PNG is lossless; the JPEGs are decoded by OpenCV as serving does.
SERVE_ENCODED_FRAMES = """
from pathlib import Path
import cv2, keras, mlflow, numpy as np, pandas as pd
from pipeline.core.tracking import configure_tracking
configure_tracking()
jpegs = sorted(Path("data/sample/driving/IMG").glob("center_*.jpg"))[:3]
images = [p.read_bytes() for p in jpegs]
images.append(cv2.imencode(".png", cv2.imread(str(jpegs[0])))[1].tobytes())
served = mlflow.pyfunc.load_model("models:/driving@candidate").predict(
    pd.DataFrame({"image": images})
)
assert isinstance(served, pd.DataFrame), type(served)
assert list(served.columns) == ["steering"] and len(served) == 4, served
decoded = [cv2.imdecode(np.frombuffer(b, np.uint8), cv2.IMREAD_COLOR) for b in images]
frames = np.stack([cv2.cvtColor(f, cv2.COLOR_BGR2RGB) for f in decoded]).astype("float32")
local = keras.saving.load_model("models/driving/model.keras", safe_mode=True)
want = local.predict(frames, verbose=0)[:, 0]
np.testing.assert_allclose(served["steering"].to_numpy(dtype="float64"), want, atol=1e-4)
frames_u8 = np.stack([cv2.cvtColor(f, cv2.COLOR_BGR2RGB) for f in decoded])
python_model = mlflow.pyfunc.load_model("models:/driving@candidate").unwrap_python_model()
np.testing.assert_allclose(python_model.angles(frames_u8), want, atol=1e-5)
print("served", len(served), "angles from encoded images")
"""


def _experiment_metrics(table: list[dict]) -> dict[str, dict]:
    """`dvc exp show --json` rows -> {workspace | HEAD | experiment name: {file: metrics}}."""
    rows = {}
    for row in table:
        revs = [row] + [rev for exp in row.get("experiments") or [] for rev in exp["revs"]]
        for rev in revs:
            name = "workspace" if rev["rev"] == "workspace" else rev.get("name") or rev["rev"]
            if rev is row and name != "workspace":
                name = "HEAD"
            metrics = (rev.get("data") or {}).get("metrics", {})
            rows[name] = {path: found.get("data", {}) for path, found in metrics.items()}
    return rows


def test_sample_ingest_validate_ran_for_every_task_and_reconcile(repro):
    for name, task in DECLARED.items():
        for stage in ("sample", "ingest", "validate"):
            if stage != "sample" or isinstance(task, Samples):  # plates_text reads plates'
                assert f"{stage}@{name}" in ran(repro.first)
        report = repro.read(f"reports/validation/{name}.json")
        assert report["rows_in"] == report["valid"] + report["rejected"]


def test_augment_and_features_make_each_tasks_processed_data(repro):
    for name, task in DECLARED.items():
        stage = "augment" if isinstance(task, Augments) else "features"
        assert f"{stage}@{name}" in ran(repro.first)
        made = "manifest.parquet" if stage == "augment" else "features.npz"
        assert (repro.project / f"data/processed/{name}/{made}").is_file()


def test_pretrain_writes_the_self_supervised_backbone(repro):
    assert "pretrain" in ran(repro.first)
    assert (repro.project / "models/backbone/backbone.weights.h5").is_file()
    assert "pretext.json" in {p.name for p in (repro.project / "reports/backbone").iterdir()}


def test_train_writes_each_model_and_its_mlflow_run(repro):
    import mlflow

    assert (repro.project / "mlflow.db").is_file() and not (repro.project / "mlruns").exists()
    client = mlflow.MlflowClient(f"sqlite:///{repro.project / 'mlflow.db'}")
    for task in TASKS:
        assert f"train@{task}" in ran(repro.first)
        assert (repro.project / f"models/{task}/model.keras").is_file()
        run_id = repro.read(f"models/{task}/mlflow_run.json")["run_id"]
        assert client.get_run(run_id).info.status == "FINISHED"
        assert len(repro.read(f"reports/{task}/history.json")) >= 1


def test_evaluate_reports_the_primary_metric_beside_the_baseline(repro):
    metrics = repro.read("reports/plates/metrics.json")
    assert metrics["baseline"]["ap50"] == 0.0 and 0 <= metrics["test_ap50"] <= 1
    for task, primary in PRIMARY.items():  # the summary the experiment table compares
        assert f"evaluate@{task}" in ran(repro.first)
        summary = repro.read(f"metrics/{task}.json")
        report = repro.read(f"reports/{task}/metrics.json")
        short = primary.removeprefix("test_")
        assert summary[primary] == report[primary]
        assert summary[f"baseline_{short}"] == report["baseline"][short]
        assert summary["beats_baseline"] is report["beats_baseline"]
    driving = repro.read("reports/driving/metrics.json")
    assert driving["beats_baseline"] is (driving["test_mse"] < driving["baseline"]["mse"])


def test_register_makes_each_model_the_candidate(repro):
    for task in TASKS:
        assert f"register@{task}" in ran(repro.first)
        registered = repro.read(f"models/{task}/registered.json")
        assert registered["model_uri"] == f"models:/{task}@candidate"
        assert registered["version"] == 1
        profile = repro.project / f"models/{task}/drift"  # what `pipeline drift` compares with
        assert {"profile.json", "profile.npz"} <= {p.name for p in profile.iterdir()}, task


def test_the_candidates_serve_captions_and_plates_from_image_bytes(repro):
    served = run(repro.project, sys.executable, "-c", SERVE_CAPTIONS_AND_PLATES)
    assert "captioned 2 images" in served and "detected on 2 images" in served


def test_the_driving_candidate_serves_encoded_images_as_a_steering_column(repro):
    served = run(repro.project, sys.executable, "-c", SERVE_ENCODED_FRAMES)
    assert "served 4 angles from encoded images" in served


def test_a_second_repro_is_a_no_op(repro):
    assert ran(run(repro.project, *DVC, "repro")) == []


def test_a_validate_param_reruns_only_that_validation(repro):
    repro.changing()
    edit_params(repro.project, lambda p: p["validate"]["plates"].update(box_tolerance=0.02))
    assert ran(run(repro.project, *DVC, "repro")) == ["validate@plates"]
    repro.settled = True


def test_an_augment_param_reruns_only_that_tasks_model_stages(repro):
    repro.changing()
    edit_params(repro.project, lambda p: p["augment"]["plates"].update(copies=2))
    assert ran(run(repro.project, *DVC, "repro")) == [  # plates only; pretrain reads valid images
        "augment@plates",
        "evaluate@plates",
        "register@plates",
        "train@plates",
    ]
    repro.settled = True


def test_a_train_param_retrains_and_its_revert_is_restored_from_the_run_cache(repro):
    repro.changing()
    project = repro.project
    first_driving_run = repro.read("models/driving/mlflow_run.json")
    edit_params(project, lambda p: p["train"]["driving"]["fit"].update(head_epochs=2))
    assert ran(run(project, *DVC, "repro")) == [
        "evaluate@driving",
        "register@driving",
        "train@driving",
    ]

    edit_params(project, lambda p: p["train"]["driving"]["fit"].update(head_epochs=1))
    reverted = run(project, *DVC, "repro")  # the run-cache has this model: no retraining
    assert restored(reverted) == ["evaluate@driving", "train@driving"]
    assert ran(reverted) == ["register@driving"]  # checked against this store
    registered = repro.read("models/driving/registered.json")
    assert registered["run_id"] == first_driving_run["run_id"]
    assert registered["version"] == 1 and registered["reused_existing_version"]  # not twice
    repro.settled = True


def test_a_captions_train_param_does_not_recompute_the_features(repro):
    repro.changing()
    edit_params(repro.project, lambda p: p["train"]["captions"].update(units=12))
    assert ran(run(repro.project, *DVC, "repro")) == [
        "evaluate@captions",
        "register@captions",
        "train@captions",
    ]
    repro.settled = True


def test_a_temp_experiment_reruns_one_task_and_the_table_compares_it(repro):
    repro.changing()
    project = repro.project
    commit_all(project, "tiny pipeline")  # dvc.lock and metrics/: what a user commits
    temp = run(
        project, *DVC, "exp", "run", "--temp", "-n", "drop02", "-S", "train.driving.dropout=0.2"
    )
    assert ran(temp) == ["evaluate@driving", "register@driving", "train@driving"]
    rows = _experiment_metrics(json.loads(run(project, *DVC, "exp", "show", "--json")))
    assert set(rows) == {"workspace", "HEAD", "drop02"}
    for name, metrics in rows.items():
        for task, primary in PRIMARY.items():
            assert isinstance(metrics[f"metrics/{task}.json"][primary], float), (name, task)
    assert rows["drop02"]["metrics/plates.json"] == rows["HEAD"]["metrics/plates.json"]
    changed = json.loads(run(project, *DVC, "metrics", "diff", "HEAD", "drop02", "--json"))
    assert set(changed) == {"metrics/driving.json"}  # only the retrained task's figures moved
    assert "test_mse" in changed["metrics/driving.json"]
    repro.settled = True


def test_promote_then_models_list_and_predict_with_the_champion(repro, tmp_path):
    project = repro.project
    assert "promoted to @champion" in run(project, *PIPELINE, "promote", "driving")
    listing = run(project, *PIPELINE, "models", "driving")
    assert "champion" in listing and "candidate" in listing

    assert "promoted to @champion" in run(project, *PIPELINE, "promote", "captions")
    image = sorted((project / "data/sample/captions/Flicker8k_Dataset").glob("*.jpg"))[0]
    printed = run(project, *PIPELINE, "predict", "captions", str(image), "--beam", "2")
    assert f"{image}: " in printed  # one caption line per image, from the champion

    assert "promoted to @champion" in run(project, *PIPELINE, "promote", "plates")
    photo = sorted((project / "data/sample/plates").glob("*.jpg"))[0]
    drawn = tmp_path / "drawn"
    printed = run(project, *PIPELINE, "predict", "plates", str(photo), "--out", str(drawn))
    assert f"{photo}: " in printed and "plate(s)" in printed
    assert (drawn / f"{photo.stem}_plates.png").is_file()
