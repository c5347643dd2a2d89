"""What a plate detector kind is: the one strategy the training, loading and detection use.

Each kind (CenterNet, RetinaNet) builds its network, makes its training targets, says how
it is compiled, decodes its outputs into boxes and loads a saved model; nothing outside
its class asks which kind it is.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

if TYPE_CHECKING:
    import keras
    import numpy as np
    import pandas as pd
    import tensorflow as tf

    from pipeline.core.model_params import BackboneParams
    from pipeline.tasks.plates.params import PlatesTrainParams

    #: per image: pixel `xyxy` boxes (k, 4) of the network input and their scores (k,)
    Decoded = list[tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class CompileSettings:
    """How `two_phase_fit` compiles the detector: a loss, or the model's own keywords."""

    loss: Any = None
    compile_kwargs: dict[str, Any] | None = None  # replace `loss` (keras-hub's compile)


class Detector(Protocol):
    #: the kind's name: `train.plates.detector`, detector.json's "detector", the model's name
    name: ClassVar[str]

    def build(
        self, params: PlatesTrainParams, backbone: BackboneParams
    ) -> tuple[keras.Model, keras.Model]:
        """(detector, its "base" layer for the two-phase fit), 0-255 RGB `input_size` in."""

    def targets(self, rows: pd.DataFrame, params: PlatesTrainParams, slots: int) -> np.ndarray:
        """Training targets of each row's YOLO boxes in the (stretched) network input;
        `slots` is the most boxes an image of any split holds."""

    def training_pairs(self, data: tf.data.Dataset) -> tf.data.Dataset:
        """(images, targets) batches as the model's `fit` takes them."""

    def compile_settings(self, params: PlatesTrainParams) -> CompileSettings: ...

    def decode(
        self, model: Any, batch: np.ndarray, min_score: float, max_detections: int
    ) -> Decoded:
        """Boxes and scores, best first, of a float 0-255 batch of the network's input size."""

    def load(self, path: Path) -> keras.Model:
        """A saved detector of this kind, in safe mode, uncompiled."""


def load_uncompiled(path: Path) -> keras.Model:
    """A saved model in safe mode, uncompiled: scoring needs no optimizer state."""
    import keras

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipping variable loading for optimizer")
        return keras.models.load_model(path, safe_mode=True, compile=False)
