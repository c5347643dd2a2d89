"""Per-image checks: does the file decode, and to what size and channel count.

The size is read from the file's header first; an image whose header promises more pixels
than the task accepts is not decoded at all, so a decompression bomb (a small PNG of
20000 x 20000 pixels) costs a header read, not gigabytes of memory.
"""

import warnings
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import cv2
from PIL import Image, UnidentifiedImageError

from pipeline.core.progress import track

#: pixels decoded at most when a task sets no size limits (a 10,000 x 10,000 image)
DEFAULT_MAX_PIXELS = 100_000_000


@dataclass(frozen=True)
class ImageInfo:
    decodes: bool | None  # None: not tried, the image is too large to decode safely
    width: int | None = None  # None when unknown
    height: int | None = None
    channels: int | None = None
    oversized: bool = False  # more pixels than the task accepts: never decoded


def _header_size(path: Path) -> tuple[int, int] | None:
    """(width, height) from the header; None if unreadable; (0, 0) if PIL calls it a bomb."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # we decide below
            with Image.open(path) as image:
                return image.size
    except Image.DecompressionBombError:
        return (0, 0)
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError):
        return None


def inspect_image(path: Path, max_pixels: int) -> ImageInfo:
    """Header check, then a full decode (a truncated JPEG fails here, not in training)."""
    size = _header_size(path)
    if size == (0, 0):
        return ImageInfo(decodes=None, oversized=True)
    if size is not None and size[0] * size[1] > max_pixels:
        return ImageInfo(decodes=None, width=size[0], height=size[1], oversized=True)
    if size is None and not path.is_file():
        return ImageInfo(decodes=False)  # OpenCV would print a warning line of its own
    pixels = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if pixels is None:
        return ImageInfo(decodes=False)
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    return ImageInfo(True, width=pixels.shape[1], height=pixels.shape[0], channels=channels)


def inspect_images(
    root: Path,
    relative_paths: Iterable[str],
    workers: int,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> dict[str, ImageInfo]:
    """Inspect each distinct path under `root` on a thread pool (OpenCV releases the GIL)."""
    unique = sorted(set(relative_paths))
    inspect = partial(inspect_image, max_pixels=max_pixels)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        infos = pool.map(inspect, (root / path for path in unique))
        return dict(zip(unique, track(infos, "checking images", total=len(unique)), strict=True))
