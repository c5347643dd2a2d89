"""keras-hub's RetinaNet as a plate detector: the kind for GPU users.

Targets are pixel `xyxy` boxes of the network input with their class, box lists padded
with -1 (keras-hub's padding); keras-hub's own losses and decoding (anchors, deltas,
non-maximum suppression) are used. The network is in `retinanet_network`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

import pipeline.tasks.plates.detectors.retinanet_network as retinanet_network
from pipeline.tasks.plates.boxes import yolo_to_xyxy
from pipeline.tasks.plates.detectors.base import CompileSettings, load_uncompiled

if TYPE_CHECKING:
    import keras
    import pandas as pd
    import tensorflow as tf

    from pipeline.core.model_params import BackboneParams
    from pipeline.tasks.plates.detectors.base import Decoded
    from pipeline.tasks.plates.params import PlatesTrainParams

PLATE_CLASS = 0
PAD = -1.0  # keras-hub's padding of box and label lists


def _as_keras_hub_targets(images: Any, packed: Any) -> tuple[Any, dict[str, Any]]:
    import tensorflow as tf

    return tf.cast(images, tf.float32), {"boxes": packed[..., :4], "labels": packed[..., 4]}


class RetinaNet:
    name: ClassVar[str] = "retinanet"

    def build(
        self, params: PlatesTrainParams, backbone: BackboneParams
    ) -> tuple[keras.Model, keras.Model]:
        return retinanet_network.network(params, backbone)

    def targets(self, rows: pd.DataFrame, params: PlatesTrainParams, slots: int) -> np.ndarray:
        """(n, slots, 5): pixel `xyxy` boxes + class, -1 padded."""
        height, width = params.input_size
        packed = np.full((len(rows), slots, 5), PAD, np.float32)
        for index, boxes in enumerate(rows["boxes"]):
            xyxy = yolo_to_xyxy(boxes, width, height)
            packed[index, : len(xyxy), :4] = xyxy
            packed[index, : len(xyxy), 4] = PLATE_CLASS
        return packed

    def training_pairs(self, data: tf.data.Dataset) -> tf.data.Dataset:
        return data.map(_as_keras_hub_targets)

    def compile_settings(self, params: PlatesTrainParams) -> CompileSettings:
        return CompileSettings(compile_kwargs={"box_loss": "auto", "classification_loss": "auto"})

    def decode(
        self, model: Any, batch: np.ndarray, min_score: float, max_detections: int
    ) -> Decoded:
        """keras-hub's decoding, with the score threshold and cap of this call instead of
        those fixed in the saved model."""
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

    def load(self, path: Path) -> keras.Model:
        retinanet_network.register()  # the saved model holds the pyramid wrapper class
        return load_uncompiled(path)
