"""Training, the logged models and the drive server see the same pixels of a frame.

TensorFlow's default JPEG decoder (a fast, inexact IDCT) differs from OpenCV's by up to 4
levels on most pixels, enough to move a steering angle by 0.02: training would learn on
pixels serving never shows it.
"""

import cv2
import numpy as np
import pytest


@pytest.mark.parametrize("quality", [60, 95])
def test_training_decodes_a_jpeg_exactly_as_serving_does(quality):
    import tensorflow as tf

    from pipeline.core.serving import decode_rgb as decode_for_serving
    from pipeline.core.tfdata import decode_rgb as decode_for_training

    rng = np.random.default_rng(quality)
    smooth = cv2.GaussianBlur(rng.integers(0, 255, (160, 320, 3), dtype=np.uint8), (9, 9), 3)
    jpeg = cv2.imencode(".jpg", smooth, [cv2.IMWRITE_JPEG_QUALITY, quality])[1].tobytes()
    png = cv2.imencode(".png", smooth)[1].tobytes()
    for data in (jpeg, png):
        trained_on = decode_for_training(tf.constant(data)).numpy()
        np.testing.assert_array_equal(trained_on, decode_for_serving(data))
    fast = tf.io.decode_jpeg(jpeg, channels=3).numpy()  # the default this test guards against
    assert (fast != decode_for_serving(jpeg)).any()
