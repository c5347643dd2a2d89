"""The training input: the same batches as a cache of decoded frames, without its memory.

An in-memory cache (and a shuffle buffer of decoded frames) held every frame: 3.2 GB at
15,498 driving frames. These tests fail if either comes back.
"""

import json
import subprocess
import sys

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from pipeline.core.tfdata import decode_rgb, image_dataset  # noqa: E402


def cached_reference(root, paths, targets, batch_size, *, shuffle, seed, size=None):
    """The former pipeline: decode, cache in memory, shuffle the decoded frames, batch."""
    files = [str(root / p) for p in paths]

    def decode(path, target):
        image = decode_rgb(tf.io.read_file(path))
        if size is not None:
            image = tf.cast(tf.image.resize(image, size), tf.uint8)
        return image, target

    data = tf.data.Dataset.from_tensor_slices((files, targets.astype(np.float32)))
    data = data.map(decode).cache()
    if shuffle:
        data = data.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    return data.batch(batch_size)


def epochs(dataset, count):
    return [[(x.numpy(), y.numpy()) for x, y in dataset] for _ in range(count)]


@pytest.mark.parametrize(("shuffle", "size"), [(True, None), (False, None), (True, (24, 32))])
def test_streamed_batches_equal_the_cached_ones_epoch_after_epoch(
    tmp_path, write_image, shuffle, size
):
    paths = [f"IMG/f{i}.jpg" for i in range(23)]
    for i, path in enumerate(paths):
        write_image(tmp_path / path, 64, 32, seed=i)
    angles = np.linspace(-1, 1, len(paths)).astype(np.float32)
    tf.keras.utils.set_random_seed(7)
    ours = epochs(image_dataset(tmp_path, paths, angles, 5, shuffle=shuffle, seed=3, size=size), 3)
    tf.keras.utils.set_random_seed(7)
    theirs = epochs(
        cached_reference(tmp_path, paths, angles, 5, shuffle=shuffle, seed=3, size=size), 3
    )
    assert [len(e) for e in ours] == [5, 5, 5]  # 23 frames in batches of 5
    for our_epoch, their_epoch in zip(ours, theirs, strict=True):
        for (x, y), (tx, ty) in zip(our_epoch, their_epoch, strict=True):
            assert x.dtype == np.uint8 and np.array_equal(x, tx) and np.array_equal(y, ty)
    if shuffle:  # reshuffled each epoch, as the cached reference is
        assert not np.array_equal(ours[0][0][1], ours[1][0][1])
    else:
        assert np.array_equal(np.concatenate([y for _, y in ours[0]]), angles)


_PEAK_CHILD = """
import json, resource, sys
from pathlib import Path
import numpy as np
from pipeline.core.tfdata import image_dataset
root = Path(sys.argv[1])
paths = [f"f{i % 4}.jpg" for i in range(2000)]  # 2,000 frames to read, 4 files on disk
def epoch(n):
    data = image_dataset(root, paths[:n], np.zeros(n, np.float32), 64, shuffle=True, seed=0)
    for _ in range(2):
        for _ in data:
            pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
small = epoch(100)
print(json.dumps({"small": small, "large": epoch(2000)}))
"""


def test_peak_memory_does_not_grow_with_the_number_of_frames(tmp_path, write_image):
    """2,000 frames of 320x160 are 307 MB decoded: cached, the peak would grow by that much."""
    for i in range(4):
        write_image(tmp_path / f"f{i}.jpg", 320, 160, seed=i)
    done = subprocess.run(
        [sys.executable, "-c", _PEAK_CHILD, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    peaks = json.loads(done.stdout.splitlines()[-1])
    assert peaks["large"] - peaks["small"] < 60, peaks  # MB: a few prefetched batches at most
