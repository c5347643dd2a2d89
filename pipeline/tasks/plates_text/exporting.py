"""`pipeline export plates_text`: the CRNN as it ships; CTC decoding stays outside the file.

The exported network maps one-line crops (N, 32, W, 3), float 0-255, to per-column logits;
`greedy_decode` (shared with the Keras path through `read_lines`) turns them into text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pipeline.core.errors import DatasetError
from pipeline.core.layout import TaskPaths
from pipeline.tasks.base import ExportData
from pipeline.tasks.plates.formats.text import CHARSET
from pipeline.tasks.plates_text.augment import MANIFEST
from pipeline.tasks.plates_text.evaluate import _load_lines, scores
from pipeline.tasks.plates_text.params import PlateTextExportParams
from pipeline.tasks.plates_text.reading import read_lines

if TYPE_CHECKING:
    import keras


RNN_LAYERS = ("GRU", "LSTM", "SimpleRNN")


def _unrolled(config: Any) -> Any:
    """A model config with every RNN layer set to `unroll=True`."""
    if isinstance(config, dict):
        if config.get("class_name") in RNN_LAYERS and isinstance(config.get("config"), dict):
            config = {**config, "config": {**config["config"], "unroll": True}}
        return {key: _unrolled(value) for key, value in config.items()}
    if isinstance(config, list):
        return [_unrolled(value) for value in config]
    return config


def export_ready(model: keras.Model) -> keras.Model:
    """The reader with its GRUs unrolled over the fixed columns (same weights): a looping GRU
    needs TensorFlow's TensorList ops, which TFLite's builtin ops lack."""
    import keras

    ready = keras.Model.from_config(_unrolled(model.get_config()))
    ready.set_weights(model.get_weights())
    return ready


def export_data(valid: pd.DataFrame, params: PlateTextExportParams, paths: TaskPaths) -> ExportData:
    """The test crops `evaluate` reads, and evenly spaced train crops (augmented ones too)."""
    crops = pd.read_parquet(paths.processed_dir / MANIFEST)
    test = crops[(crops["split"] == "test") & (crops["kind"] == "crop")]
    if test.empty:
        raise DatasetError("plates_text: no test plates to score an export on")
    train = crops[crops["split"] == "train"]
    picks = np.linspace(0, len(train) - 1, min(params.calibration_images, len(train))).astype(int)
    truth = test["target"].tolist()

    def scored(predict: Any) -> dict[str, float]:
        predicted, _ = read_lines(_Network(predict), lines, CHARSET, params.batch_size)
        figures = scores(predicted, truth)
        return {
            "test_exact": figures["exact"],
            "test_cer": figures["cer"],
            "test_plates": len(truth),
        }

    lines = _load_lines(paths.processed_dir, test["image"].tolist())
    calibration = _load_lines(paths.processed_dir, train["image"].iloc[picks].tolist())
    return ExportData(test_inputs=lines, calibration_inputs=calibration, score=scored)


class _Network:
    """A function of a batch called as `read_lines` calls a Keras model."""

    def __init__(self, predict: Any) -> None:
        self._predict = predict

    def __call__(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        return np.asarray(self._predict(inputs))


def serve_exported(model: Any, model_input: Any, params: dict[str, Any]) -> pd.DataFrame:
    """`text` and `score` per crop, as the logged pyfunc answers (crops made one-line)."""
    from pipeline.core.serving import decode_rgb, images_of
    from pipeline.tasks.plates_text.crops import to_line

    height, width = model.input_shape[:2]
    crops = [decode_rgb(data) for data in images_of(model_input)]
    if not crops:
        return pd.DataFrame({"text": [], "score": []})
    lines = np.stack([to_line(crop, height, width) for crop in crops])
    texts, found = read_lines(model, lines, CHARSET)
    return pd.DataFrame({"text": texts, "score": [float(s) for s in found]})
