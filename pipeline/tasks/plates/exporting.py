"""`pipeline export plates`: the CenterNet detector as it ships; peak picking stays outside.

The exported network maps float 0-255 images of its input size (N, rows, cols, 3) to its
grid of heat logit, box size and centre offset per cell. `detections` turns each grid into
boxes in the image's own pixels with the Keras path's own pieces (`centernet.decode`, the
overlap merge, scale-back and clipping of `inference.detect`), so the float graph is all
that is quantized. Images are resized as training and `evaluate` resize them (bilinear,
aspect not kept, cast to uint8); OpenCV's bilinear on float pixels gives the same bytes as
TensorFlow's, so serving needs no TensorFlow.

RetinaNet is refused: its boxes come from keras-hub's anchors and non-maximum suppression,
Keras code outside the network that a runtime-only install cannot run.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pipeline.core.errors import DatasetError, PipelineError
from pipeline.core.layout import TaskPaths
from pipeline.tasks.base import ExportData
from pipeline.tasks.plates import boxes as box_ops
from pipeline.tasks.plates import centernet as heatmap
from pipeline.tasks.plates.detectors import CenterNet, detector_of
from pipeline.tasks.plates.detectors.config import DETECTOR_FILE, max_detections
from pipeline.tasks.plates.inference import OVERLAP_IOU, Detections
from pipeline.tasks.plates.params import PlatesEvaluateParams, PlatesExportParams, PlatesTrainParams

if TYPE_CHECKING:
    import keras

#: the lowest score the served pyfunc shows by default (`pipeline predict plates --min-score`)
MIN_SCORE = 0.3
#: boxes per image when served: the file does not say its training cap, so training's default
SERVED_CAP = int(PlatesTrainParams.model_fields["max_detections"].default)


def export_ready(model: keras.Model) -> keras.Model:
    """CenterNet converts as it is; RetinaNet is refused in one line."""
    if detector_of(model).name != CenterNet.name:
        raise PipelineError(
            f"plates: a {model.name} detector does not export: its boxes come from keras-hub's "
            "anchors and non-maximum suppression, Keras code that a runtime-only install cannot "
            "run; train with train.plates.detector: centernet to export"
        )
    return model


def resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """An RGB uint8 image as the network's (rows, cols) uint8 input, byte for byte what
    `inference.resize_batch` (TensorFlow's bilinear, then a cast) gives."""
    import cv2

    rows, cols = size
    return cv2.resize(
        image.astype(np.float32), (cols, rows), interpolation=cv2.INTER_LINEAR
    ).astype(np.uint8)


def detections(
    outputs: np.ndarray,
    sizes: list[tuple[int, int]],
    input_size: tuple[int, int],
    min_score: float,
    cap: int,
) -> list[Detections]:
    """Each raw CenterNet grid's boxes in its image's pixels (`sizes`: width, height), best
    first, as `inference.detect` gives them for the Keras model."""
    rows, cols = input_size
    step = rows // int(outputs.shape[1])
    found = []
    for output, (width, height) in zip(outputs, sizes, strict=True):
        boxes, scores = heatmap.decode(output, step, min_score, cap)
        kept = box_ops.suppress_overlaps(boxes, scores, OVERLAP_IOU)
        boxes, scores = boxes[kept], scores[kept]
        boxes = box_ops.clip(box_ops.scale(boxes, width / cols, height / rows), width, height)
        found.append(Detections(boxes, scores))
    return found


def input_size(paths: TaskPaths) -> tuple[int, int]:
    """The trained detector's (rows, cols), from its assets."""
    path = paths.assets_dir / DETECTOR_FILE
    if not path.is_file():
        raise PipelineError(f"plates: no {path}; rerun `pipeline train plates`")
    rows, cols = json.loads(path.read_text())["input_size"]
    return int(rows), int(cols)


def _inputs(paths: TaskPaths, names: list[str], size: tuple[int, int]) -> np.ndarray:
    from pipeline.tasks.plates.images import read_rgb

    shape = (0, *size, 3)
    if not names:
        return np.zeros(shape, np.uint8)
    return np.stack([resize(read_rgb(paths.raw_dir / name), size) for name in names])


def export_data(valid: pd.DataFrame, params: PlatesExportParams, paths: TaskPaths) -> ExportData:
    """The raw test images `evaluate` scores (in its order), resized to the network input,
    and evenly spaced train images for int8 calibration.

    Detections keep `evaluate.plates`' default `min_score` and the training cap, and are
    scored by `evaluate`'s own `score` (COCO AP by pycocotools)."""
    from pipeline.tasks.plates.boxes import yolo_to_xyxy
    from pipeline.tasks.plates.evaluate import score
    from pipeline.tasks.plates.images import read_rgb

    test = valid[valid["split"] == "test"].sort_values("image").reset_index(drop=True)
    if test.empty:
        raise DatasetError("plates: no test images to score an export on")
    train = valid[valid["split"] == "train"]
    picks = np.linspace(0, len(train) - 1, min(params.calibration_images, len(train))).astype(int)
    size = input_size(paths)
    cap = max_detections(paths.assets_dir)
    evaluating = PlatesEvaluateParams()
    sizes: list[tuple[int, int]] = []
    truth: list[np.ndarray] = []
    inputs = []
    for name, boxes in zip(test["image"], test["boxes"], strict=True):
        image = read_rgb(paths.raw_dir / name)
        height, width = image.shape[:2]
        sizes.append((width, height))
        truth.append(yolo_to_xyxy(boxes, width, height))
        inputs.append(resize(image, size))
    test_inputs = np.stack(inputs)

    def scored(predict: Any) -> dict[str, float]:
        outputs = np.asarray(predict(test_inputs))
        found = detections(outputs, sizes, size, evaluating.min_score, cap)
        metrics, _, _ = score(truth, found, sizes, evaluating)
        keys = ("test_ap50", "test_ap", "test_ap75", "test_precision", "test_recall")
        return {key: float(metrics[key]) for key in keys} | {
            "test_images": len(truth),
            "test_plates": metrics["test_plates"],
        }

    return ExportData(
        test_inputs=test_inputs,
        calibration_inputs=_inputs(paths, train["image"].iloc[picks].tolist(), size),
        score=scored,
    )


def serve_exported(model: Any, model_input: Any, params: dict[str, Any]) -> pd.DataFrame:
    """`count` and `boxes` (JSON, image pixels, best first) per image, as the logged pyfunc
    answers; `min_score` as its param."""
    from pipeline.core.serving import rgb_images

    min_score = float(params.get("min_score", MIN_SCORE))
    if not 0.0 <= min_score <= 1.0:
        raise ValueError(f"min_score must be between 0 and 1, got {min_score}")
    images = rgb_images(model_input)
    if not images:
        return pd.DataFrame({"count": np.zeros(0, np.int64), "boxes": []})
    size = (int(model.input_shape[0]), int(model.input_shape[1]))
    outputs = model.predict(np.stack([resize(image, size) for image in images]), batch_size=16)
    sizes = [(image.shape[1], image.shape[0]) for image in images]
    found = detections(outputs, sizes, size, min_score, SERVED_CAP)
    return pd.DataFrame(
        {
            "count": [len(d.scores) for d in found],
            "boxes": [json.dumps(d.as_rows()) for d in found],
        }
    )
