"""Training, the logged models and the drive server see the same pixels of a frame.

They all decode with `core.images.decode_image` (training through `tf.numpy_function`). Its
JPEGs are libjpeg's accurate integer IDCT, as OpenCV and TensorFlow's `INTEGER_ACCURATE`
decode them; TensorFlow's default JPEG decoder (a fast, inexact IDCT) differs by up to 4
levels on most pixels, enough to move a steering angle by 0.02.
"""

import io

import cv2
import numpy as np
import pytest
from PIL import Image


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
    accurate = tf.io.decode_jpeg(jpeg, channels=3, dct_method="INTEGER_ACCURATE").numpy()
    np.testing.assert_array_equal(decode_for_serving(jpeg), accurate)
    opencv = cv2.cvtColor(cv2.imdecode(np.frombuffer(jpeg, np.uint8), 1), cv2.COLOR_BGR2RGB)
    np.testing.assert_array_equal(decode_for_serving(jpeg), opencv)
    fast = tf.io.decode_jpeg(jpeg, channels=3).numpy()  # the default this test guards against
    assert (fast != decode_for_serving(jpeg)).any()


def test_a_tf_data_pipeline_reads_what_validation_accepted_as_serving_does(tmp_path):
    """RGBA and 16-bit PNGs, an EXIF-rotated and a CMYK JPEG (decoded in Python) and plain
    JPEGs of every chroma subsampling, progressive and grey (decoded natively by TensorFlow):
    batches hold the served pixels."""
    from pipeline.core.images import is_plain_jpeg
    from pipeline.core.serving import decode_rgb as decode_for_serving
    from pipeline.core.tfdata import image_dataset

    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 255, (24, 32, 3), dtype=np.uint8)
    smooth = Image.fromarray(cv2.GaussianBlur(pixels, (5, 5), 2))
    Image.fromarray(np.dstack([pixels, np.full((24, 32), 128, np.uint8)])).save(tmp_path / "a.png")
    cv2.imwrite(str(tmp_path / "b.png"), rng.integers(0, 65535, (24, 32, 3), dtype=np.uint16))
    exif = Image.Exif()
    exif[0x0112] = 3  # upside down
    Image.fromarray(pixels).save(tmp_path / "c.jpg", exif=exif)
    smooth.convert("CMYK").save(tmp_path / "d.jpg")
    for subsampling in (0, 1, 2):  # 4:4:4, 4:2:2, 4:2:0
        smooth.save(tmp_path / f"plain{subsampling}.jpg", subsampling=subsampling, quality=90)
    smooth.save(tmp_path / "progressive.jpg", progressive=True)
    smooth.convert("L").save(tmp_path / "grey.jpg")
    names = sorted(path.name for path in tmp_path.iterdir())
    assert [name for name in names if is_plain_jpeg(tmp_path / name)] == [
        "grey.jpg",
        "plain0.jpg",
        "plain1.jpg",
        "plain2.jpg",
        "progressive.jpg",
    ]
    batches = image_dataset(tmp_path, names, np.zeros(len(names)), 1, shuffle=False, seed=0)
    for name, (image, _) in zip(names, batches, strict=True):
        served = decode_for_serving((tmp_path / name).read_bytes())
        np.testing.assert_array_equal(image[0].numpy(), served, err_msg=name)
    batches = image_dataset(
        tmp_path, ["a.png", "b.png", "c.jpg"], np.zeros(3), 3, shuffle=False, seed=0
    )
    images, _ = next(iter(batches))
    np.testing.assert_array_equal(images[0].numpy(), pixels)  # alpha dropped
    with io.BytesIO() as stored:
        Image.fromarray(pixels).save(stored, "JPEG")
        upright = decode_for_serving(stored.getvalue())
    np.testing.assert_array_equal(images[2].numpy(), upright[::-1, ::-1])


def test_training_stops_on_a_file_that_no_longer_decodes(tmp_path):
    import tensorflow as tf

    from pipeline.core.tfdata import image_dataset

    jpeg = cv2.imencode(".jpg", np.zeros((24, 32, 3), np.uint8))[1].tobytes()
    (tmp_path / "cut.jpg").write_bytes(jpeg[: len(jpeg) // 3])
    batches = image_dataset(tmp_path, ["cut.jpg"], np.zeros(1), 1, shuffle=False, seed=0)
    with pytest.raises(tf.errors.OpError, match="truncated or corrupt"):
        next(iter(batches))
