"""`pipeline predict`: a registered model applied to image files given on the command line.

One path for every task, since every model keeps the same serving contract
(`pipeline.core.serving`): the files' bytes go in as the `image` column, the options the
task passes to its model go in as `params`, and the task turns the answer into lines.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.core.errors import PipelineError
from pipeline.core.registry.names import CHAMPION_SUFFIX

if TYPE_CHECKING:
    import pandas as pd

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
            f"cannot load {model_uri} ({_first_line(err)[:160]}); {_next_step(model_uri, err)}"
        ) from err


def _next_step(model_uri: str, err: Exception) -> str:
    """What to run when `model_uri` does not load, with the model's real name."""
    match = re.fullmatch(r"models:/([^/@]+)(?:@.+|/.+)?", model_uri)
    if match is None:
        return "check the path of the logged model"
    name = match[1].removesuffix(CHAMPION_SUFFIX)
    if "Registered Model with name" in str(err):  # the store has no model of that name
        return f"no model {name!r} is registered yet: run `dvc repro` to train and register one"
    return (
        f"`pipeline models {name}` lists its versions and aliases, "
        f"`pipeline promote {name}` makes a champion"
    )


#: leading bytes of the encodings every task's model decodes (`core.images.FORMATS`)
IMAGE_SIGNATURES = {
    b"\xff\xd8\xff": "JPEG",
    b"\x89PNG\r\n\x1a\n": "PNG",
    b"BM": "BMP",
    b"GIF8": "GIF",
    b"II*\x00": "TIFF",
    b"MM\x00*": "TIFF",
}


def read_images(paths: list[Path]) -> list[bytes]:
    """The bytes of each file, checked to decode fully as every model decodes them
    (`core.images.decode_image`) before any model is loaded, so that a wrong file costs one
    line, not a traceback from inside the model."""
    from pipeline.core.images import ImageDecodeError, decode_image

    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise PipelineError(f"no such image file: {', '.join(missing)} (check the path)")
    images, wrong = [], []
    for path in paths:
        data = path.read_bytes()
        is_webp = data[:4] == b"RIFF" and data[8:12] == b"WEBP"
        if not (data.startswith(tuple(IMAGE_SIGNATURES)) or is_webp):
            wrong.append(f"{path} is not a JPEG, PNG or BMP image")
        else:
            try:
                decode_image(data)
            except ImageDecodeError as err:
                wrong.append(f"{path} is a damaged image (it does not decode: {err})")
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

    from pipeline.core.edge import is_exported

    frame = pd.DataFrame({"image": read_images(images)})
    if is_exported(model_uri):  # a .tflite/.onnx file: no MLflow, no TensorFlow
        model = load_exported(getattr(task, "name", ""), model_uri)
        return _lines(task, images, model, model_uri, frame, options)
    from mlflow.exceptions import MlflowException

    try:
        model = load_registered(model_uri)
    except PipelineError as err:
        if model_uri.startswith("models:/"):
            raise
        name = getattr(task, "name", "")
        raise PipelineError(
            f"{err}, or `pipeline models {name}` lists the registered ones"
        ) from err
    try:
        return _lines(task, images, model, model_uri, frame, options)
    except MlflowException as err:  # e.g. a version logged before every task took image bytes
        raise PipelineError(
            f"{model_uri} could not predict ({_first_line(err)}): a model logged before "
            "every task took image bytes needs `pipeline train` again"
        ) from err


def load_exported(task_name: str, path: str) -> Any:
    """An exported file of `task_name` behind the pyfunc's contract (no TensorFlow)."""
    from pipeline.core.edge import ExportedModel, ExportedPyfunc
    from pipeline.tasks import Exports, task_with

    exporter = task_with(task_name, "export", Exports)
    return ExportedPyfunc(ExportedModel(Path(path)), exporter.serve_exported)


def _lines(
    task: Predicts,
    images: list[Path],
    model: Any,
    model_uri: str,
    frame: pd.DataFrame,
    options: dict[str, Any],
) -> list[str]:
    """The task's lines for `model`'s answer on `frame` (the images' bytes)."""
    import pandas as pd

    try:
        predictions = model.predict(frame, params=model_params(task, options) or None)
    except ValueError as err:  # our models' word for input they cannot use, e.g. --beam 0
        raise PipelineError(f"{model_uri} refused the input: {_first_line(err)}") from err
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
    predictions = _refined(task, images, predictions, options)
    try:
        return task.prediction_lines(images, predictions, options)
    except KeyError as err:
        raise PipelineError(
            f"{model_uri} answered columns {list(predictions.columns)}, without {err}; "
            "retrain it with this version of `pipeline train`"
        ) from err


def _refined(
    task: Predicts, images: list[Path], predictions: pd.DataFrame, options: dict[str, Any]
) -> pd.DataFrame:
    """`predictions` handed on to the model of each task that refines `task`'s answer and
    that `task`'s options ask for (`Refines`), so that no task imports another to chain."""
    from pipeline.core.edge import is_exported
    from pipeline.tasks import TASKS
    from pipeline.tasks.base import Refines

    for other in TASKS.values():
        if not isinstance(other, Refines):
            continue
        step = other.refinement
        if step.of != getattr(task, "name", None) or not options.get(step.when):
            continue
        uri = str(options.get(step.model_option))
        name = getattr(other, "name", "")
        model = load_exported(name, uri) if is_exported(uri) else load_registered(uri)
        predictions = other.refine(images, predictions, model)
    return predictions


def _first_line(err: Exception) -> str:
    lines = str(err).strip().splitlines()
    return lines[0][:200] if lines else type(err).__name__
