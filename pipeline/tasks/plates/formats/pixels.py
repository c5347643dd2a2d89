"""Pixel boxes of annotation formats, made normalised YOLO boxes with the image's own size.

Annotation files often record a wrong image size (labelImg writes `<size>` 0 when it could
not read the image; exports keep the size before a resize), so the size always comes from
the image header.
"""

from __future__ import annotations

from pathlib import Path


def image_size(path: Path) -> tuple[int, int]:
    """(width, height) from the header, without decoding the pixels."""
    from PIL import Image

    with Image.open(path) as image:
        return image.size


def corners_to_yolo(
    x1: float, y1: float, x2: float, y2: float, width: int, height: int
) -> list[float]:
    """`[cx, cy, w, h]` in [0, 1] of the pixel box with corners (x1, y1) and (x2, y2)."""
    return [(x1 + x2) / 2 / width, (y1 + y2) / 2 / height, (x2 - x1) / width, (y2 - y1) / height]


def size_note(declared: tuple[object, object], actual: tuple[int, int], source: str) -> str | None:
    """Why `declared` (as the annotation writes it) is not the image's real size, or None."""
    if tuple(declared) == actual:
        return None
    shown = "x".join(str(value) for value in declared)
    return f"{source} says {shown}, the image is {actual[0]}x{actual[1]}"
