"""PilotNet's input preprocessing as built-in Keras layers: crop, resize, RGB->YUV, scale.

They are the first layers of the model, not a step of `augment`, so the model saved and
logged to MLflow takes the simulator's raw 320x160 RGB frames, and training and serving
share one implementation (no train/serve skew). Built-in layers only: the model loads
with `safe_mode=True` and needs no custom code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import keras

# OpenCV's COLOR_RGB2YUV for 8-bit images: yuv = rgb @ RGB_TO_YUV + YUV_OFFSET
RGB_TO_YUV = np.array(
    [
        [0.299, -0.14713, 0.615],
        [0.587, -0.28886, -0.51499],
        [0.114, 0.436, -0.10001],
    ],
    dtype=np.float32,
)
YUV_OFFSET = np.array([0.0, 128.0, 128.0], dtype=np.float32)


def rgb_to_yuv_layer() -> keras.layers.Conv2D:
    """A frozen 1x1 convolution computing OpenCV's RGB->YUV on 0-255 values."""
    import keras

    return keras.layers.Conv2D(
        3,
        1,
        name="rgb_to_yuv",
        trainable=False,
        kernel_initializer=keras.initializers.Constant(RGB_TO_YUV.reshape(1, 1, 3, 3)),
        bias_initializer=keras.initializers.Constant(YUV_OFFSET),
    )


def frame_preprocessing(
    crop_top: int = 60, crop_bottom: int = 25, height: int = 66, width: int = 200, yuv: bool = True
) -> list[keras.layers.Layer]:
    """Layers from a float 0-255 RGB frame to the network's input in [-1, 1]."""
    import keras

    layers: list[keras.layers.Layer] = [
        keras.layers.Cropping2D(((crop_top, crop_bottom), (0, 0)), name="crop_sky_and_hood"),
        keras.layers.Resizing(height, width, interpolation="bilinear", name="resize"),
    ]
    if yuv:  # OpenCV saturates 8-bit results, hence the clip to 0-255
        layers += [rgb_to_yuv_layer(), keras.layers.ReLU(max_value=255.0, name="saturate")]
    layers.append(keras.layers.Rescaling(1 / 127.5, offset=-1.0, name="scale"))
    return layers


def to_frame(image: np.ndarray, shape: tuple[int, int, int] = (160, 320, 3)) -> np.ndarray:
    """An RGB image at the simulator's 320x160 (resized when it is another size)."""
    if image.shape == shape:
        return image
    import cv2

    height, width = shape[:2]
    shrink = image.shape[0] >= height and image.shape[1] >= width
    return cv2.resize(
        image, (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    )
