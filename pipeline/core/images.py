"""The one way an image file or its bytes become pixels, for every task and every stage.

`decode_image` gives HxWx3 uint8 RGB or raises `ImageDecodeError`; validation, training
(through `core.tfdata`), evaluation, serving and `pipeline predict` all call it, so a photo
that validates is the photo every later stage sees, pixel for pixel.

Whatever the file holds becomes 8-bit RGB: alpha is dropped (RGBA, LA, a palette with
transparency), greyscale is repeated into three channels, 16-bit samples keep their high
byte, CMYK (Adobe's inverted CMYK included) goes through Pillow's conversion, and an EXIF
orientation is applied. What cannot be decoded fully is rejected, never filled: a file cut
short, a corrupt stream, a PNG without its end chunk, a warning raised while reading it, a
pixel format with no RGB meaning, anything that is not an image.

The size is read from the header first; an image whose header promises more pixels than the
caller accepts is not decoded at all, so a decompression bomb (a small PNG of 20000 x 20000
pixels) costs a header read, not gigabytes of memory.
"""

from __future__ import annotations

import io
import threading
import warnings
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
from PIL import ExifTags, Image, ImageFile, ImageOps

from pipeline.core.progress import track

#: pixels decoded at most when a caller sets no size limit (a 10,000 x 10,000 image)
DEFAULT_MAX_PIXELS = 100_000_000
#: what Pillow may open; the first frame of an animation is the image
FORMATS = ("JPEG", "PNG", "BMP", "GIF", "WEBP", "TIFF")  # JPEG includes MPO
#: the IEND chunk with its fixed CRC: Pillow reads a PNG cut inside its last chunks silently
_PNG_END = b"IEND\xaeB`\x82"
#: the conversion named for each stored mode (16-bit and EXIF are named apart)
_CONVERSIONS = {
    "RGBA": "rgba->rgb",
    "RGBa": "rgba->rgb",
    "LA": "grey+alpha->rgb",
    "La": "grey+alpha->rgb",
    "L": "grey->rgb",
    "1": "grey->rgb",
    "P": "palette->rgb",
    "PA": "palette->rgb",
    "CMYK": "cmyk->rgb",
    "YCbCr": "ycbcr->rgb",
    "RGBX": "rgbx->rgb",
}
_SIXTEEN_BIT = ("I;16", "I;16L", "I;16B", "I;16N", "I")
# warnings.catch_warnings swaps process-wide state: two threads inside it at once could
# leave the other's filters behind, so the part of a decode that can warn runs under a lock.
_WARNINGS_LOCK = threading.Lock()


class ImageDecodeError(ValueError):
    """The data is not an image that decodes fully: truncated, corrupt or not an image."""


class ImageTooLargeError(ImageDecodeError):
    """The header promises more pixels than allowed; nothing was decoded."""

    def __init__(self, message: str, size: tuple[int, int] | None = None) -> None:
        super().__init__(message)
        self.size = size  # (width, height) from the header; None if Pillow refused it first


@dataclass(frozen=True)
class Decoded:
    pixels: np.ndarray  # (h, w, 3) uint8 RGB
    mode: str  # Pillow's mode of the stored image, e.g. "RGBA", "I;16", "CMYK"
    conversion: str | None  # e.g. "rgba->rgb", "exif-rotated+grey->rgb"; None: stored as RGB


def decode_image(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Encoded image bytes -> (h, w, 3) uint8 RGB, or `ImageDecodeError` saying why not.

    Alpha is dropped, not composited: the colour channels are kept as stored, which is what
    OpenCV and TensorFlow (the decoders this replaced) did, so an opaque RGBA export (alpha
    255 everywhere, as in the plate photos that come as RGBA PNGs) gives exactly its pixels;
    compositing on a background would invent a colour for a photo with no real transparency.
    JPEGs decode with libjpeg's accurate integer IDCT, the same pixels as OpenCV and
    `tf.io.decode_jpeg(dct_method="INTEGER_ACCURATE")`.
    """
    return decode_detailed(data, max_pixels).pixels


def read_image(path: Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """`decode_image` of a file's bytes; `ImageDecodeError` also when it cannot be read."""
    return decode_detailed(_read(path), max_pixels).pixels


def decode_detailed(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> Decoded:
    """`decode_image` with the stored mode and the conversion applied (for validation)."""
    if ImageFile.LOAD_TRUNCATED_IMAGES:  # set by some other library: would fill, not reject
        raise RuntimeError("PIL.ImageFile.LOAD_TRUNCATED_IMAGES is on: truncated images decode")
    image = None
    try:
        image, sixteen_bit = _open(data, max_pixels)
        image.load()  # C decoders, which raise but never warn: outside the lock, in parallel
        if image.format == "PNG" and _PNG_END not in data[-4096:]:
            raise ImageDecodeError("truncated or corrupt (a PNG without its end chunk)")
        with _warnings_raised():  # a PNG's EXIF may follow its pixels: read after them
            orientation = int(image.getexif().get(ExifTags.Base.Orientation, 1) or 1)
        return _to_rgb(image, orientation, sixteen_bit)
    except ImageDecodeError:
        raise
    except Exception as err:  # untrusted bytes: Pillow raises many types on malformed data
        raise ImageDecodeError(f"truncated or corrupt ({type(err).__name__}: {err})") from None
    finally:
        if image is not None:
            image.close()


@contextmanager
def _warnings_raised() -> Iterator[None]:
    """Warnings raise inside (a warning while parsing means a damaged file); see the lock."""
    with _WARNINGS_LOCK, warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our limit decides
        yield


def _open(data: bytes, max_pixels: int) -> tuple[Image.Image, bool]:
    """(image with its header checked, stored with 16-bit samples)."""
    with _warnings_raised():
        try:
            image = Image.open(io.BytesIO(data), formats=FORMATS)
        except Image.DecompressionBombError as err:
            raise ImageTooLargeError(str(err)) from None
        except Image.UnidentifiedImageError:
            raise ImageDecodeError(f"not an image ({', '.join(FORMATS)} expected)") from None
    width, height = image.size
    if width * height > max_pixels:
        image.close()
        raise ImageTooLargeError(
            f"{width} x {height} pixels is more than {max_pixels:,}", (width, height)
        )
    # Pillow reads a 16-bit colour PNG as 8-bit RGB(A); only its raw mode tells
    sixteen_bit = image.mode in _SIXTEEN_BIT or any(";16" in str(t.args) for t in image.tile)
    return image, sixteen_bit


def _to_rgb(image: Image.Image, orientation: int, sixteen_bit: bool) -> Decoded:
    mode, steps = image.mode, []
    if orientation in range(2, 9):
        image = ImageOps.exif_transpose(image)
        steps.append("exif-rotated")
    if sixteen_bit:
        steps.append("16bit->8bit")
    if mode in _SIXTEEN_BIT:
        pixels = np.asarray(image)
        if pixels.size and (pixels.min() < 0 or pixels.max() > 65535):
            raise ImageDecodeError(f"unsupported pixel format ({mode} beyond 16 bits)")
        # the high byte, as Pillow reads 16-bit colour PNGs: 65535 -> 255, 32768 -> 128
        grey = (pixels.astype(np.uint32) >> 8).astype(np.uint8)
        steps.append("grey->rgb")
        return Decoded(np.repeat(grey[..., None], 3, axis=2), mode, "+".join(steps))
    if mode != "RGB":
        if mode not in _CONVERSIONS:
            raise ImageDecodeError(f"unsupported pixel format ({mode})")
        steps.append(_CONVERSIONS[mode])
        if mode in ("P", "PA"):  # through RGBA: a palette's transparency has no RGB colour
            image = image.convert("RGBA")
        image = image.convert("RGB")
    return Decoded(np.array(image, dtype=np.uint8), mode, "+".join(steps) or None)


def is_plain_jpeg(path: Path) -> bool:
    """A JPEG stored as colour (YCbCr) or grey with no EXIF rotation: `decode_image` adds no
    conversion to libjpeg's pixels, which TensorFlow's `INTEGER_ACCURATE` decoder gives too
    (checked on every real driving frame and by tests), so tf.data may decode it natively."""
    try:
        with _warnings_raised(), Image.open(path, formats=("JPEG",)) as image:
            orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
            return image.format == "JPEG" and image.mode in ("RGB", "L") and orientation == 1
    except Exception:  # anything odd takes the shared decoder's path, which will say what
        return False


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise ImageDecodeError(f"cannot be read ({err.strerror or type(err).__name__})") from None


@dataclass(frozen=True)
class ImageInfo:
    decodes: bool | None  # None: not tried, the image is too large to decode safely
    width: int | None = None  # None when unknown; as decoded (after an EXIF rotation)
    height: int | None = None
    oversized: bool = False  # more pixels than the task accepts: never decoded
    mode: str | None = None  # Pillow's mode of the stored image
    conversion: str | None = None  # what made it 8-bit RGB; None when stored so
    error: str | None = None  # why it does not decode


def inspect_image(path: Path, max_pixels: int) -> ImageInfo:
    """Header check, then a full decode by `decode_detailed`, the decode every stage uses."""
    try:
        decoded = decode_detailed(_read(path), max_pixels)
    except ImageTooLargeError as err:
        width, height = err.size or (None, None)
        return ImageInfo(decodes=None, width=width, height=height, oversized=True)
    except ImageDecodeError as err:
        return ImageInfo(decodes=False, error=str(err))
    height, width = decoded.pixels.shape[:2]
    return ImageInfo(
        True, width=width, height=height, mode=decoded.mode, conversion=decoded.conversion
    )


def inspect_images(
    root: Path,
    relative_paths: Iterable[str],
    workers: int,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> dict[str, ImageInfo]:
    """Inspect each distinct path under `root` on a thread pool (Pillow decodes without the
    GIL)."""
    unique = sorted(set(relative_paths))
    inspect = partial(inspect_image, max_pixels=max_pixels)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        infos = pool.map(inspect, (root / path for path in unique))
        return dict(zip(unique, track(infos, "checking images", total=len(unique)), strict=True))
