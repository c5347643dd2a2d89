"""What every logged pyfunc model shares: the inputs it accepts and the packages it needs."""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

import numpy as np
import pandas as pd

SERVING_PACKAGES = ("tensorflow", "keras", "mlflow", "numpy", "pandas", "opencv-python-headless")


def encoded(image: Any) -> bytes:
    """JPEG/PNG bytes as they are; an RGB array encoded losslessly as PNG."""
    if isinstance(image, bytes | bytearray):
        return bytes(image)
    import cv2

    array = np.asarray(image)
    if array.ndim != 3 or array.shape[-1] != 3:
        raise ValueError(f"expected an RGB image of shape (h, w, 3), got {array.shape}")
    ok, png = cv2.imencode(".png", cv2.cvtColor(array.astype(np.uint8), cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError("could not encode the image array")
    return png.tobytes()


def images_of(model_input: Any) -> list[bytes]:
    """Accept a DataFrame with an `image` column, bytes, an array, or a list of either."""
    if isinstance(model_input, pd.DataFrame):
        items = list(model_input["image"])
    elif isinstance(model_input, bytes | bytearray) or (
        isinstance(model_input, np.ndarray) and model_input.ndim == 3
    ):
        items = [model_input]
    else:
        items = list(model_input)
    return [encoded(item) for item in items]


def decode_rgb(data: bytes) -> np.ndarray:
    """An encoded image as an RGB uint8 array, or a ValueError saying it is not one."""
    import cv2

    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError("not a decodable image (expected JPEG, PNG or BMP bytes)")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def requirements(extra: tuple[str, ...] = ()) -> list[str]:
    """The serving packages at their installed versions (inference would load the model)."""
    return [f"{name}=={version(name)}" for name in (*SERVING_PACKAGES, *extra)]
