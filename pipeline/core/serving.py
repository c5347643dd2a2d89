"""The serving contract every logged model keeps, and the one way it is logged.

Every task's model is an MLflow pyfunc "from code" (MLflow loads the task's `serving.py`
instead of unpickling an object) that takes a DataFrame with an `image` column of encoded
image bytes (RGB uint8 arrays accepted too) and returns a DataFrame; preprocessing lives
inside the model. The `image` column is typed `binary` in the signature, which is what makes
`mlflow models serve` decode the base64 strings of a JSON request into bytes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline.core.errors import PipelineError

SERVING_PACKAGES = (
    "tensorflow",
    "keras",
    "mlflow",
    "numpy",
    "pandas",
    "pillow",
    "opencv-python-headless",
)
IMAGE_COLUMN = "image"
#: MLflow's type of a param, by the Python type of its default
PARAM_TYPES = {bool: "boolean", int: "long", float: "double", str: "string"}
#: the logger and the words of MLflow's warning when a logged model fails on its own example
_VALIDATION_LOGGER = "mlflow.models.model"
_VALIDATION_FAILED = "Failed to validate serving input example"


def rgb_array(image: Any) -> np.ndarray:
    """An RGB uint8 array of shape (h, w, 3) as it is, or a ValueError saying what it is."""
    array = np.asarray(image)
    if array.ndim != 3 or array.shape[-1] != 3 or array.dtype != np.uint8:
        raise ValueError(
            f"expected an RGB uint8 image of shape (h, w, 3), got {array.dtype} {array.shape}"
        )
    return array


def encoded(image: Any) -> bytes:
    """JPEG/PNG bytes as they are; an RGB array encoded losslessly as PNG."""
    if isinstance(image, bytes | bytearray):
        return bytes(image)
    import cv2

    ok, png = cv2.imencode(".png", cv2.cvtColor(rgb_array(image), cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError("could not encode the image array")
    return png.tobytes()


def _items(model_input: Any) -> list[Any]:
    """The images of a DataFrame's `image` column, or of bytes, an array, or a list of either."""
    if isinstance(model_input, pd.DataFrame):
        if IMAGE_COLUMN not in model_input.columns:
            raise ValueError(
                f"expected a DataFrame with an `{IMAGE_COLUMN}` column, got columns "
                f"{list(model_input.columns)}"
            )
        return list(model_input[IMAGE_COLUMN])
    if isinstance(model_input, bytes | bytearray) or (
        isinstance(model_input, np.ndarray) and model_input.ndim == 3
    ):
        return [model_input]
    return list(model_input)


def images_of(model_input: Any) -> list[bytes]:
    """Encoded bytes of every image of the input (arrays encoded as PNG)."""
    return [encoded(item) for item in _items(model_input)]


def rgb_images(model_input: Any) -> list[np.ndarray]:
    """Every image of the input as an RGB uint8 array (bytes decoded, arrays checked)."""
    images = []
    for index, item in enumerate(_items(model_input)):
        try:
            is_bytes = isinstance(item, bytes | bytearray)
            images.append(decode_rgb(bytes(item)) if is_bytes else rgb_array(item))
        except ValueError as err:
            raise ValueError(f"image {index}: {err}") from None
    return images


def decode_rgb(data: bytes) -> np.ndarray:
    """An encoded image as an RGB uint8 array (`core.images.decode_image`, as training
    decodes it), or a ValueError saying why it is not one (truncated, corrupt, not an
    image)."""
    from pipeline.core.images import ImageDecodeError, decode_image

    try:
        return decode_image(data)
    except ImageDecodeError as err:
        raise ValueError(f"not a decodable image: {err}") from None


def requirements(extra: tuple[str, ...] = ()) -> list[str]:
    """The serving packages at their installed versions (inference would load the model)."""
    return [f"{name}=={version(name)}" for name in (*SERVING_PACKAGES, *extra)]


def example_image(width: int, height: int) -> bytes:
    """A small deterministic JPEG (a colour gradient): the logged model's input example."""
    import cv2

    x = np.linspace(0, 255, width, dtype=np.float32)[None, :]
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None]
    bgr = np.stack(np.broadcast_arrays(x, y, (x + y) / 2), axis=-1).astype(np.uint8)
    ok, jpeg = cv2.imencode(".jpg", bgr)
    if not ok:
        raise ValueError("could not encode the example image")
    return jpeg.tobytes()


def signature(outputs: Mapping[str, str], params: Mapping[str, Any]) -> Any:
    """`image` (binary) in; `outputs` ({column: MLflow type}) out; `params` with defaults."""
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, ParamSchema, ParamSpec, Schema

    return ModelSignature(
        inputs=Schema([ColSpec("binary", IMAGE_COLUMN)]),
        outputs=Schema([ColSpec(kind, name) for name, kind in outputs.items()]),  # type: ignore[arg-type]
        params=ParamSchema(
            [ParamSpec(name, PARAM_TYPES[type(value)], value) for name, value in params.items()]  # type: ignore[arg-type]
        )
        if params
        else None,
    )


def log_pyfunc(
    code: str | Path,
    *,
    artifacts: Mapping[str, Path],
    outputs: Mapping[str, str],
    params: Mapping[str, Any] | None = None,
    example_size: tuple[int, int] = (320, 160),
    extra_packages: tuple[str, ...] = (),
) -> str:
    """Log the model of `code` (a task's `serving.py`) with its `artifacts` to the active run;
    its `models:/...` URI.

    The input example (one JPEG of `example_size`, width x height) is stored as the REST
    request `serving_input_example.json`; MLflow loads the logged model and answers it before
    the run has the model, and a model that cannot answer it is refused here instead of
    being registered (MLflow itself only warns).
    """
    import mlflow

    with _serving_checked(str(code)):
        return mlflow.pyfunc.log_model(
            name="model",
            python_model=str(code),
            artifacts={name: str(path) for name, path in artifacts.items()},
            signature=signature(outputs, params or {}),
            input_example=pd.DataFrame({IMAGE_COLUMN: [example_image(*example_size)]}),
            pip_requirements=requirements(extra_packages),
        ).model_uri


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.failures: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith(_VALIDATION_FAILED):
            self.failures.append(message.split("Got error:")[-1].strip())


@contextmanager
def _serving_checked(code: str) -> Iterator[None]:
    """Raise when MLflow reports that the model just logged failed on its input example."""
    logger = logging.getLogger(_VALIDATION_LOGGER)
    handler, level, propagate = _Collect(), logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)  # MLFLOW_LOGGING_LEVEL=ERROR would drop the warning
    logger.propagate = False  # the error below says it, once
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate
    if handler.failures:
        first = handler.failures[0].splitlines()[0][:300] if handler.failures[0] else "?"
        raise PipelineError(
            f"the model logged from {Path(code).name} fails on its own input example ({first}): "
            "fix its serving code and rerun `pipeline train` (nothing was registered)"
        )
