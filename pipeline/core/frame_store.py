"""Frames decoded once into a uint8 file on disk, which every epoch reads by index.

Decoding is most of what an epoch of training input costs; the decoded frames of a folder
do not fit in memory (3.2 GB for 15,498 simulator frames), but they fit on disk. A store is
one `.npy` of shape (n, h, w, 3), uint8, the frames in the order of the file list: written
once by the streaming decoder, then read a batch at a time, in any order.

Reads go through the file (`readinto` at each frame's offset), not through a memory map:
pages of a map that were read count toward the process's resident memory until it is
unmapped, so an epoch over a mapped 2.3 GB store would show 2.3 GB of RSS. Read through
the file, the pages stay in the kernel's page cache (shared, reclaimable) and the process
holds only the batches in flight.

A store answers only for the files it was built from. Its name holds a hash of the files
(absolute paths, in order), the resize and each file's size, mtime, ctime and inode: a
changed file gives another name, so a new store is built and the old one removed. Each
read also checks that every frame's file still has the stats it was built from, and fails
closed if not (a file replaced during training). A store is written to a temporary file,
synced and renamed: one killed while being written is never read.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.core.errors import PipelineError

#: part of every store's name: a store written by another layout is never read
FORMAT = 1
#: what a decoder yields for the build, per batch: (which frames have the store's shape,
#: the frames (b, h, w, 3) uint8)
Decoded = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class FrameStore:
    """A built store: `read(indices)` gives those frames as a (k, h, w, 3) uint8 batch."""

    path: Path
    files: tuple[str, ...]
    stats: np.ndarray  # (n, 4) int64: each file's size, mtime, ctime, inode when stored
    shape: tuple[int, int]  # (h, w) of every frame
    offset: int  # bytes before the first frame (the .npy header)

    def __len__(self) -> int:
        return len(self.files)

    def read(self, indices: np.ndarray) -> np.ndarray:
        """Frames `indices`, each checked against its file first (fail closed)."""
        height, width = self.shape
        frame_bytes = height * width * 3
        batch = np.empty((len(indices), height, width, 3), np.uint8)
        rows = batch.reshape(len(indices), frame_bytes)
        with open(self.path, "rb", buffering=0) as store:
            for row, index in zip(rows, np.asarray(indices, np.int64).tolist(), strict=True):
                self._check(index)
                store.seek(self.offset + index * frame_bytes)
                if store.readinto(row.data) != frame_bytes:
                    raise PipelineError(
                        f"frame store {self.path} is cut short; delete it and run again"
                    )
        return batch

    def _check(self, index: int) -> None:
        file = self.files[index]
        try:
            now = _stat(file)
        except OSError:
            now = None
        if now != tuple(self.stats[index].tolist()):
            raise PipelineError(
                f"{file} changed or went away after its frame was stored in {self.path}; "
                "run again to decode the frames afresh"
            )


def open_store(
    directory: Path,
    files: Sequence[str],
    size: tuple[int, int] | None,
    decode: Callable[[tuple[int, int]], Iterable[Decoded]],
) -> FrameStore | None:
    """The store of `files` in `directory`, built with `decode(shape)` (their frames in
    order) if there is none for them as they are now; None (nothing written) when their
    frames differ in shape, or a file cannot be read: the caller streams them instead.
    `size` is the (h, w) every frame is resized to, None if they are stored as decoded."""
    try:
        stats = np.array([_stat(file) for file in files], np.int64).reshape(len(files), 4)
    except OSError:
        return None  # the streaming path says which file, when it reaches it
    identity = _digest(json.dumps([FORMAT, size, [os.path.abspath(f) for f in files]]).encode())
    name = f"{identity[:16]}-{_digest(identity.encode() + stats.tobytes())[:16]}"
    path = directory / f"{name}.npy"
    if path.is_file():
        store = _opened(path, files, stats)
        if store is not None:
            return store
        path.unlink(missing_ok=True)  # not a whole store of these frames: built again
    shape = (int(size[0]), int(size[1])) if size else _common_shape(files)
    if shape is None:
        return None
    directory.mkdir(parents=True, exist_ok=True)
    _remove_others(directory, identity[:16], keep=path.name)
    if not _write(path, len(files), shape, decode(shape)):
        return None
    return _opened(path, files, stats)


def _write(path: Path, count: int, shape: tuple[int, int], decoded: Iterable[Decoded]) -> bool:
    """Write the store through a temporary file renamed once complete and synced; False
    (nothing left behind) when a frame is not of `shape`."""
    height, width = shape
    header = {"descr": "|u1", "fortran_order": False, "shape": (count, height, width, 3)}
    partial = path.with_name(f".{path.stem}.{os.getpid()}.tmp")
    written = 0
    try:
        with open(partial, "wb") as out:
            np.lib.format.write_array_header_1_0(out, header)
            for fits, frames in decoded:
                if not np.all(fits):
                    partial.unlink()
                    return False
                out.write(np.ascontiguousarray(frames, np.uint8).data)
                written += len(frames)
            out.flush()
            os.fsync(out.fileno())
        if written != count:
            raise PipelineError(f"frame store {path}: {written} of {count} frames decoded")
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)
    return True


def _opened(path: Path, files: Sequence[str], stats: np.ndarray) -> FrameStore | None:
    """The store at `path` if it holds one frame per file, whole; None if not."""
    try:
        mapped = np.load(path, mmap_mode="r")  # checks the header and the length; reads no frame
    except (OSError, ValueError):
        return None
    shape, dtype, offset = mapped.shape, mapped.dtype, mapped.offset
    del mapped
    if dtype != np.uint8 or len(shape) != 4 or shape[0] != len(files) or shape[3] != 3:
        return None
    return FrameStore(path, tuple(files), stats, (int(shape[1]), int(shape[2])), int(offset))


def _common_shape(files: Sequence[str]) -> tuple[int, int] | None:
    """The (h, w) every file's header gives as decoded (after an EXIF rotation), None if
    they differ or one cannot be opened. The build checks the decoded frames again."""
    from PIL import ExifTags, Image

    shapes = set()
    for file in files:
        try:
            with Image.open(file) as image:
                width, height = image.size
                turned = image.getexif().get(ExifTags.Base.Orientation, 1) in (5, 6, 7, 8)
        except Exception:  # the streaming decoder says what is wrong with it
            return None
        shapes.add((width, height) if turned else (height, width))
        if len(shapes) > 1:
            return None
    return shapes.pop() if shapes else None


def _remove_others(directory: Path, identity: str, keep: str) -> None:
    """Stores of the same files as they were before, and temporary files of writers that
    died; a live writer's temporary file is its own."""
    for old in directory.glob(f"{identity}-*.npy"):
        if old.name != keep:
            old.unlink(missing_ok=True)
    for partial in directory.glob(f".{identity}-*.tmp"):
        pid = partial.name.split(".")[-2]  # .<name>.<pid>.tmp
        if not (pid.isdigit() and _alive(int(pid))):
            partial.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stat(file: str) -> tuple[int, int, int, int]:
    """What changes when a file's bytes do, even if its size and mtime are put back."""
    stat = os.stat(file)
    return (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable."""
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
