"""The frame store: frames decoded once to disk give the streamed batches, pixel for pixel,
and never answer for a file that changed or for a store that was not written to the end."""

import json
import os
import signal
import subprocess
import sys

import cv2
import numpy as np
import pytest
from PIL import Image

tf = pytest.importorskip("tensorflow")

from pipeline.core.tfdata import image_dataset  # noqa: E402


def epochs(dataset, count):
    return [[(x.numpy(), y.numpy()) for x, y in dataset] for _ in range(count)]


def assert_same(ours, theirs):
    assert len(ours) == len(theirs)
    for our_epoch, their_epoch in zip(ours, theirs, strict=True):
        for (x, y), (tx, ty) in zip(our_epoch, their_epoch, strict=True):
            assert x.dtype == np.uint8 and np.array_equal(x, tx) and np.array_equal(y, ty)


def both(root, paths, store, *, shuffle=True, size=None, count=3):
    """(streamed, stored) epochs of the same request."""
    targets = np.linspace(-1, 1, len(paths)).astype(np.float32)
    made = []
    for where in (None, store):
        tf.keras.utils.set_random_seed(7)
        data = image_dataset(
            root, paths, targets, 4, shuffle=shuffle, seed=3, size=size, store=where
        )
        made.append(epochs(data, count))
    return made


def frames(root, count=9, height=24, width=32):
    """Plain JPEGs (decoded by TensorFlow), PNGs and EXIF-turned JPEGs (decoded by Pillow),
    all the same size once decoded."""
    rng = np.random.default_rng(0)
    root.mkdir(parents=True, exist_ok=True)
    names = []
    for i in range(count):
        pixels = cv2.GaussianBlur(rng.integers(0, 255, (height, width, 3), np.uint8), (5, 5), 2)
        name = f"f{i}." + ("jpg", "png", "turned.jpg")[i % 3]
        if i % 3 == 2:  # stored on its side, turned upright by its EXIF orientation
            exif = Image.Exif()
            exif[0x0112] = 6
            Image.fromarray(np.rot90(pixels, -1)).save(root / name, exif=exif)
        else:
            cv2.imwrite(str(root / name), pixels)
        names.append(name)
    return names


def stores(folder):
    return sorted(path.name for path in folder.iterdir()) if folder.is_dir() else []


@pytest.mark.parametrize(("shuffle", "size"), [(True, None), (False, None), (True, (16, 20))])
def test_stored_batches_equal_the_streamed_ones_epoch_after_epoch(tmp_path, shuffle, size):
    paths = frames(tmp_path)
    store = tmp_path / "store"
    streamed, stored = both(tmp_path, paths, store, shuffle=shuffle, size=size)
    assert [len(e) for e in stored] == [3, 3, 3]  # 9 frames in batches of 4
    assert_same(stored, streamed)
    if shuffle:  # reshuffled each epoch, as the streamed path is
        assert not np.array_equal(stored[0][0][1], stored[1][0][1])
    (built,) = stores(store)
    stamp = (store / built).stat()
    both(tmp_path, paths, store, shuffle=shuffle, size=size, count=1)
    assert stores(store) == [built]  # read again, not written again
    assert (store / built).stat().st_mtime_ns == stamp.st_mtime_ns


def test_frames_of_different_sizes_are_streamed_and_nothing_is_stored(tmp_path):
    paths = frames(tmp_path, count=4) + frames(tmp_path / "big", count=2, height=30)
    paths[-2:] = [f"big/{name}" for name in paths[-2:]]
    streamed, stored = both(tmp_path, paths, tmp_path / "store", count=1, shuffle=False)
    assert_same(stored, streamed)
    assert stores(tmp_path / "store") == []


def test_a_changed_file_is_never_read_from_the_store(tmp_path):
    """Same name, size and mtime, other pixels (an uncompressed BMP rewritten with its mtime
    put back): the open dataset stops, and the next one decodes the frames afresh."""
    rng = np.random.default_rng(1)
    paths = [f"f{i}.bmp" for i in range(5)]
    for path in paths:
        cv2.imwrite(str(tmp_path / path), rng.integers(0, 255, (24, 32, 3), np.uint8))
    store = tmp_path / "store"
    targets = np.zeros(5, np.float32)
    open_dataset = image_dataset(tmp_path, paths, targets, 5, shuffle=False, seed=0, store=store)
    (old,) = stores(store)
    changed = tmp_path / paths[2]
    before = changed.stat()
    cv2.imwrite(str(changed), rng.integers(0, 255, (24, 32, 3), np.uint8))
    os.utime(changed, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert changed.stat().st_size == before.st_size
    with pytest.raises(tf.errors.OpError, match="changed or went away"):
        next(iter(open_dataset))
    streamed, stored = both(tmp_path, paths, store, shuffle=False, count=1)
    assert_same(stored, streamed)
    np.testing.assert_array_equal(stored[0][0][0][2], cv2.imread(str(changed))[..., ::-1])
    assert len(stores(store)) == 1 and stores(store) != [old]  # rebuilt, the stale one gone


_KILLED_WRITER = """
import os, signal, sys
from pathlib import Path
import numpy as np
from pipeline.core.frame_store import open_store
def decode(shape):  # one frame written, then the writer is killed
    yield np.ones(1, bool), np.zeros((1, 24, 32, 3), np.uint8)
    os.kill(os.getpid(), signal.SIGKILL)
open_store(Path(sys.argv[1]), sys.argv[2:], None, decode)
"""


def test_a_store_not_written_to_the_end_is_never_read(tmp_path):
    paths = frames(tmp_path, count=6)
    store = tmp_path / "store"
    files = [str(tmp_path / path) for path in paths]
    killed = subprocess.run([sys.executable, "-c", _KILLED_WRITER, str(store), *files])
    assert killed.returncode == -signal.SIGKILL
    (partial,) = stores(store)
    assert partial.endswith(".tmp")  # the writer's own file, never renamed to a store
    streamed, stored = both(tmp_path, paths, store, count=1)
    assert_same(stored, streamed)
    (built,) = stores(store)  # the dead writer's file removed
    assert built.endswith(".npy")
    full = (store / built).stat().st_size
    os.truncate(store / built, full - 100)  # a store cut short (a copy that failed)
    streamed, stored = both(tmp_path, paths, store, count=1)
    assert_same(stored, streamed)  # written again in full
    assert stores(store) == [built] and (store / built).stat().st_size == full


_PEAK_CHILD = """
import json, resource, sys
from pathlib import Path
import numpy as np
from pipeline.core.tfdata import image_dataset
root = Path(sys.argv[1])
paths = [f"f{i % 4}.jpg" for i in range(1200)]  # 1,200 frames to store, 4 files on disk
def peak(n):
    data = image_dataset(
        root, paths[:n], np.zeros(n, np.float32), 64, shuffle=True, seed=0, store=root / "s"
    )
    for _ in range(2):
        for _ in data:
            pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
small = peak(400)
print(json.dumps({"small": small, "large": peak(1200)}))
"""


def test_peak_memory_does_not_grow_with_the_stored_frames(tmp_path, write_image):
    """1,200 frames of 320x160 are a 184 MB store, 400 are 61 MB: read through a memory map,
    or held, the peak would grow by the difference."""
    for i in range(4):
        write_image(tmp_path / f"f{i}.jpg", 320, 160, seed=i)
    done = subprocess.run(
        [sys.executable, "-c", _PEAK_CHILD, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    peaks = json.loads(done.stdout.splitlines()[-1])
    assert len(stores(tmp_path / "s")) == 2  # both read from stores
    assert peaks["large"] - peaks["small"] < 50, peaks  # MB
