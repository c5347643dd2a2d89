"""Steering regressors on raw 320x160 RGB frames: NVIDIA PilotNet and a transfer variant.

Both start with the same preprocessing layers (crop sky and hood, resize, YUV for PilotNet)
so the saved model takes the simulator's frames as they are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline.core.backbones import build_backbone
from pipeline.core.model_params import BackboneParams
from pipeline.tasks.driving.preprocess import frame_preprocessing

if TYPE_CHECKING:
    import keras

    from pipeline.tasks.driving.params import DrivingTrainParams

FRAME_SHAPE = (160, 320, 3)


def pilotnet(params: DrivingTrainParams) -> keras.Model:
    """The NVIDIA layout of the textbook: 5 convolutions, 3 dense layers, one angle."""
    import keras

    layers = keras.layers
    frames = keras.Input(FRAME_SHAPE, name="frame")
    x = frames
    for layer in frame_preprocessing(params.crop_top, params.crop_bottom, 66, 200, yuv=True):
        x = layer(x)
    for filters, size, stride in ((24, 5, 2), (36, 5, 2), (48, 5, 2), (64, 3, 1), (64, 3, 1)):
        x = layers.Conv2D(filters, size, strides=stride, activation="elu")(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(params.dropout)(x)
    for units in (100, 50, 10):
        x = layers.Dense(units, activation="elu")(x)
    angle = layers.Dense(1, name="steering", dtype="float32")(x)
    return keras.Model(frames, angle, name="pilotnet")


def transfer(
    params: DrivingTrainParams, backbone: BackboneParams
) -> tuple[keras.Model, keras.Model]:
    """The shared backbone under a small regression head; (model, its "base" layer)."""
    import keras

    layers = keras.layers
    frames = keras.Input(FRAME_SHAPE, name="frame")
    x = frames
    for layer in frame_preprocessing(
        params.crop_top, params.crop_bottom, *params.transfer_input, yuv=False
    ):
        x = layer(x)
    x = layers.Rescaling(127.5, offset=127.5)(x)  # back to 0-255: the backbone scales its own way
    extractor = build_backbone(backbone, (*params.transfer_input, 3))
    features = extractor(x)
    x = layers.GlobalAveragePooling2D()(features)
    x = layers.Dropout(params.dropout)(x)
    x = layers.Dense(64, activation="elu")(x)
    angle = layers.Dense(1, name="steering", dtype="float32")(x)
    return keras.Model(frames, angle, name="transfer"), extractor.get_layer("base")


def build_model(
    params: DrivingTrainParams, backbone: BackboneParams
) -> tuple[keras.Model, keras.Model | None]:
    """(model, its pretrained base layer, frozen in phase 1; None for a from-scratch model)."""
    if params.model == "pilotnet":
        return pilotnet(params), None
    return transfer(params, backbone)
