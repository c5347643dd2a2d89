"""A driving model as one compiled call per frame: frame in, angle out.

The simulator waits for each answer before it sends the next frame, so the time of one
frame is the frame rate. `model.predict` (the book's way) builds a dataset and a loop per
call, tens of milliseconds; here the model is traced once, with a fixed input signature, into
a `tf.function` called directly, and warmed up at load so the first frame costs no tracing.
An exported `.tflite` or `.onnx` file (`pipeline export driving`) steers on its runtime
alone: no MLflow, no TensorFlow.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline.core.errors import PipelineError
from pipeline.tasks.driving.model import FRAME_SHAPE

if TYPE_CHECKING:
    import keras

#: pyfunc loaders of a python model (a pickled one, or a model from code as ours)
PYTHON_MODEL_LOADERS = {"mlflow.pyfunc.model", "mlflow.pyfunc.loaders.code_model"}

#: one RGB uint8 frame of FRAME_SHAPE in, its steering angle out (the model's, unclipped)
Steering = Callable[[np.ndarray], float]


def check_frame(frame: np.ndarray) -> None:
    """A ValueError unless `frame` is one simulator frame (160x320 RGB)."""
    if frame.shape != FRAME_SHAPE:
        raise ValueError(f"expected a 320x160 RGB frame, got an array of shape {frame.shape}")


def compiled_steering(model: keras.Model) -> Steering:
    """`model` called directly in a `tf.function` traced once for one uint8 frame."""
    import tensorflow as tf

    @tf.function(input_signature=[tf.TensorSpec((1, *FRAME_SHAPE), tf.uint8)])
    def angle(frames: tf.Tensor) -> tf.Tensor:
        return tf.reshape(model(tf.cast(frames, tf.float32), training=False), [-1])

    def steer(frame: np.ndarray) -> float:
        check_frame(frame)
        return float(angle(frame[None]).numpy()[0])

    steer(np.zeros(FRAME_SHAPE, np.uint8))  # trace now, not on the first frame
    return steer


def python_model_steering(python_model: Any) -> Steering:
    """A pyfunc python model's `angles(frames) -> angles` on a batch of one."""

    def steer(frame: np.ndarray) -> float:
        check_frame(frame)
        return float(np.asarray(python_model.angles(frame[None])).reshape(-1)[0])

    steer(np.zeros(FRAME_SHAPE, np.uint8))
    return steer


def exported_steering(path: Path, threads: int = 1) -> Steering:
    """An exported driving network (`pipeline.core.edge`) called on a batch of one frame;
    its tensors allocated now, not on the first frame."""
    from pipeline.core.edge import ExportedModel

    model = ExportedModel(path, threads=threads)
    if model.input_shape != FRAME_SHAPE:
        raise PipelineError(
            f"{path} takes inputs of shape {model.input_shape}, not the simulator's 160x320 "
            "RGB frames: not a driving model (`pipeline export driving` makes one)"
        )

    def steer(frame: np.ndarray) -> float:
        check_frame(frame)
        return float(model(frame[None]).reshape(-1)[0])

    steer(np.zeros(FRAME_SHAPE, np.uint8))
    return steer


def predict_steering(model: keras.Model) -> Steering:
    """The book's `drive.py` way, for comparison: one `model.predict` per frame."""

    def steer(frame: np.ndarray) -> float:
        check_frame(frame)
        return float(model.predict(frame[None].astype(np.float32), verbose=0).reshape(-1)[0])

    return steer


def _download(uri: str) -> Path:
    """The model's files, or a one-line error telling a missing model from a failing store."""
    import mlflow
    from mlflow.exceptions import MlflowException

    from pipeline.core import tracking

    try:
        return Path(mlflow.artifacts.download_artifacts(artifact_uri=uri))
    except MlflowException as err:
        if not tracking.is_not_found(err) and "No such file" not in str(err):
            raise tracking.store_error(err, f"loading {uri}") from err
        raise PipelineError(
            f"no model at {uri}: `pipeline models driving` lists versions and aliases, "
            "`pipeline promote driving` makes a champion, or pass --model runs:/<run id>/model"
        ) from err
    except OSError as err:
        raise PipelineError(f"no model at {uri} ({err}): pass --model with a model URI") from err


def load_steering(uri: str) -> Steering:
    """The driving model at `uri` (`models:/...`, `runs:/...`, a folder, or an exported
    `.tflite`/`.onnx` file), loaded once.

    A pyfunc whose python model has `angles(frames)` is called through it; a Keras flavour
    model is compiled with `compiled_steering`; an exported file runs on its runtime.
    """
    from pipeline.core.edge import is_exported

    if is_exported(uri):
        return exported_steering(Path(uri))
    import mlflow
    from mlflow.models import Model

    local = _download(uri)
    if not (local / "MLmodel").is_file():
        raise PipelineError(f"{uri} is not an MLflow model (no MLmodel file): pass a model URI")
    flavors = Model.load(local).flavors
    if flavors.get("python_function", {}).get("loader_module") in PYTHON_MODEL_LOADERS:
        python_model = mlflow.pyfunc.load_model(str(local)).unwrap_python_model()
        if hasattr(python_model, "angles"):
            return python_model_steering(python_model)
        raise PipelineError(
            f"{uri} is a python model without an `angles(frames)` method: not a driving model"
        )
    if "keras" in flavors:
        return compiled_steering(mlflow.keras.load_model(str(local)))
    raise PipelineError(
        f"{uri} is a model of flavours {', '.join(sorted(flavors))}, not a driving model "
        "(a Keras model or a pyfunc with `angles`): pass --model models:/driving@<alias>"
    )
