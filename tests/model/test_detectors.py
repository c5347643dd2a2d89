"""Both plate detector kinds: one fit trains them, their assets reload them, one path detects."""

import json

import cv2
import numpy as np
import pandas as pd
import pytest

from pipeline.core.errors import DatasetError, PipelineError
from pipeline.core.model_params import BackboneParams, FinetuneParams
from pipeline.tasks.plates import inference, training
from pipeline.tasks.plates.boxes import xyxy_to_yolo
from pipeline.tasks.plates.detectors import detector_of
from pipeline.tasks.plates.params import PlatesTrainParams
from tests.conftest import paths_in

BACKBONE = BackboneParams(name="MobileNetV2", weights="none", alpha=0.35)


def _params(detector, **changes):
    fit = FinetuneParams(head_epochs=1, finetune_epochs=1, unfreeze=5, patience=1)
    settings = {"input_size": (64, 64), "batch_size": 4, "max_detections": 5, **changes}
    return PlatesTrainParams(detector=detector, fit=fit, **settings)


def _write_dataset(root, count=6, width=96, height=72, plated=lambda index: index > 0):
    """Dark noisy images with a bright rectangle where `plated`, YOLO boxes, 4 train 2 val."""
    rng = np.random.default_rng(0)
    rows = []
    for index in range(count):
        image = rng.integers(0, 60, (height, width, 3), dtype=np.uint8)
        boxes = []
        if plated(index):
            x1, y1 = int(rng.integers(0, width // 2)), int(rng.integers(0, height // 2))
            x2, y2 = x1 + int(rng.integers(20, width // 2)), y1 + int(rng.integers(15, height // 2))
            image[y1:y2, x1:x2] = 230
            boxes = xyxy_to_yolo([[x1, y1, x2, y2]], width, height).tolist()
        name = f"images/{index}.png"
        (root / "images").mkdir(parents=True, exist_ok=True)
        assert cv2.imwrite(str(root / name), image[..., ::-1])
        rows.append({"image": name, "boxes": boxes, "split": "val" if index >= 4 else "train"})
    pd.DataFrame(rows).to_parquet(root / "manifest.parquet")


def _outputs(model, batch):
    import keras

    return [np.asarray(x) for x in keras.tree.flatten(model(batch))]


@pytest.mark.train
@pytest.mark.parametrize("kind", ["centernet", "retinanet"])
def test_each_kind_fits_saves_reloads_and_detects_in_image_pixels(tmp_path, kind):
    if kind == "retinanet":
        pytest.importorskip("keras_hub")
    import keras

    keras.utils.set_random_seed(0)
    processed, assets = tmp_path / "processed", tmp_path / "assets"
    _write_dataset(processed)
    assets.mkdir()
    params = _params(kind)
    paths = paths_in(
        tmp_path, processed_dir=processed, checkpoints_dir=tmp_path / "work", assets_dir=assets
    )
    trained = training.fit(params, BACKBONE, paths, seed=0)
    model, history = trained.model, trained.history
    assert history["phase"] == [1, 2]
    assert np.isfinite(history["loss"]).all() and "val_loss" in history
    assert json.loads((assets / "detector.json").read_text()) == {
        "detector": kind,
        "input_size": [64, 64],
        "stride": params.stride,
        "max_detections": 5,
    }

    path = tmp_path / "detector.keras"
    model.save(path)
    reloaded = training.load_model(path, paths)
    assert detector_of(reloaded).name == kind
    batch = np.random.default_rng(1).uniform(0, 255, (2, 64, 64, 3)).astype("float32")
    for before, after in zip(_outputs(model, batch), _outputs(reloaded, batch), strict=True):
        np.testing.assert_allclose(before, after, atol=1e-5)

    images = [
        np.full((90, 150, 3), 40, np.uint8),
        np.random.default_rng(2).integers(0, 255, (50, 40, 3), dtype=np.uint8),
    ]
    found = inference.detect(reloaded, images, min_score=0.0, max_detections=5)
    assert len(found) == 2
    for image, detections in zip(images, found, strict=True):
        height, width = image.shape[:2]
        boxes, scores = detections.boxes, detections.scores
        assert boxes.shape == (len(scores), 4) and 0 < len(scores) <= 5
        assert (boxes[:, [0, 2]] >= 0).all() and (boxes[:, [0, 2]] <= width).all()
        assert (boxes[:, [1, 3]] >= 0).all() and (boxes[:, [1, 3]] <= height).all()
        assert (np.diff(scores) <= 0).all()


@pytest.mark.parametrize("kind", ["centernet", "retinanet"])
def test_fit_names_the_split_without_plates_before_building_anything(tmp_path, kind):
    _write_dataset(tmp_path, plated=lambda index: index < 4)  # val images are all negatives
    with pytest.raises(DatasetError, match=r"plates: no val images with plates in .*val_fraction"):
        training.fit(
            _params(kind), BACKBONE, paths_in(tmp_path, checkpoints_dir=tmp_path / "work"), seed=0
        )
    assert not (tmp_path / "work").exists()


def test_an_unknown_kind_or_a_model_of_none_is_one_line_naming_the_kinds(tmp_path):
    import keras

    with pytest.raises(PipelineError, match=r"not a plate detector .*centernet, retinanet"):
        detector_of(keras.Sequential(name="classifier"))
    with pytest.raises(PipelineError, match=r"no .*detector\.json; rerun `pipeline train plates`"):
        training.load_model(tmp_path / "detector.keras", paths_in(tmp_path))
