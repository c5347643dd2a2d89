"""tf.data input pipelines over image files: shuffle the names, decode, batch, prefetch.

Memory stays flat as the data grows: only file names and targets are shuffled (a few
bytes each), and frames are decoded as they are read, a few batches ahead of the model.
Decoded frames are not cached in memory: such a cache holds every frame twice (cache and a
full shuffle buffer): 3.2 GB for 15,498 simulator frames. Decoding again each epoch costs
little beside training (a 320x160 JPEG decodes in about a millisecond, on the other core
while the model trains), and the batches are the same: shuffling the names with the same
seed and buffer size gives the order cached frames would have.

Images stay uint8 all the way to the model: a Keras functional model casts its inputs to
float32 itself, and a uint8 batch is a quarter of the bytes to batch and prefetch.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import tensorflow as tf


def image_dataset(
    root: Path,
    paths: list[str],
    targets: np.ndarray,
    batch_size: int,
    *,
    shuffle: bool,
    seed: int,
    size: tuple[int, int] | None = None,
) -> tf.data.Dataset:
    """(image uint8 RGB, target) batches; images decoded as read, never all held at once."""
    import tensorflow as tf

    from pipeline.core.images import is_plain_jpeg

    files = [str(root / path) for path in paths]
    plain = np.array([is_plain_jpeg(root / path) for path in paths], bool)  # headers, once

    def decode(
        path: tf.Tensor, native: tf.Tensor, target: tf.Tensor
    ) -> tuple[tf.Tensor, tf.Tensor]:
        image = decode_rgb(tf.io.read_file(path), native)
        if size is not None:
            image = tf.cast(tf.image.resize(image, size), tf.uint8)
        return image, target

    dataset = tf.data.Dataset.from_tensor_slices((files, plain, targets.astype(np.float32)))
    if shuffle:  # names, not frames: the buffer costs bytes per row whatever the image size
        dataset = dataset.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    # parallel but in order (tf.data's default): the batches do not depend on thread timing
    dataset = dataset.map(decode, num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def decode_rgb(data: Any, plain_jpeg: Any = False) -> Any:
    """Encoded bytes (a string tensor) -> uint8 RGB (h, w, 3), the pixels of
    `core.images.decode_image`, the function validation and serving decode with.

    It runs through `tf.numpy_function`, except for a `plain_jpeg` (`images.is_plain_jpeg`:
    no conversion, no EXIF rotation), which TensorFlow decodes in parallel with the same
    accurate integer IDCT (about 4x the frames per second of the Python path). TensorFlow's
    default IDCT is a fast inexact one (up to 4 levels off on most pixels, a steering angle
    moved by 0.02), and its decoders neither rotate by EXIF nor convert CMYK as Pillow does.
    A file that does not decode fully stops the pipeline here (validation rejected it before,
    so it changed since).
    """
    import tensorflow as tf

    def shared() -> Any:
        return tf.numpy_function(_decode, [data], tf.uint8, stateful=False)

    def native() -> Any:
        return tf.io.decode_jpeg(data, channels=3, dct_method="INTEGER_ACCURATE")

    image = tf.cond(tf.convert_to_tensor(plain_jpeg), native, shared)
    image.set_shape([None, None, 3])
    return image


def _decode(data: bytes | np.ndarray) -> np.ndarray:
    """`decode_image` of what `tf.numpy_function` passes: bytes in a graph, a 0-d object
    array when eager."""
    from pipeline.core.images import decode_image

    return decode_image(data.item() if isinstance(data, np.ndarray) else data)
