"""tf.data input pipelines over image files: shuffle the names, decode, batch, prefetch.

Memory stays flat as the data grows: only file names and targets are shuffled (a few
bytes each), and frames are decoded as they are read, a few batches ahead of the model.
Decoded frames are not cached in memory: such a cache holds every frame twice (cache and a
full shuffle buffer): 3.2 GB for 15,498 simulator frames. Decoding again each epoch costs
little beside training (a 320x160 JPEG decodes in about a millisecond, on the other core
while the model trains), and the batches are the same: shuffling the names with the same
seed and buffer size gives the order cached frames would have.

Decoding is, though, most of what an epoch of input costs. Given a `store` folder, frames of
one shape are decoded once into a uint8 file there (`core.frame_store`), and each epoch
reads its batches from that file by index: shuffled the same way, the same batches, pixel
for pixel, and memory as flat (the file is read, not held or mapped).

Images stay uint8 all the way to the model: a Keras functional model casts its inputs to
float32 itself, and a uint8 batch is a quarter of the bytes to batch and prefetch.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import tensorflow as tf

    from pipeline.core.frame_store import Decoded, FrameStore


def image_dataset(
    root: Path,
    paths: list[str],
    targets: np.ndarray,
    batch_size: int,
    *,
    shuffle: bool,
    seed: int,
    size: tuple[int, int] | None = None,
    store: Path | None = None,
) -> tf.data.Dataset:
    """(image uint8 RGB, target) batches; images never all held in memory at once.

    With a `store` folder, the frames are decoded once into a file there
    (`core.frame_store`) that every epoch reads: the same batches, without decoding each
    epoch. Frames of different sizes (`size` None) are streamed all the same.
    """
    files = [str(root / path) for path in paths]
    targets = targets.astype(np.float32)
    frames = None
    if store is not None and files:
        from pipeline.core.frame_store import open_store

        frames = open_store(store, files, size, partial(_decoded, files, size))
    if frames is None:
        return _streamed(files, targets, batch_size, shuffle, seed, size)
    return _stored(frames, targets, batch_size, shuffle, seed)


def _streamed(
    files: list[str],
    targets: np.ndarray,
    batch_size: int,
    shuffle: bool,
    seed: int,
    size: tuple[int, int] | None,
) -> tf.data.Dataset:
    """Frames decoded as they are read, a few batches ahead of the model."""
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices((files, _plain(files), targets))
    if shuffle:  # names, not frames: the buffer costs bytes per row whatever the image size
        dataset = dataset.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    # parallel but in order (tf.data's default): the batches do not depend on thread timing
    dataset = dataset.map(
        lambda path, native, target: (_read_frame(path, native, size), target),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def _stored(
    frames: FrameStore, targets: np.ndarray, batch_size: int, shuffle: bool, seed: int
) -> tf.data.Dataset:
    """Batches read from the store: indices shuffled as `_streamed` shuffles names (same
    count, seed and buffer, so the same order), then each batch read in one call."""
    import tensorflow as tf

    height, width = frames.shape

    def gather(indices: tf.Tensor, target: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        images = tf.numpy_function(frames.read, [indices], tf.uint8, stateful=False)
        images.set_shape([None, height, width, 3])
        return images, target

    dataset = tf.data.Dataset.from_tensor_slices((np.arange(len(frames)), targets))
    if shuffle:
        dataset = dataset.shuffle(len(frames), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size).map(gather, num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)


def _decoded(
    files: list[str], size: tuple[int, int] | None, shape: tuple[int, int]
) -> Iterator[Decoded]:
    """The frames in file order, decoded as `_streamed` decodes them, for a store of frames
    of `shape` (h, w) to write: (which fit, the frames) per batch; one of another shape
    (its header said otherwise) is blanked and reported, not batched."""
    import tensorflow as tf

    height, width = shape

    def fitted(path: tf.Tensor, native: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        image = _read_frame(path, native, size)
        fits = tf.reduce_all(tf.equal(tf.shape(image), [height, width, 3]))
        blank = tf.zeros([height, width, 3], tf.uint8)
        return tf.cond(fits, lambda: tf.reshape(image, [height, width, 3]), lambda: blank), fits

    dataset = tf.data.Dataset.from_tensor_slices((files, _plain(files)))
    dataset = dataset.map(fitted, num_parallel_calls=tf.data.AUTOTUNE).batch(64)
    for frames, fits in dataset.prefetch(1):
        yield fits.numpy(), frames.numpy()


def _plain(files: list[str]) -> np.ndarray:
    """Which files TensorFlow may decode itself (headers only, once)."""
    from pipeline.core.images import is_plain_jpeg

    return np.array([is_plain_jpeg(Path(file)) for file in files], bool)


def _read_frame(path: Any, native: Any, size: tuple[int, int] | None) -> Any:
    """One file's uint8 RGB frame, resized to `size` (h, w) if given."""
    import tensorflow as tf

    image = decode_rgb(tf.io.read_file(path), native)
    if size is not None:
        image = tf.cast(tf.image.resize(image, size), tf.uint8)
    return image


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
