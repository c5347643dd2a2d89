"""Pretrained `keras.applications` bases with their own input scaling built in.

`build_backbone` returns a model from 0-255 RGB to the base's last feature map. The
scaling each base expects is done by built-in layers inside it (scaling twice, or not at
all, is a silent accuracy bug), so saved models load with `safe_mode=True`.
"""

from __future__ import annotations

import socket
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pipeline.core import quiet
from pipeline.core.errors import PipelineError
from pipeline.core.model_params import BackboneParams

if TYPE_CHECKING:
    import keras

SELFSUP_WEIGHTS = Path("models/backbone/backbone.weights.h5")
CAFFE_MEAN_BGR = np.array([103.939, 116.779, 123.68], dtype=np.float32)
SCALING = {  # how each base wants its input
    "MobileNetV2": "tf",
    "InceptionV3": "tf",
    "VGG16": "caffe",
    "ResNet50": "caffe",
    "EfficientNetB0": "none",
}


# Inner feature maps at strides 8 and 16 of each base (for dense heads such as detectors).
FEATURE_TAPS = {
    "MobileNetV2": ("block_6_expand_relu", "block_13_expand_relu"),
    "VGG16": ("block4_conv3", "block5_conv3"),
    "ResNet50": ("conv3_block4_out", "conv4_block6_out"),
    "EfficientNetB0": ("block4a_expand_activation", "block6a_expand_activation"),
}


DOWNLOAD_TIMEOUT_S = 30  # a network that drops packets must not hang `auto` for minutes

#: the weights each `build_backbone` call of this process used ("imagenet", "selfsup", ...)
WEIGHTS_USED: list[str] = []


class BackboneWeightsError(PipelineError):
    """The configured backbone weights cannot be had."""


def weights_used() -> str:
    """What the backbones built in this process were initialised from, for tags and messages."""
    return ",".join(sorted(set(WEIGHTS_USED))) or "no backbone"


def _constructor(name: str):
    import keras

    return getattr(keras.applications, name)


def _base(params: BackboneParams, input_shape: tuple[int, int, int], weights: str | None):
    kwargs = {"include_top": False, "input_shape": input_shape, "weights": weights, "name": "base"}
    if params.name == "MobileNetV2":
        kwargs["alpha"] = params.alpha
    return _constructor(params.name)(**kwargs)


def _imagenet_base(params: BackboneParams, input_shape: tuple[int, int, int]):
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)  # Keras' download has no timeout of its own
    try:
        with quiet.library_output():  # Keras prints "Downloading data from ..." on stdout
            return _base(params, input_shape, "imagenet")
    except Exception as err:  # offline Keras raises a bare Exception("URL fetch failure ...")
        raise BackboneWeightsError(
            f"ImageNet weights for {params.name} could not be fetched ({str(err)[:120]}). "
            "Offline, put the official *_notop.h5 file in $KERAS_HOME/models/ "
            "(~/.keras/models), set backbone.weights to the path of a weights file, "
            "or use backbone.weights: selfsup (run `pipeline pretrain`) or none."
        ) from err
    finally:
        socket.setdefaulttimeout(previous)


def _auto_base(params: BackboneParams, input_shape: tuple[int, int, int], selfsup: Path):
    """ImageNet weights when Keras has them cached or can download them, else `selfsup`."""
    try:
        base = _imagenet_base(params, input_shape)
    except BackboneWeightsError as err:
        if not selfsup.is_file():
            raise BackboneWeightsError(
                f"backbone.weights: auto: no ImageNet weights ({str(err.__cause__)[:80]}) and no "
                f"self-supervised backbone at {selfsup}: run `pipeline pretrain`"
            ) from err
        if "selfsup" not in WEIGHTS_USED:
            print(
                f"backbone.weights: auto: ImageNet weights for {params.name} not available "
                f"offline; using the self-supervised backbone {selfsup}",
                file=sys.stderr,
            )
        base = _base(params, input_shape, None)
        base.load_weights(selfsup)
        return base, "selfsup"
    return base, "imagenet"


def _load(base: keras.Model, path: Path, hint: str) -> None:
    if not path.is_file():
        raise BackboneWeightsError(f"backbone weights {path} not found: {hint}")
    base.load_weights(path)


def _scaling_layers(kind: str) -> list:
    import keras

    if kind == "tf":
        return [keras.layers.Rescaling(1 / 127.5, offset=-1.0, name="backbone_scaling")]
    if kind == "caffe":  # RGB -> BGR, minus the ImageNet mean: a frozen 1x1 convolution
        permute = np.zeros((1, 1, 3, 3), np.float32)
        for rgb, bgr in ((0, 2), (1, 1), (2, 0)):
            permute[0, 0, rgb, bgr] = 1.0
        return [
            keras.layers.Conv2D(
                3,
                1,
                trainable=False,
                name="backbone_scaling",
                kernel_initializer=keras.initializers.Constant(permute),
                bias_initializer=keras.initializers.Constant(-CAFFE_MEAN_BGR),
            )
        ]
    return []


def build_backbone(
    params: BackboneParams,
    input_shape: tuple[int, int, int],
    selfsup_weights: Path = SELFSUP_WEIGHTS,
    frozen_batchnorm: bool = True,
    taps: tuple[str, ...] = (),
) -> keras.Model:
    """0-255 RGB images -> the base's feature map; the base is the layer named "base".

    With `frozen_batchnorm` (fine-tuning) the base runs with `training=False`, so batch
    normalisation keeps its statistics; pretraining from scratch needs them to learn.
    With `taps` (layer names, see FEATURE_TAPS) the base is cut there and the model
    returns those inner feature maps instead, so layers above them cost nothing.
    """
    import keras

    weights = used = params.weights
    if weights == "auto":
        base, used = _auto_base(params, input_shape, selfsup_weights)
    elif weights == "imagenet":
        base = _imagenet_base(params, input_shape)
    elif weights.endswith(".h5") and not weights.endswith(".weights.h5"):
        if not Path(weights).is_file():
            raise BackboneWeightsError(f"backbone weights {weights} not found")
        base = _base(params, input_shape, weights)  # a legacy (official) Keras 2 file
    else:
        base = _base(params, input_shape, None)
        if weights == "selfsup":
            _load(base, selfsup_weights, "run `pipeline pretrain` (or `dvc repro pretrain`)")
        elif weights != "none":
            _load(base, Path(weights), "check backbone.weights in params.yaml")
            used = "file"
    WEIGHTS_USED.append(used)
    if taps:
        outputs = [base.get_layer(name).output for name in taps]
        base = keras.Model(base.inputs, outputs, name="base")
    images = keras.Input(input_shape, name="images")
    x = images
    for layer in _scaling_layers(SCALING[params.name]):
        x = layer(x)
    features = base(x, training=False) if frozen_batchnorm else base(x)
    return keras.Model(images, features, name=f"{params.name.lower()}_backbone")


def save_base_weights(backbone: keras.Model, path: Path) -> None:
    """Save the "base" layer's weights (`.weights.h5`), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        staged = Path(tmp) / path.name
        backbone.get_layer("base").save_weights(staged)
        staged.replace(path)
