"""`pipeline export plates`: the CenterNet network converts to TFLite and ONNX and matches
Keras; peak picking outside the file gives the pyfunc's boxes; the export is scored by
`evaluate`'s own code; RetinaNet is refused in one line."""

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from pipeline.core.edge import ExportedModel, ExportedPyfunc
from pipeline.core.errors import PipelineError
from pipeline.core.model_params import BackboneParams
from pipeline.tasks.plates.boxes import xyxy_to_yolo
from pipeline.tasks.plates.exporting import (
    SERVED_CAP,
    PlatesExportParams,
    export_data,
    export_ready,
    resize,
    serve_exported,
)
from pipeline.tasks.plates.params import PlatesTrainParams
from tests.conftest import paths_in

keras = pytest.importorskip("keras")

INPUT = (64, 96)  # rows x cols: not square, so a swapped axis shows
#: float32 files agree with Keras to rounding (relative to the largest output)
FLOAT_TOLERANCE = 1e-4
SIZES = [(96, 64), (150, 80), (40, 70)]  # images (width, height) of other sizes than INPUT


@pytest.fixture(scope="module")
def detector():
    """A tiny CenterNet whose heat map has clear peaks (its heat bias at 0, not the prior)
    and whose boxes are 3 x 2 cells (an untrained size head gives empty boxes)."""
    from pipeline.tasks.plates.detectors.centernet import network

    keras.utils.set_random_seed(1)
    params = PlatesTrainParams(input_size=INPUT, head_width=8)
    model, _ = network(params, BackboneParams(name="MobileNetV2", weights="none", alpha=0.35))
    heat = model.get_layer("heat")
    kernel, bias = heat.get_weights()
    heat.set_weights([kernel * 20, np.zeros_like(bias)])
    size = model.get_layer("size")
    kernel, _ = size.get_weights()
    size.set_weights([np.zeros_like(kernel), np.array([3.0, 2.0], np.float32)])
    return model


def images(count: int = 3) -> np.ndarray:
    return np.random.default_rng(0).uniform(0, 255, (count, *INPUT, 3)).astype(np.float32)


@pytest.fixture(scope="module")
def files(detector, tmp_path_factory):
    """The detector as float TFLite and as ONNX (converted once)."""
    from pipeline.export.run import convert

    out = tmp_path_factory.mktemp("plates")
    ready = export_ready(detector)
    return {
        fmt: convert(ready, out / f"p.{fmt}", fmt, "none", images(2)) for fmt in ("tflite", "onnx")
    }


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["tflite", "onnx"])
def test_the_detector_exports_and_its_grid_matches_keras(detector, files, fmt):
    x = images(3)
    expected = np.asarray(detector(x, training=False))
    got = ExportedModel(files[fmt]).predict(x, batch_size=2)
    assert got.shape == expected.shape == (3, INPUT[0] // 8, INPUT[1] // 8, 5)
    assert np.abs(got - expected).max() < FLOAT_TOLERANCE * max(1.0, np.abs(expected).max())


def _photos(tmp_path, write_image):
    return [
        write_image(tmp_path / "raw" / f"{i}.png", width, height)
        for i, (width, height) in enumerate(SIZES)
    ]


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["tflite", "onnx"])
def test_an_exported_detector_answers_as_the_pyfunc_does(
    detector, files, fmt, tmp_path, write_image
):
    """Same columns, same boxes in each image's own pixels as the Keras path (`detect`)."""
    from pipeline.core.images import read_image
    from pipeline.tasks.plates.inference import detect

    photos = _photos(tmp_path, write_image)
    answer = ExportedPyfunc(ExportedModel(files[fmt]), serve_exported).predict(
        pd.DataFrame({"image": [p.read_bytes() for p in photos]}), {"min_score": 0.3}
    )
    keras_found = detect(
        detector, [read_image(p) for p in photos], min_score=0.3, max_detections=SERVED_CAP
    )
    assert list(answer.columns) == ["count", "boxes"]
    assert answer["count"].tolist() == [len(d.scores) for d in keras_found]
    assert answer["count"].sum() > 0  # the comparison is of boxes, not of nothing
    for rows, found in zip(answer["boxes"], keras_found, strict=True):
        got = json.loads(rows)
        np.testing.assert_allclose(
            [[r["x1"], r["y1"], r["x2"], r["y2"]] for r in got],
            np.round(found.boxes, 1).reshape(-1, 4),
            atol=0.15,
        )
        np.testing.assert_allclose([r["score"] for r in got], found.scores, atol=2e-4)


def test_images_are_resized_as_training_resizes_them():
    from pipeline.tasks.plates.inference import resize_batch

    image = np.random.default_rng(2).integers(0, 256, (90, 150, 3), dtype=np.uint8)
    np.testing.assert_array_equal(resize(image, INPUT), resize_batch([image], INPUT)[0])


@pytest.mark.slow
def test_the_export_is_scored_by_evaluates_code_and_ships_within_tolerance(
    detector, tmp_path, write_image
):
    """Plates labelled with the Keras model's own best box, so its AP50 is high and a box
    read back wrong by the export would show; `evaluate`'s figure, the export's beside it."""
    from pipeline.core.images import read_image
    from pipeline.export.run import export, keras_outputs
    from pipeline.tasks import TASKS
    from pipeline.tasks.plates.evaluate import score
    from pipeline.tasks.plates.inference import detect
    from pipeline.tasks.plates.params import PlatesEvaluateParams

    photos = _photos(tmp_path, write_image)
    pixels = [read_image(p) for p in photos]
    best = detect(detector, pixels, min_score=0.0, max_detections=1)
    valid = pd.DataFrame(
        {
            "image": [p.name for p in photos] + [photos[0].name],
            "boxes": [
                xyxy_to_yolo(d.boxes, w, h).tolist() for d, (w, h) in zip(best, SIZES, strict=True)
            ]
            + [[]],
            "split": ["test"] * len(photos) + ["train"],
        }
    )
    assets = tmp_path / "assets"
    assets.mkdir()
    (assets / "detector.json").write_text(json.dumps({"input_size": list(INPUT)}))
    paths = paths_in(tmp_path, raw_dir=tmp_path / "raw", assets_dir=assets)
    params = PlatesExportParams(latency_images=2)
    data = export_data(valid, params, paths)
    assert data.test_inputs.shape == (3, *INPUT, 3) and data.calibration_inputs.shape[0] == 1

    evaluating = PlatesEvaluateParams()
    found = detect(detector, pixels, min_score=evaluating.min_score, max_detections=100)
    truth = [np.asarray(d.boxes) for d in best]
    evaluated, _, _ = score(truth, found, [(w, h) for w, h in SIZES], evaluating)
    figures = data.score(lambda x: keras_outputs(detector, x, 2))
    assert figures["test_ap50"] == pytest.approx(evaluated["test_ap50"])
    assert figures["test_ap50"] > 0.5

    row, shipped = export(
        "plates",
        detector,
        data,
        TASKS["plates"],
        params,
        fmt="tflite",
        quantize="none",
        out_dir=tmp_path / "out",
        model_sha256="x",
    )
    assert row.metric == "test_ap50" and row.keras == pytest.approx(evaluated["test_ap50"])
    assert abs(row.exported - row.keras) < 1e-6 and row.allowed == 0.02
    assert row.shipped and shipped is not None and shipped.name == "plates-none.tflite"


def test_a_retinanet_detector_is_refused_in_one_line():
    with pytest.raises(PipelineError, match="retinanet detector does not export") as raised:
        export_ready(SimpleNamespace(name="retinanet"))
    assert "\n" not in str(raised.value) and "detector: centernet" in str(raised.value)
