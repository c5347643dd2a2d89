"""keras-hub's RetinaNet plate detector: trains, saves, reloads safely and detects."""

import json

import cv2
import numpy as np
import pandas as pd
import pytest

pytest.importorskip("keras_hub")

from pipeline.core.errors import PipelineError
from pipeline.core.model_params import BackboneParams, FinetuneParams
from pipeline.tasks.plates import inference, retinanet
from pipeline.tasks.plates.boxes import xyxy_to_yolo
from pipeline.tasks.plates.params import PlatesTrainParams

BACKBONE = BackboneParams(name="MobileNetV2", weights="none", alpha=0.35)


def _params(**changes):
    fit = FinetuneParams(head_epochs=1, finetune_epochs=1, unfreeze=5, patience=1)
    settings = {"input_size": (64, 64), "batch_size": 4, "max_detections": 5, **changes}
    return PlatesTrainParams(detector="retinanet", fit=fit, **settings)


def _write_dataset(root, count=6, width=96, height=72):
    """Dark noisy images with a bright rectangle (none in the first), YOLO boxes, splits."""
    rng = np.random.default_rng(0)
    rows = []
    for index in range(count):
        image = rng.integers(0, 60, (height, width, 3), dtype=np.uint8)
        boxes = []
        if index:
            x1, y1 = int(rng.integers(0, width // 2)), int(rng.integers(0, height // 2))
            x2, y2 = x1 + int(rng.integers(20, width // 2)), y1 + int(rng.integers(15, height // 2))
            image[y1:y2, x1:x2] = 230
            boxes = xyxy_to_yolo([[x1, y1, x2, y2]], width, height).tolist()
        name = f"images/{index}.png"
        (root / "images").mkdir(parents=True, exist_ok=True)
        assert cv2.imwrite(str(root / name), image[..., ::-1])
        rows.append({"image": name, "boxes": boxes, "split": "val" if index >= 4 else "train"})
    pd.DataFrame(rows).to_parquet(root / "manifest.parquet")


def test_retinanet_fits_saves_reloads_and_detects_in_image_pixels(tmp_path):
    import keras

    keras.utils.set_random_seed(0)
    processed, assets = tmp_path / "processed", tmp_path / "assets"
    _write_dataset(processed)
    assets.mkdir()
    params = _params()
    model, history = retinanet.fit(
        processed, params, BACKBONE, work_dir=tmp_path / "work", assets_dir=assets, seed=0,
        callbacks=[],
    )  # fmt: skip
    assert history["phase"] == [1, 2]
    assert np.isfinite(history["loss"]).all() and "val_loss" in history
    assert json.loads((assets / "detector.json").read_text()) == {
        "detector": "retinanet",
        "input_size": [64, 64],
        "stride": params.stride,
        "max_detections": 5,
    }

    path = tmp_path / "detector.keras"
    model.save(path)
    reloaded = retinanet.load_detector(path)
    assert retinanet.is_retinanet(reloaded)
    batch = np.random.default_rng(1).uniform(0, 255, (2, 64, 64, 3)).astype("float32")
    for key in ("bbox_regression", "cls_logits"):
        np.testing.assert_allclose(
            np.asarray(model(batch)[key]), np.asarray(reloaded(batch)[key]), atol=1e-5
        )

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


def test_retinanet_rejects_unsupported_backbones_and_input_sizes():
    with pytest.raises(PipelineError, match="RetinaNet"):
        retinanet.retinanet(_params(), BackboneParams(name="InceptionV3", weights="none"))
    with pytest.raises(PipelineError, match="multiples of 32"):
        retinanet.retinanet(_params(input_size=(48, 64)), BACKBONE)


def test_a_centernet_model_is_not_taken_for_a_retinanet():
    from pipeline.tasks.plates.model import centernet

    model, _ = centernet(PlatesTrainParams(input_size=(64, 64)), BACKBONE)
    assert not retinanet.is_retinanet(model)
