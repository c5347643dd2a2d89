"""`pipeline predict`: a registered model applied to image files given on the command line.

One path for every task, since every model keeps the same serving contract
(`pipeline.core.serving`): the files' bytes go in as the `image` column, the options the
task passes to its model go in as `params`, and the task turns the answer into lines.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.core.errors import PipelineError

if TYPE_CHECKING:
    from pipeline.tasks.base import Predicts


def load_registered(model_uri: str):
    """The pyfunc behind `model_uri`, or an error that says which versions exist."""
    import mlflow
    from mlflow.exceptions import MlflowException

    from pipeline.core import tracking

    tracking.configure_tracking()
    try:
        return mlflow.pyfunc.load_model(model_uri)
    except MlflowException as err:
        raise PipelineError(
            f"cannot load {model_uri} ({str(err).splitlines()[0][:160]}); "
            "`pipeline models <task>` lists versions and aliases, "
            "`pipeline promote <task>` makes a champion"
        ) from err


#: leading bytes of the encodings every task's model decodes (OpenCV and TensorFlow alike)
IMAGE_SIGNATURES = {b"\xff\xd8\xff": "JPEG", b"\x89PNG\r\n\x1a\n": "PNG", b"BM": "BMP"}


def read_images(paths: list[Path]) -> list[bytes]:
    """The bytes of each file, checked to be a decodable JPEG, PNG or BMP before any model
    is loaded, so that a wrong file costs one line, not a traceback from inside the model."""
    import cv2
    import numpy as np

    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise PipelineError(f"no such image file: {', '.join(missing)} (check the path)")
    images, wrong = [], []
    for path in paths:
        data = path.read_bytes()
        if not data.startswith(tuple(IMAGE_SIGNATURES)):
            wrong.append(f"{path} is not a JPEG, PNG or BMP image")
        elif cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) is None:
            wrong.append(f"{path} is a damaged image (it does not decode)")
        images.append(data)
    if wrong:
        raise PipelineError(f"{'; '.join(wrong)}: give the image files themselves")
    return images


def model_params(task: Predicts, options: dict[str, Any]) -> dict[str, Any]:
    """The options the task passes to its model (`to_model`), defaults where not given."""
    return {
        option.name: options.get(option.name, option.default)
        for option in task.predict_options
        if option.to_model
    }


def run(task: Predicts, images: list[Path], model_uri: str, options: dict[str, Any]) -> list[str]:
    """The task's lines for its model's answer on `images`; the files are checked before the
    model is loaded, and the model is loaded once."""
    import pandas as pd
    from mlflow.exceptions import MlflowException

    frame = pd.DataFrame({"image": read_images(images)})
    model = load_registered(model_uri)
    try:
        predictions = model.predict(frame, params=model_params(task, options) or None)
    except ValueError as err:  # our models' word for input they cannot use, e.g. --beam 0
        raise PipelineError(f"{model_uri} refused the input: {_first_line(err)}") from err
    except MlflowException as err:  # e.g. a version logged before every task took image bytes
        raise PipelineError(
            f"{model_uri} could not predict ({_first_line(err)}): a model logged before "
            "every task took image bytes needs `pipeline train` again"
        ) from err
    if not isinstance(predictions, pd.DataFrame):
        raise PipelineError(
            f"{model_uri} answered a {type(predictions).__name__}, not a DataFrame: "
            "retrain it with this version of `pipeline train`"
        )
    if len(predictions) != len(images):
        raise PipelineError(
            f"{model_uri} answered {len(predictions)} rows for {len(images)} images: "
            "retrain it with this version of `pipeline train`"
        )
    try:
        return task.prediction_lines(images, predictions, options)
    except KeyError as err:
        raise PipelineError(
            f"{model_uri} answered columns {list(predictions.columns)}, without {err}; "
            "retrain it with this version of `pipeline train`"
        ) from err


def _first_line(err: Exception) -> str:
    lines = str(err).strip().splitlines()
    return lines[0][:200] if lines else type(err).__name__
