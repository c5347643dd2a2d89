"""keras-hub's RetinaNet network on the shared backbone, built from config.

Never from a preset (presets download from Kaggle). The shared `keras.applications`
backbone (0-255 RGB in, its own scaling inside) is cut at three feature maps, the pyramid
levels P3/P4/P5 (strides 8, 16, 32), and wrapped as a `keras_hub.models.FeaturePyramidBackbone`
for `RetinaNetBackbone`. Boxes are absolute pixel `xyxy` in the network input.

keras-hub (and TensorFlow) load only inside the functions here, never at import. A saved
detector holds the wrapper class, registered by `register` (or any builder here), so load
it through `detectors.retinanet.RetinaNet.load` rather than a bare `keras.models.load_model`.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline.core.errors import PipelineError
from pipeline.core.model_params import BackboneParams

if TYPE_CHECKING:
    import keras

    from pipeline.tasks.plates.params import PlatesTrainParams

# Feature maps at strides 8, 16 and 32 (P3, P4, P5) of each base.
PYRAMID_TAPS = {
    "MobileNetV2": ("block_5_add", "block_12_add", "out_relu"),
    "VGG16": ("block4_conv3", "block5_conv3", "block5_pool"),
    "ResNet50": ("conv3_block4_out", "conv4_block6_out", "conv5_block3_out"),
    "EfficientNetB0": ("block3b_add", "block5c_add", "top_activation"),
}
MIN_LEVEL, MAX_LEVEL = 3, 5  # keras-hub's default P3-P7 adds two levels of 256-channel heads
PRE_LOGITS_CONV_LAYERS = 1  # keras-hub's default 4 is ~4x slower on a CPU
ANCHOR_SCALES = 3  # anchor sizes per level: 2^(i/3) x ANCHOR_SIZE x stride
ANCHOR_ASPECT_RATIOS = (0.5, 1.0, 2.0)
ANCHOR_SIZE = 4.0
NMS_IOU = 0.5
PRIOR_PROBABILITY = 0.01  # initial plate score of every anchor, as in the RetinaNet paper
BOX_FORMAT = "xyxy"  # absolute pixels: `rel_xyxy` fails in keras-hub's anchor generator


def _taps(backbone: BackboneParams) -> tuple[str, ...]:
    if backbone.name not in PYRAMID_TAPS:
        supported = ", ".join(PYRAMID_TAPS)
        raise PipelineError(
            f"the RetinaNet plate detector needs stride-8, -16 and -32 maps, which "
            f"{backbone.name}'s valid-padding layers do not give; set backbone.name to one "
            f"of {supported} (or train.plates.detector: centernet)"
        )
    return PYRAMID_TAPS[backbone.name]


@functools.cache
def _encoder_class() -> type:
    """`PyramidEncoder`, defined (and registered for loading) on first use only."""
    import keras
    import keras_hub

    @keras.saving.register_keras_serializable(package="pipeline", name="PyramidEncoder")
    class PyramidEncoder(keras_hub.models.FeaturePyramidBackbone):
        """A backbone with inner feature-map outputs as keras-hub's `{"P3": ...}` pyramid."""

        def __init__(self, encoder: Any, image_shape: Any, levels: Any, **kwargs: Any) -> None:
            images = keras.Input(tuple(image_shape), name="images")
            outputs = encoder(images)
            pyramid = {f"P{level}": out for level, out in zip(levels, outputs, strict=True)}
            super().__init__(inputs=images, outputs=pyramid, **kwargs)
            self.encoder = encoder
            self.image_shape = tuple(image_shape)
            self.levels = tuple(levels)
            self.pyramid_outputs = pyramid

        def get_config(self) -> dict[str, Any]:
            config = super().get_config()
            config.update(
                {
                    "encoder": keras.layers.serialize(self.encoder),
                    "image_shape": list(self.image_shape),
                    "levels": list(self.levels),
                }
            )
            return config

        @classmethod
        def from_config(cls, config: dict[str, Any]) -> Any:
            config = {**config, "encoder": keras.layers.deserialize(config["encoder"])}
            return super().from_config(config)

    return PyramidEncoder


def register() -> None:
    """Make saved RetinaNet detectors loadable (registers the pyramid wrapper)."""
    _encoder_class()


def network(params: PlatesTrainParams, backbone: BackboneParams) -> tuple[keras.Model, keras.Model]:
    """(detector, its "base" layer for the two-phase fit), one class, 0-255 RGB input."""
    import keras_hub

    from pipeline.core.backbones import build_backbone

    rows, cols = params.input_size
    coarsest = 2**MAX_LEVEL
    if rows % coarsest or cols % coarsest:
        raise PipelineError(
            f"train.plates.input_size {params.input_size}: RetinaNet needs multiples of {coarsest}"
        )
    shape = (rows, cols, 3)
    features = build_backbone(backbone, shape, taps=_taps(backbone))
    encoder = _encoder_class()(
        features, shape, range(MIN_LEVEL, MAX_LEVEL + 1), name="pyramid_encoder"
    )
    pyramid = keras_hub.models.RetinaNetBackbone(
        image_encoder=encoder,
        min_level=MIN_LEVEL,
        max_level=MAX_LEVEL,
        use_p5=False,
        image_shape=shape,
        name="retinanet_backbone",
    )
    anchors = keras_hub.layers.AnchorGenerator(
        BOX_FORMAT,
        min_level=MIN_LEVEL,
        max_level=MAX_LEVEL,
        num_scales=ANCHOR_SCALES,
        aspect_ratios=list(ANCHOR_ASPECT_RATIOS),
        anchor_size=ANCHOR_SIZE,
    )
    decoder = keras_hub.layers.NonMaxSuppression(
        bounding_box_format=BOX_FORMAT,
        from_logits=True,
        iou_threshold=NMS_IOU,
        max_detections=params.max_detections,
    )
    detector = keras_hub.models.RetinaNetObjectDetector(
        backbone=pyramid,
        num_classes=1,
        bounding_box_format=BOX_FORMAT,
        anchor_generator=anchors,
        pre_logits_num_conv_layers=PRE_LOGITS_CONV_LAYERS,
        prediction_decoder=decoder,
        name="retinanet",  # the kind: `detectors.detector_of` reads it
    )
    _initialise_logits(detector)
    return detector, features.get_layer("base")


def _initialise_logits(detector: Any) -> None:
    """The paper's start: every anchor a plate with PRIOR_PROBABILITY, box deltas zero.

    keras-hub 0.32 puts the prior bias on the box head (deltas of -4.6: tiny boxes off
    the image) and leaves the class logits at 0 (a score of 0.5 on every anchor).
    """
    from keras import ops

    prior_logit = float(np.log(PRIOR_PROBABILITY / (1 - PRIOR_PROBABILITY)))
    classes = detector.classification_head.prediction_layer.bias
    classes.assign(ops.full(classes.shape, prior_logit, dtype=classes.dtype))
    deltas = detector.box_head.prediction_layer.bias
    deltas.assign(ops.zeros(deltas.shape, dtype=deltas.dtype))
