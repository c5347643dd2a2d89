"""`pipeline export driving`: PilotNet as it ships, scored by `evaluate`'s own code.

The network takes float 0-255 frames (N, 160, 320, 3) and returns one angle each; its
preprocessing layers (crop, resize, YUV) are builtin ops, so the Keras model exports as is.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pipeline.core.images import read_image
from pipeline.core.layout import TaskPaths
from pipeline.tasks.base import ExportData
from pipeline.tasks.driving.evaluate import score
from pipeline.tasks.driving.params import DrivingExportParams
from pipeline.tasks.driving.preprocess import to_frame

if TYPE_CHECKING:
    import keras


#: `evaluate.driving.curve_threshold`'s default: only the primary metric decides an export
CURVE_THRESHOLD = 0.1


def export_ready(model: keras.Model) -> keras.Model:
    """PilotNet converts as it is."""
    return model


def _frames(raw_dir: Path, names: list[str]) -> np.ndarray:
    return np.stack([to_frame(read_image(raw_dir / name)) for name in names]).astype(np.uint8)


def export_data(valid: pd.DataFrame, params: DrivingExportParams, paths: TaskPaths) -> ExportData:
    """The test frames in time order (as `evaluate` orders them) and evenly spaced train
    frames for int8 calibration."""
    test = valid[valid["split"] == "test"].sort_values(["log", "frame"]).reset_index(drop=True)
    train = valid[valid["split"] == "train"]
    picks = np.linspace(0, len(train) - 1, min(params.calibration_images, len(train))).astype(int)
    train_mean = float(train["steering"].mean())

    def scored(predict: Any) -> dict[str, float]:
        predicted = np.asarray(predict(frames), dtype=float).reshape(len(test))
        figures = score(test, predicted, train_mean, CURVE_THRESHOLD)
        return {key: value for key, value in figures.items() if key.startswith("test_")} | {
            "test_rows": len(test)
        }

    frames = _frames(paths.raw_dir, test["center"].tolist())
    return ExportData(
        test_inputs=frames,
        calibration_inputs=_frames(paths.raw_dir, train["center"].iloc[picks].tolist()),
        score=scored,
    )


def serve_exported(model: Any, model_input: Any, params: dict[str, Any]) -> pd.DataFrame:
    """`steering` per image, as the logged pyfunc answers (frames resized to 320x160)."""
    from pipeline.core.serving import rgb_images

    images = rgb_images(model_input)
    if not images:
        return pd.DataFrame({"steering": np.zeros(0, np.float64)})
    frames = np.stack([to_frame(image) for image in images])
    angles = model.predict(frames).reshape(len(frames))
    return pd.DataFrame({"steering": angles.astype(np.float64)})
