"""The plate reader learns with its default params: trained on the default-size plates
sample (+ the default rendered plates) it reads held-out plates far better than the
most-frequent-plate baseline, and the logged pyfunc reads crop bytes exactly as evaluation
does. The defaults are params.yaml's, so this is what a default `dvc repro` trains."""

from pathlib import Path

import cv2
import pandas as pd
import pytest
import yaml

from pipeline.core.model_params import BackboneParams
from pipeline.tasks.base import TaskPaths
from pipeline.tasks.plates.params import PlatesSampleParams
from pipeline.tasks.plates.sample import write_sample
from pipeline.tasks.plates_text import PlateText
from pipeline.tasks.plates_text.params import (
    PlateTextAugmentParams,
    PlateTextEvaluateParams,
    PlateTextIngestParams,
    PlateTextTrainParams,
)

PARAMS_YAML = Path(__file__).parents[2] / "params.yaml"


def test_the_tuned_defaults_are_the_ones_params_yaml_runs():
    params = yaml.safe_load(PARAMS_YAML.read_text())
    augment, train = params["augment"]["plates_text"], params["train"]["plates_text"]
    assert PlateTextAugmentParams(**augment) == PlateTextAugmentParams()
    assert PlateTextTrainParams(**train) == PlateTextTrainParams()
    assert PlateTextAugmentParams().synthetic > 0  # ~100 sample plates alone are memorised


@pytest.mark.train
def test_training_with_the_defaults_beats_the_baseline_and_serves_the_same_readings(
    tmp_path, embedded_store
):
    import mlflow

    raw = tmp_path / "raw"
    raw.mkdir()
    write_sample(raw, PlatesSampleParams(), seed=0)  # 160 photos, as `pipeline sample plates`
    paths = TaskPaths(
        raw_dir=raw,
        processed_dir=tmp_path / "processed",
        assets_dir=tmp_path / "assets",
        checkpoints_dir=tmp_path / "checkpoints",
        reports_dir=tmp_path / "reports",
    )
    task = PlateText()
    manifest = task.read_raw(raw, PlateTextIngestParams(), seed=0)
    valid = manifest[manifest["issue"].isna()]
    assert len(valid) == len(manifest) >= 150
    task.augment(valid, PlateTextAugmentParams(), paths, seed=0)
    trained = task.fit(
        PlateTextTrainParams(),
        BackboneParams(),
        paths,
        seed=0,
        jit_compile=False,
    )
    assert (paths.assets_dir / "reader.json").is_file()
    evaluation = task.evaluate(trained.model, valid, PlateTextEvaluateParams(), paths)
    metrics, baseline = evaluation.metrics, evaluation.baseline.metrics
    assert evaluation.beats_baseline
    assert metrics["test_cer"] < 0.5 * baseline["cer"]
    assert metrics["test_exact"] > baseline["exact"] + 0.2
    assert (paths.reports_dir / "position_confusions.png").is_file()

    with mlflow.start_run():
        uri = task.log_model(trained.model, paths)
    reader = mlflow.pyfunc.load_model(uri)
    crops = pd.read_parquet(paths.processed_dir / "manifest.parquet")
    test = crops[(crops["split"] == "test") & (crops["kind"] == "crop")]
    images = [
        cv2.imencode(".png", cv2.imread(str(paths.processed_dir / p)))[1].tobytes()
        for p in test["image"]
    ]
    served = reader.predict(pd.DataFrame({"image": images}))
    assert list(served.columns) == ["text", "score"]
    exact = (served["text"] == test["target"].to_numpy()).mean()
    assert exact == pytest.approx(metrics["test_exact"])
    assert served["score"].between(0, 1).all()
