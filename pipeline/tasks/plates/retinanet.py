"""keras-hub's RetinaNet on the shared backbone: the plate detector for GPU users.

Built from config, never from a preset (presets download from Kaggle). The shared
`keras.applications` backbone (0-255 RGB in, its own scaling inside) is cut at three
feature maps, the pyramid levels P3/P4/P5 (strides 8, 16, 32), and wrapped as a
`keras_hub.models.FeaturePyramidBackbone` for `RetinaNetBackbone`. Boxes are absolute
pixel `xyxy` in the network input; box lists are padded with -1.

keras-hub (and TensorFlow) load only inside the functions here, never at import. A saved
detector holds the wrapper class, registered when `load_detector` (or any builder here)
runs, so load it with `load_detector` rather than a bare `keras.models.load_model`.
"""

from __future__ import annotations

import functools
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pipeline.core.errors import DatasetError, PipelineError
from pipeline.core.finetune import two_phase_fit
from pipeline.core.io import write_json
from pipeline.core.model_params import BackboneParams
from pipeline.core.tfdata import image_dataset
from pipeline.tasks.plates.boxes import yolo_to_xyxy

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
PLATE_CLASS = 0
PAD = -1.0  # keras-hub's padding of box and label lists
MODEL_NAME = "retinanet"


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


def load_detector(path: Path | str) -> keras.Model:
    """A saved plate detector (either kind), loaded with `safe_mode`, uncompiled."""
    import keras

    register()
    with warnings.catch_warnings():  # uncompiled: the saved optimizer state is not wanted
        warnings.filterwarnings("ignore", "Skipping variable loading for optimizer")
        return keras.models.load_model(path, safe_mode=True, compile=False)


def is_retinanet(model: Any) -> bool:
    """Whether `model` is keras-hub's RetinaNet (without importing keras-hub to find out)."""
    keras_hub = sys.modules.get("keras_hub")
    return keras_hub is not None and isinstance(model, keras_hub.models.RetinaNetObjectDetector)


def retinanet(
    params: PlatesTrainParams, backbone: BackboneParams
) -> tuple[keras.Model, keras.Model]:
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
        name=MODEL_NAME,
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


def targets(manifest: pd.DataFrame, params: PlatesTrainParams, slots: int) -> np.ndarray:
    """(n, slots, 5): pixel `xyxy` boxes of the (stretched) network input + class, -1 padded."""
    rows, cols = params.input_size
    packed = np.full((len(manifest), slots, 5), PAD, np.float32)
    for index, boxes in enumerate(manifest["boxes"]):
        xyxy = yolo_to_xyxy(boxes, cols, rows)
        packed[index, : len(xyxy), :4] = xyxy
        packed[index, : len(xyxy), 4] = PLATE_CLASS
    return packed


def _as_keras_hub_targets(images: Any, packed: Any) -> tuple[Any, dict[str, Any]]:
    import tensorflow as tf

    return tf.cast(images, tf.float32), {"boxes": packed[..., :4], "labels": packed[..., 4]}


def fit(
    processed_dir: Path,
    params: PlatesTrainParams,
    backbone: BackboneParams,
    *,
    work_dir: Path,
    assets_dir: Path,
    seed: int,
    callbacks: list[Any],
    jit_compile: bool = False,
) -> tuple[keras.Model, dict[str, list[float]]]:
    """RetinaNet trained on the train split, early-stopped on the val split."""
    from pipeline.tasks.plates.training import DETECTOR_FILE

    manifest = pd.read_parquet(processed_dir / "manifest.parquet")
    splits = {split: manifest[manifest["split"] == split] for split in ("train", "val")}
    for name, rows in splits.items():
        if rows.empty or rows["boxes"].map(len).sum() == 0:
            raise DatasetError(
                f"plates: no {name} images with plates in {processed_dir / 'manifest.parquet'}; "
                "label more images or change ingest.plates.val_fraction"
            )
    slots = max(1, max(int(rows["boxes"].map(len).max()) for rows in splits.values()))
    train_data, val_data = (
        image_dataset(
            processed_dir,
            rows["image"].tolist(),
            targets(rows, params, slots),
            params.batch_size,
            shuffle=split == "train",
            seed=seed,
            size=params.input_size,
        ).map(_as_keras_hub_targets)
        for split, rows in splits.items()
    )
    model, base = retinanet(params, backbone)
    history = two_phase_fit(
        model,
        train_data,
        val_data,
        params.fit,
        loss=None,
        metrics=[],
        compile_kwargs={"box_loss": "auto", "classification_loss": "auto"},
        work_dir=work_dir,
        base=base,
        callbacks=callbacks,
        jit_compile=jit_compile,
    )
    write_json(
        assets_dir / DETECTOR_FILE,
        {
            "detector": params.detector,
            "input_size": list(params.input_size),
            "stride": params.stride,
            "max_detections": params.max_detections,
        },
    )
    return model, history


def detect_batch(
    model: Any, batch: np.ndarray, min_score: float, max_detections: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per image: pixel `xyxy` boxes (k, 4) of the network input and scores (k,), best first.

    keras-hub's own decoding (anchors, deltas, non-maximum suppression), with the score
    threshold and cap of this call instead of those fixed in the saved model.
    """
    import keras
    import keras_hub
    from keras import ops

    rows, cols = int(batch.shape[1]), int(batch.shape[2])
    images = ops.convert_to_tensor(np.asarray(batch, np.float32))
    outputs = model(images, training=False)
    anchors = model.anchor_generator(images)
    anchors = ops.concatenate(list(anchors.values()), axis=0)
    boxes = keras.utils.bounding_boxes.decode_deltas_to_boxes(
        anchors=anchors,
        boxes_delta=ops.cast(outputs["bbox_regression"], "float32"),
        anchor_format=model.anchor_generator.bounding_box_format,
        box_format=model.bounding_box_format,
        encoded_format=model.label_encoder.encoding_format,
        variance=model.label_encoder.box_variance,
        image_shape=(rows, cols, 3),
    )
    decoder = model.prediction_decoder
    nms = keras_hub.layers.NonMaxSuppression(
        bounding_box_format=model.bounding_box_format,
        from_logits=decoder.from_logits,
        iou_threshold=decoder.iou_threshold,
        confidence_threshold=min_score,
        max_detections=max_detections,
    )
    found = nms(boxes, ops.cast(outputs["cls_logits"], "float32"), images=images)
    found["boxes"] = keras.utils.bounding_boxes.convert_format(
        found["boxes"], source=model.bounding_box_format, target="xyxy", height=rows, width=cols
    )
    counts = ops.convert_to_numpy(found["num_detections"]).astype(int)
    all_boxes = ops.convert_to_numpy(found["boxes"]).astype(np.float64)
    all_scores = ops.convert_to_numpy(found["confidence"]).astype(np.float64)
    return [
        (all_boxes[index, :count].reshape(-1, 4), all_scores[index, :count])
        for index, count in enumerate(counts)
    ]
