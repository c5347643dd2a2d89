"""The compact CenterNet plate detector (the CPU default) on the shared backbone.

Its network reads the backbone's stride-16 map, upsampled and added to its stride-8 map (a
two-level feature pyramid, cheap at 64 channels), then a few narrow convolutions give the
5 output channels of `plates.centernet`, whose targets, loss and peak decoding it uses.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from pipeline.core.errors import PipelineError
from pipeline.tasks.plates import centernet as heatmap
from pipeline.tasks.plates.boxes import yolo_to_xyxy
from pipeline.tasks.plates.detectors.base import CompileSettings, load_uncompiled

if TYPE_CHECKING:
    import keras
    import pandas as pd
    import tensorflow as tf

    from pipeline.core.model_params import BackboneParams
    from pipeline.tasks.plates.detectors.base import Decoded
    from pipeline.tasks.plates.params import PlatesTrainParams

# Dilated head convolutions: a cell at the centre of a plate 14 cells wide must see its
# edges to know it is the centre (without them a large plate gets several peaks).
HEAD_DILATIONS = (1, 2, 4)


def _taps(backbone: BackboneParams) -> tuple[str, str]:
    from pipeline.core.backbones import FEATURE_TAPS

    if backbone.name not in FEATURE_TAPS:
        supported = ", ".join(FEATURE_TAPS)
        raise PipelineError(
            f"the plate detector needs stride-8 and stride-16 maps, which {backbone.name}'s "
            f"valid-padding layers do not give; set backbone.name to one of {supported}"
        )
    return FEATURE_TAPS[backbone.name]


def network(params: PlatesTrainParams, backbone: BackboneParams) -> tuple[keras.Model, keras.Model]:
    """(detector, its "base" layer for the two-phase fit)."""
    import keras

    from pipeline.core.backbones import build_backbone

    layers = keras.layers
    rows, cols = params.input_size
    if rows % 16 or cols % 16:
        raise PipelineError(f"train.plates.input_size {params.input_size}: use multiples of 16")
    features = build_backbone(backbone, (rows, cols, 3), taps=_taps(backbone))
    images = keras.Input((rows, cols, 3), name="image")
    fine, coarse = features(images)
    width = params.head_width
    x = layers.Conv2D(width, 1, activation="relu", name="lateral16")(coarse)
    if params.stride == 8:
        x = layers.UpSampling2D(2, interpolation="bilinear", name="up16")(x)
        x = layers.Add(name="pyramid")(
            [x, layers.Conv2D(width, 1, activation="relu", name="lateral8")(fine)]
        )
    for index, dilation in enumerate(HEAD_DILATIONS, start=1):
        # no batch norm: a few hundred steps would leave its moving statistics unsettled
        x = layers.SeparableConv2D(
            width,
            3,
            padding="same",
            dilation_rate=dilation,
            activation="relu",
            name=f"head{index}",
        )(x)
    heat = layers.Conv2D(
        1, 1, bias_initializer=keras.initializers.Constant(heatmap.PRIOR_LOGIT), name="heat"
    )(x)
    size = layers.Conv2D(2, 1, name="size")(x)  # linear: a relu here can die at 0
    offset = layers.Conv2D(2, 1, activation="sigmoid", name="offset")(x)
    output = layers.Concatenate(name="centernet", dtype="float32")([heat, size, offset])
    return keras.Model(images, output, name=CenterNet.name), features.get_layer("base")


def stride(model: Any) -> int:
    """Input pixels per output cell."""
    return int(model.inputs[0].shape[1]) // int(model.outputs[0].shape[1])


class CenterNet:
    name: ClassVar[str] = "centernet"

    def build(
        self, params: PlatesTrainParams, backbone: BackboneParams
    ) -> tuple[keras.Model, keras.Model]:
        return network(params, backbone)

    def targets(self, rows: pd.DataFrame, params: PlatesTrainParams, slots: int) -> np.ndarray:
        """Heat map, size and offset grids (n, rows / stride, cols / stride, 6)."""
        height, width = params.input_size
        grid = (height // params.stride, width // params.stride)
        return np.stack(
            [
                heatmap.encode(
                    yolo_to_xyxy(boxes, width, height), grid, params.stride, params.heat_sigma
                )
                for boxes in rows["boxes"]
            ]
        )

    def training_pairs(self, data: tf.data.Dataset) -> tf.data.Dataset:
        return data

    def compile_settings(self, params: PlatesTrainParams) -> CompileSettings:
        return CompileSettings(
            loss=heatmap.loss(params.size_loss_weight, params.offset_loss_weight)
        )

    def decode(
        self, model: Any, batch: np.ndarray, min_score: float, max_detections: int
    ) -> Decoded:
        """Peaks of the heat map, read back as boxes (the paper's max-pool trick, no NMS)."""
        step = stride(model)
        outputs = np.asarray(model(batch, training=False))
        return [heatmap.decode(output, step, min_score, max_detections) for output in outputs]

    def load(self, path: Path) -> keras.Model:
        return load_uncompiled(path)
