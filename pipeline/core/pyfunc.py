"""The one pyfunc every task's logged model is, and the one way a task logs it.

A task's `serving.py` subclasses `ImageModel` with what differs: the output columns, the
request params (with defaults), how its artifacts load (`load`) and how a batch of decoded
images becomes the answer (`answer`). The base decodes the request (encoded bytes or RGB
arrays, `core.serving.rgb_images`), merges the params with their defaults and checks that
the answer has the declared columns, one row per image; with `PIPELINE_TRAIL_DIR` set it
leaves a bounded sample of the requests' statistics and answers there (`pipeline.drift.trail`,
what `pipeline drift` reads). `log_image_model` saves the Keras
models beside the task's other artifact files and logs the module as a model from code
(MLflow loads the file instead of unpickling an object), refusing one that fails on its own
input example.

Imported by `serving.py` modules only (it imports MLflow at the top, as a pyfunc base must).
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, ClassVar

import mlflow.pyfunc
import numpy as np
import pandas as pd

from pipeline.core.serving import log_pyfunc, rgb_images
from pipeline.drift.trail import record_from_env

if TYPE_CHECKING:
    import keras


class ImageModel(mlflow.pyfunc.PythonModel):  # type: ignore[name-defined]
    """Images in (an `image` column of encoded bytes, or RGB uint8 arrays), a DataFrame out."""

    #: the task whose model this is (the serving trail's folder)
    task: ClassVar[str]
    #: output column -> MLflow type, e.g. {"steering": "double"}
    outputs: ClassVar[dict[str, str]]
    #: request params the model reads, with their defaults (typed in the signature)
    params: ClassVar[dict[str, Any]] = {}

    def load_context(self, context: Any) -> None:
        self.load({name: Path(path) for name, path in context.artifacts.items()})

    def load(self, artifacts: dict[str, Path]) -> None:
        """Load the logged artifacts (Keras files in safe mode)."""
        raise NotImplementedError

    def answer(self, images: list[np.ndarray], params: dict[str, Any]) -> pd.DataFrame:
        """One row per image, in `outputs`' columns."""
        raise NotImplementedError

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict | None = None
    ) -> pd.DataFrame:
        # Annotated as DataFrame (what MLflow passes when served) so MLflow skips its list[...]
        # schema inference and its warning; rgb_images also takes bytes, arrays or lists.
        images = rgb_images(model_input)
        answer = self.answer(images, {**self.params, **(params or {})})
        if list(answer.columns) != list(self.outputs) or len(answer) != len(images):
            raise ValueError(
                f"{type(self).__name__} answered columns {list(answer.columns)} x {len(answer)} "
                f"rows for {len(images)} images; its contract is {list(self.outputs)}"
            )
        record_from_env(self.task, images, answer)  # only with PIPELINE_TRAIL_DIR set
        return answer


def served_model(serving: ModuleType) -> ImageModel:
    """The `ImageModel` a serving module hands MLflow (`mlflow.models.set_model(MODEL)`)."""
    model = getattr(serving, "MODEL", None)
    if not isinstance(model, ImageModel):
        raise TypeError(f"{serving.__name__} has no MODEL = <an ImageModel>")
    return model


def log_image_model(
    serving: ModuleType,
    *,
    models: Mapping[str, keras.Model],
    files: Mapping[str, Path] | None = None,
    example_size: tuple[int, int] = (320, 160),
    extra_packages: tuple[str, ...] = (),
) -> str:
    """Log `serving`'s model with `models` (saved as `<name>.keras`) and `files` as its
    artifacts to the active run; its `models:/...` URI."""
    model = served_model(serving)
    with tempfile.TemporaryDirectory() as tmp:
        saved = {}
        for name, keras_model in models.items():
            saved[name] = Path(tmp) / f"{name}.keras"
            keras_model.save(saved[name])
        return log_pyfunc(
            str(serving.__file__),
            artifacts={**saved, **(files or {})},
            outputs=model.outputs,
            params=model.params,
            example_size=example_size,
            extra_packages=extra_packages,
        )
