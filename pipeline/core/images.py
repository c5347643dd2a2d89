"""Per-image checks: does the file decode, and to what size and channel count."""

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2

from pipeline.core.progress import track


@dataclass(frozen=True)
class ImageInfo:
    decodes: bool
    width: int | None = None  # None when the file does not decode
    height: int | None = None
    channels: int | None = None


def inspect_image(path: Path) -> ImageInfo:
    """Fully decode the image (a truncated JPEG fails here, not in training)."""
    pixels = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if pixels is None:
        return ImageInfo(decodes=False)
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    return ImageInfo(True, width=pixels.shape[1], height=pixels.shape[0], channels=channels)


def inspect_images(root: Path, relative_paths: Iterable[str], workers: int) -> dict[str, ImageInfo]:
    """Inspect each distinct path under `root` on a thread pool (OpenCV releases the GIL)."""
    unique = sorted(set(relative_paths))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        infos = pool.map(inspect_image, (root / path for path in unique))
        return dict(zip(unique, track(infos, "checking images", total=len(unique)), strict=True))
