"""Real `dvc repro` of the whole pipeline on a copy of the repository, with a tiny profile."""

import json
import sys
from pathlib import Path

import pytest

from tests.e2e.dvc_project import (
    DVC,
    commit_all,
    copy_repository,
    edit_params,
    ran,
    restored,
    run,
)

pytestmark = pytest.mark.slow


SERVE_RAW_FRAMES = """
from pathlib import Path
import keras, mlflow, numpy as np, pandas as pd
from pipeline.core.tracking import configure_tracking
configure_tracking()
frames = np.random.default_rng(0).uniform(0, 255, (3, 160, 320, 3)).astype("float32")
served = mlflow.pyfunc.load_model("models:/driving@candidate").predict(frames)
local = keras.saving.load_model("models/driving/model.keras", safe_mode=True)
assert np.asarray(served).shape == (3, 1), np.asarray(served).shape
np.testing.assert_allclose(np.asarray(served), local.predict(frames, verbose=0), atol=1e-5)
print("served", len(served), "angles")
jpeg = sorted(Path("data/sample/captions/Flicker8k_Dataset").glob("*.jpg"))[0].read_bytes()
captioner = mlflow.pyfunc.load_model("models:/captions@candidate")
captions = captioner.predict(pd.DataFrame({"image": [jpeg, jpeg]}), params={"beam": 2})
assert list(captions.columns) == ["caption"] and len(captions) == 2
assert captions["caption"][0] == captions["caption"][1]
print("captioned", len(captions), "images")
import json
plates = sorted(Path("data/sample/plates").glob("*.jpg"))[:2]
detector = mlflow.pyfunc.load_model("models:/plates@candidate")
found = detector.predict(pd.DataFrame({"image": [p.read_bytes() for p in plates]}))
assert list(found.columns) == ["count", "boxes"] and len(found) == 2
for rows in found["boxes"]:
    for row in json.loads(rows):  # boxes in the raw image's own pixels
        assert 0 <= row["x1"] <= row["x2"] <= 320 and 0 <= row["y1"] <= row["y2"] <= 240, row
print("detected on", len(found), "images")
"""


def _tiny(params: dict) -> None:
    params["sample"]["plates"]["images"] = 20
    params["sample"]["driving"]["frames"] = 120
    params["sample"]["captions"]["images"] = 16
    params["ingest"]["driving"]["segment_frames"] = 10
    params["validate"]["max_rejected_fraction"] = 0.25
    params["pretrain"].update(images_per_task=8, epochs=1, image_size=32)
    params["augment"]["plates"]["copies"] = 1
    params["train"]["plates"].update(input_size=[64, 96], head_width=8)
    params["train"]["plates"]["fit"].update(head_epochs=1, finetune_epochs=1)
    params["train"]["driving"]["fit"].update(head_epochs=1, finetune_epochs=0)
    params["train"]["captions"].update(epochs=1, units=16, embedding_dim=8)
    params["train"]["captions"]["text"]["min_word_count"] = 2


PRIMARY = {"plates": "test_ap50", "driving": "test_mse", "captions": "test_bleu4"}


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


def test_repro_runs_once_then_only_what_changed(tmp_path):
    project = tmp_path / "project"
    copy_repository(project)
    edit_params(project, _tiny)
    dvc = DVC

    first = run(project, *dvc, "repro")
    for task in ("plates", "driving", "captions"):
        for stage in ("sample", "ingest", "validate"):
            assert f"{stage}@{task}" in ran(first)
        report = json.loads((project / f"reports/validation/{task}.json").read_text())
        assert report["rows_in"] == report["valid"] + report["rejected"]
    assert "pretrain" in ran(first)
    for task in ("plates", "driving", "captions"):
        for stage in ("train", "evaluate", "register"):
            assert f"{stage}@{task}" in ran(first)
        registered = json.loads((project / f"models/{task}/registered.json").read_text())
        assert registered["model_uri"] == f"models:/{task}@candidate"
    metrics = json.loads((project / "reports/plates/metrics.json").read_text())
    assert metrics["baseline"]["ap50"] == 0.0 and 0 <= metrics["test_ap50"] <= 1
    for task, primary in PRIMARY.items():  # the summary the experiment table compares
        summary = json.loads((project / f"metrics/{task}.json").read_text())
        report = json.loads((project / f"reports/{task}/metrics.json").read_text())
        short = primary.removeprefix("test_")
        assert summary[primary] == report[primary]
        assert summary[f"baseline_{short}"] == report["baseline"][short]
    first_driving_run = json.loads((project / "models/driving/mlflow_run.json").read_text())
    assert (project / "mlflow.db").is_file() and not (project / "mlruns").exists()

    served = run(project, sys.executable, "-c", SERVE_RAW_FRAMES)
    assert "served 3 angles" in served and "captioned 2 images" in served
    assert "detected on 2 images" in served

    second = run(project, *dvc, "repro")
    assert ran(second) == []

    edit_params(project, lambda p: p["validate"]["plates"].update(box_tolerance=0.02))
    assert ran(run(project, *dvc, "repro")) == ["validate@plates"]

    edit_params(project, lambda p: p["augment"]["plates"].update(copies=2))
    assert ran(run(project, *dvc, "repro")) == [  # plates only; pretrain reads valid images
        "augment@plates",
        "evaluate@plates",
        "register@plates",
        "train@plates",
    ]

    edit_params(project, lambda p: p["train"]["driving"]["fit"].update(head_epochs=2))
    assert ran(run(project, *dvc, "repro")) == [
        "evaluate@driving",
        "register@driving",
        "train@driving",
    ]

    edit_params(project, lambda p: p["train"]["driving"]["fit"].update(head_epochs=1))
    reverted = run(project, *dvc, "repro")  # the run-cache has this model: no retraining
    assert restored(reverted) == ["evaluate@driving", "train@driving"]
    assert ran(reverted) == ["register@driving"]  # checked against this store
    registered = json.loads((project / "models/driving/registered.json").read_text())
    assert registered["run_id"] == first_driving_run["run_id"]
    assert registered["version"] == 1 and registered["reused_existing_version"]  # not twice

    edit_params(project, lambda p: p["train"]["captions"].update(units=12))
    assert ran(run(project, *dvc, "repro")) == [  # the cached features are not recomputed
        "evaluate@captions",
        "register@captions",
        "train@captions",
    ]

    commit_all(project, "tiny pipeline")  # dvc.lock and metrics/: what a user commits
    temp = run(
        project, *dvc, "exp", "run", "--temp", "-n", "drop02", "-S", "train.driving.dropout=0.2"
    )
    assert ran(temp) == ["evaluate@driving", "register@driving", "train@driving"]
    rows = _experiment_metrics(json.loads(run(project, *dvc, "exp", "show", "--json")))
    assert set(rows) == {"workspace", "HEAD", "drop02"}
    for name, metrics in rows.items():
        for task, primary in PRIMARY.items():
            assert isinstance(metrics[f"metrics/{task}.json"][primary], float), (name, task)
    assert rows["drop02"]["metrics/plates.json"] == rows["HEAD"]["metrics/plates.json"]
    changed = json.loads(run(project, *dvc, "metrics", "diff", "HEAD", "drop02", "--json"))
    assert set(changed) == {"metrics/driving.json"}  # only the retrained task's figures moved
    assert "test_mse" in changed["metrics/driving.json"]

    pipeline = (str(Path(sys.executable).parent / "pipeline"),)
    assert "promoted to @champion" in run(project, *pipeline, "promote", "driving")
    listing = run(project, *pipeline, "models", "driving")
    assert "champion" in listing and "candidate" in listing

    assert "promoted to @champion" in run(project, *pipeline, "promote", "captions")
    image = sorted((project / "data/sample/captions/Flicker8k_Dataset").glob("*.jpg"))[0]
    printed = run(project, *pipeline, "predict", "captions", str(image), "--beam", "2")
    assert f"{image}: " in printed  # one caption line per image, from the champion

    assert "promoted to @champion" in run(project, *pipeline, "promote", "plates")
    photo = sorted((project / "data/sample/plates").glob("*.jpg"))[0]
    drawn = tmp_path / "drawn"
    printed = run(project, *pipeline, "predict", "plates", str(photo), "--out", str(drawn))
    assert f"{photo}: " in printed and "plate(s)" in printed
    assert (drawn / f"{photo.stem}_plates.png").is_file()
