"""Real `dvc repro` of the whole pipeline on a copy of the repository, with a tiny profile."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).parents[2]
pytestmark = pytest.mark.slow


def _copy_repository(target: Path) -> None:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for name in listed:
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    subprocess.run(["git", "init", "-q"], cwd=target, check=True)


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


def _edit_params(project: Path, change) -> None:
    path = project / "params.yaml"
    params = yaml.safe_load(path.read_text())
    change(params)
    path.write_text(yaml.safe_dump(params, sort_keys=False))


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


def _run(project: Path, *args: str) -> str:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("MLFLOW_TRACKING_URI", None)
    done = subprocess.run(list(args), cwd=project, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout + done.stderr


def _ran(output: str) -> list[str]:
    return sorted(line.split("'")[1] for line in output.splitlines() if "Running stage" in line)


def test_repro_runs_once_then_only_what_changed(tmp_path):
    project = tmp_path / "project"
    _copy_repository(project)
    _edit_params(project, _tiny)
    dvc = (sys.executable, "-m", "dvc")

    first = _run(project, *dvc, "repro")
    for task in ("plates", "driving", "captions"):
        for stage in ("sample", "ingest", "validate"):
            assert f"{stage}@{task}" in _ran(first)
        report = json.loads((project / f"reports/validation/{task}.json").read_text())
        assert report["rows_in"] == report["valid"] + report["rejected"]
    assert "pretrain" in _ran(first)
    for task in ("plates", "driving", "captions"):
        for stage in ("train", "evaluate", "register"):
            assert f"{stage}@{task}" in _ran(first)
        registered = json.loads((project / f"models/{task}/registered.json").read_text())
        assert registered["model_uri"] == f"models:/{task}@candidate"
    metrics = json.loads((project / "reports/plates/metrics.json").read_text())
    assert metrics["baseline"]["ap50"] == 0.0 and 0 <= metrics["test_ap50"] <= 1
    assert (project / "mlflow.db").is_file() and not (project / "mlruns").exists()

    served = _run(project, sys.executable, "-c", SERVE_RAW_FRAMES)
    assert "served 3 angles" in served and "captioned 2 images" in served
    assert "detected on 2 images" in served

    second = _run(project, *dvc, "repro")
    assert _ran(second) == []

    _edit_params(project, lambda p: p["validate"]["plates"].update(box_tolerance=0.02))
    assert _ran(_run(project, *dvc, "repro")) == ["validate@plates"]

    _edit_params(project, lambda p: p["augment"]["plates"].update(copies=2))
    assert _ran(_run(project, *dvc, "repro")) == [  # plates only; pretrain reads valid images
        "augment@plates",
        "evaluate@plates",
        "register@plates",
        "train@plates",
    ]

    _edit_params(project, lambda p: p["train"]["driving"]["fit"].update(head_epochs=2))
    assert _ran(_run(project, *dvc, "repro")) == [
        "evaluate@driving",
        "register@driving",
        "train@driving",
    ]

    _edit_params(project, lambda p: p["train"]["captions"].update(units=12))
    assert _ran(_run(project, *dvc, "repro")) == [  # the cached features are not recomputed
        "evaluate@captions",
        "register@captions",
        "train@captions",
    ]

    pipeline = (str(Path(sys.executable).parent / "pipeline"),)
    assert "promoted to @champion" in _run(project, *pipeline, "promote", "driving")
    listing = _run(project, *pipeline, "models", "driving")
    assert "champion" in listing and "candidate" in listing

    assert "promoted to @champion" in _run(project, *pipeline, "promote", "captions")
    image = sorted((project / "data/sample/captions/Flicker8k_Dataset").glob("*.jpg"))[0]
    printed = _run(project, *pipeline, "predict", "captions", str(image), "--beam", "2")
    assert f"{image}: " in printed  # one caption line per image, from the champion

    assert "promoted to @champion" in _run(project, *pipeline, "promote", "plates")
    photo = sorted((project / "data/sample/plates").glob("*.jpg"))[0]
    drawn = tmp_path / "drawn"
    printed = _run(project, *pipeline, "predict", "plates", str(photo), "--out", str(drawn))
    assert f"{photo}: " in printed and "plate(s)" in printed
    assert (drawn / f"{photo.stem}_plates.png").is_file()
