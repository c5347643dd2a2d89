"""Plate detectors on the shared backbone: a compact CenterNet (CPU default) or RetinaNet.

CenterNet reads the backbone's stride-16 map, upsampled and added to its stride-8 map (a
two-level feature pyramid, cheap at 64 channels), then a few narrow convolutions give
the 5 output channels of `centernet.py`. Inputs are 0-255 RGB images of `input_size`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline.core.backbones import FEATURE_TAPS, build_backbone
from pipeline.core.errors import PipelineError
from pipeline.core.model_params import BackboneParams
from pipeline.tasks.plates.centernet import PRIOR_LOGIT

# Dilated head convolutions: a cell at the centre of a plate 14 cells wide must see its
# edges to know it is the centre (without them a large plate gets several peaks).
HEAD_DILATIONS = (1, 2, 4)

if TYPE_CHECKING:
    import keras

    from pipeline.tasks.plates.params import PlatesTrainParams


def _taps(backbone: BackboneParams) -> tuple[str, str]:
    if backbone.name not in FEATURE_TAPS:
        supported = ", ".join(FEATURE_TAPS)
        raise PipelineError(
            f"the plate detector needs stride-8 and stride-16 maps, which {backbone.name}'s "
            f"valid-padding layers do not give; set backbone.name to one of {supported}"
        )
    return FEATURE_TAPS[backbone.name]


def centernet(
    params: PlatesTrainParams, backbone: BackboneParams
) -> tuple[keras.Model, keras.Model]:
    """(detector, its "base" layer for the two-phase fit)."""
    import keras

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
        1, 1, bias_initializer=keras.initializers.Constant(PRIOR_LOGIT), name="heat"
    )(x)
    size = layers.Conv2D(2, 1, name="size")(x)  # linear: a relu here can die at 0
    offset = layers.Conv2D(2, 1, activation="sigmoid", name="offset")(x)
    output = layers.Concatenate(name="centernet", dtype="float32")([heat, size, offset])
    return keras.Model(images, output, name="centernet"), features.get_layer("base")


def build_detector(
    params: PlatesTrainParams, backbone: BackboneParams
) -> tuple[keras.Model, keras.Model]:
    if params.detector == "retinanet":
        from pipeline.tasks.plates.retinanet import retinanet

        return retinanet(params, backbone)
    return centernet(params, backbone)
