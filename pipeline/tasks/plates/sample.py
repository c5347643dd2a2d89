"""Synthetic Vietnamese motorbike plates in a dim tunnel, written as a labelImg YOLO folder.

Each photo is a dark, noisy tunnel scene with light streaks and blurred "motorbike" shapes;
most carry one plate, a few carry two, and a share carry none. Most plates are two-line
motorbike plates (`59-X1` over `123.45`), a share one-line car plates (`51F-123.45`); each
plate's text is written in the label's sidecar `<stem>.plate.txt` (formats/text.py).
The plate is warped with a small perspective jitter and its YOLO box is the enclosing
rectangle of the warped corners. Text is what tells a plate from the plain light panels that
also appear, so a detector has to learn more than "bright rectangle".
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from pipeline.core.progress import track
from pipeline.tasks.plates.formats.text import (
    LETTERS,
    SIDECAR_SUFFIX,
    canonical,
    sidecar_lines,
)
from pipeline.tasks.plates.params import (
    ASPECT,
    JITTER,
    ONE_LINE_ASPECT,
    ONE_LINE_WIDTH,
    PlatesSampleParams,
)

CLASS_NAME = "plate"
FONTS = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX)
CANVAS_HEIGHT = 120  # plates are drawn at this height, then shrunk to their size in the photo

Box = tuple[float, float, float, float]  # x_min, y_min, x_max, y_max in pixels


def plate_lines(rng: np.random.Generator, one_line: bool) -> list[str]:
    """Text as printed: motorbike `59-X1` over `123.45` (or `1234`); car `51F-123.45`."""

    def digits(k: int) -> str:
        return "".join(str(d) for d in rng.integers(0, 10, k))

    number = f"{digits(3)}.{digits(2)}" if rng.random() < 0.7 else digits(4)
    if one_line:
        return [f"{rng.integers(11, 100)}{LETTERS[rng.integers(len(LETTERS))]}-{number}"]
    return [
        f"{rng.integers(11, 100)}-{LETTERS[rng.integers(len(LETTERS))]}{rng.integers(1, 10)}",
        number,
    ]


def render_plate(
    rng: np.random.Generator, aspect: float, one_line: bool = False
) -> tuple[np.ndarray, str]:
    """A frontal plate (light background, dark border, centred dark text) and its canonical
    text (`59X1-12345`, as GreenParking writes it)."""
    h = CANVAS_HEIGHT
    w = round(h * aspect)
    paint = rng.integers(195, 250) + rng.integers(-8, 9, 3)
    ink = tuple(int(v) for v in rng.integers(10, 60) + rng.integers(-5, 6, 3))
    rim, band = 2, 2 + int(rng.integers(3, 6))  # thin light rim outside a dark border band
    plate = np.empty((h, w, 3), np.uint8)
    plate[:] = paint
    plate[rim:-rim, rim:-rim] = ink
    plate[band:-band, band:-band] = paint
    font = FONTS[rng.integers(len(FONTS))]
    thickness = int(rng.integers(3, 6))
    lines = plate_lines(rng, one_line)
    for line, text in enumerate(lines):
        (tw, th), _ = cv2.getTextSize(text, font, 1.0, thickness)
        scale = min(0.8 * w / tw, (0.6 if one_line else 0.34) * h / th)
        (tw, th), _ = cv2.getTextSize(text, font, scale, thickness)
        baseline_y = round(h * (0.8 if one_line else 0.43 if line == 0 else 0.85))
        cv2.putText(plate, text, ((w - tw) // 2, baseline_y), font, scale, ink, thickness)
    return plate, canonical(" ".join(lines))


def _background(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """Dim tunnel: coloured base, gradient, vignette and a few blurred light streaks."""
    xs = (np.arange(width, dtype=np.float32) / width - 0.5)[None, :]
    ys = (np.arange(height, dtype=np.float32) / height - 0.5)[:, None]
    angle = rng.uniform(0, 2 * np.pi)
    ramp = 0.7 + 0.6 * (float(np.cos(angle)) * xs + float(np.sin(angle)) * ys)
    vignette = 1 - 1.2 * (xs**2 + ys**2)
    base = rng.uniform(15, 70) * rng.uniform(0.6, 1.4, 3)
    shade = ramp * vignette
    image = cv2.merge([shade * float(channel) for channel in base])
    light = rng.uniform(0.6, 1.0, 3) * rng.uniform(80, 180)  # sodium-orange to cold-white lamps
    for _ in range(rng.integers(1, 5)):
        start = (int(rng.integers(0, width)), int(rng.integers(0, height // 2)))
        end = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        cv2.line(image, start, end, light.tolist(), int(rng.integers(1, 6)))
    return cv2.GaussianBlur(image, (0, 0), 2.0)


def _draw_bike(rng: np.random.Generator, image: np.ndarray, box: Box) -> None:
    """Blurred rear of a motorbike around `box`: body, mudguard, plate holder, tail light.

    Also drawn with no plate on it, so the bike alone is not the signal.
    """
    x0, y0, x1, y1 = box
    cx, w, h = (x0 + x1) / 2, x1 - x0, y1 - y0
    layer = image.copy()
    grey, saturation = rng.uniform(15, 90), rng.uniform(0.0, 0.8)
    body = (grey * (1 + saturation * rng.uniform(-1, 1, 3))).tolist()
    axes = (int(w * rng.uniform(0.9, 1.6)), int(h * rng.uniform(1.5, 2.6)))
    center = (int(cx + rng.normal(0, 0.1 * w)), int(y0 - h * rng.uniform(0.0, 0.6)))
    cv2.ellipse(layer, center, axes, rng.uniform(-15, 15), 0, 360, body, -1)
    guard = (int(cx), int(y1 + h * rng.uniform(0.3, 0.8)))
    dark = rng.uniform(5, 30, 3).tolist()
    cv2.ellipse(layer, guard, (int(0.45 * w), int(0.9 * h)), 0, 0, 360, dark, -1)
    holder = rng.uniform(5, 35, 3).tolist()
    top_left = (int(x0 - 0.15 * w), int(y0 - 0.15 * h))
    bottom_right = (int(x1 + 0.15 * w), int(y1 + 0.25 * h))
    cv2.rectangle(layer, top_left, bottom_right, holder, -1)
    tail = (int(cx), int(y0 - h * rng.uniform(0.4, 0.8)))
    red = [rng.uniform(20, 60), rng.uniform(20, 60), rng.uniform(120, 220)]
    cv2.ellipse(layer, tail, (max(2, int(0.3 * w)), max(1, int(0.12 * h))), 0, 0, 360, red, -1)
    image[:] = cv2.GaussianBlur(layer, (0, 0), rng.uniform(1.0, 2.5))


def _place(
    rng: np.random.Generator,
    params: PlatesSampleParams,
    taken: list[Box],
    aspect: tuple[float, float] = ASPECT,
) -> np.ndarray:
    """Corners (clockwise from top-left) of a jittered plate quad that fits inside the image
    and overlaps no box in `taken`."""
    width, height = params.width, params.height
    for _ in range(100):
        pw = rng.uniform(params.min_plate_width, params.max_plate_width) * width
        pw *= ONE_LINE_WIDTH if aspect == ONE_LINE_ASPECT else 1.0  # as tall text as two-line
        ph = pw / rng.uniform(*aspect)
        jitter = JITTER * pw
        x = rng.uniform(jitter, width - pw - jitter)
        y = rng.uniform(jitter, height - ph - jitter)
        corners = np.array([[x, y], [x + pw, y], [x + pw, y + ph], [x, y + ph]], np.float32)
        corners += rng.uniform(-jitter, jitter, (4, 2)).astype(np.float32)
        box = _enclosing_box(corners, width, height)
        if not any(_overlaps(box, other) for other in taken):
            return corners
    raise ValueError("no room for another plate: lower max_plate_width or two_plate_fraction")


def _enclosing_box(corners: np.ndarray, width: int, height: int) -> Box:
    x0, y0 = np.clip(corners.min(axis=0), 0, None)
    x1, y1 = corners.max(axis=0)
    return float(x0), float(y0), float(min(x1, width)), float(min(y1, height))


def _overlaps(a: Box, b: Box, gap: float = 4.0) -> bool:
    return a[0] < b[2] + gap and b[0] < a[2] + gap and a[1] < b[3] + gap and b[1] < a[3] + gap


def _paste(image: np.ndarray, patch: np.ndarray, corners: np.ndarray) -> None:
    """Warp `patch` onto the quad `corners` (pixel-edge coordinates) with an antialiased edge.

    Only the quad's enclosing rectangle is warped and blended: a full-frame warp is most of
    the rendering time otherwise.
    """
    h, w = patch.shape[:2]
    x0, y0 = np.floor(corners.min(axis=0)).astype(int)
    x1, y1 = np.ceil(corners.max(axis=0)).astype(int) + 1
    roi = image[y0:y1, x0:x1]
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32) - 0.5  # edges -> pixel centres
    matrix = cv2.getPerspectiveTransform(src, corners - np.array([x0, y0], np.float32) - 0.5)
    size = (roi.shape[1], roi.shape[0])
    warped = cv2.warpPerspective(patch.astype(np.float32), matrix, size)
    alpha = cv2.warpPerspective(np.ones((h, w), np.float32), matrix, size)
    roi[:] = roi + (warped - roi) * cv2.merge([alpha] * 3)


def _plate_patch(
    rng: np.random.Generator, corners: np.ndarray, one_line: bool
) -> tuple[np.ndarray, str]:
    """A plate rendered large, then shrunk with area averaging to about its size on screen;
    and its canonical text."""
    w = max(8, round(float(np.linalg.norm(corners[1] - corners[0]))))
    h = max(6, round(float(np.linalg.norm(corners[3] - corners[0]))))
    plate, text = render_plate(rng, aspect=w / h, one_line=one_line)
    return cv2.resize(plate, (w, h), interpolation=cv2.INTER_AREA), text


def _distractor(rng: np.random.Generator, image: np.ndarray) -> None:
    """A plain light panel (sign, lamp housing): bright and rectangular, but wide and textless."""
    height, width = image.shape[:2]
    w = int(rng.uniform(0.1, 0.3) * width)
    h = min(height - 1, max(3, int(w / rng.uniform(2.0, 5.0))))
    x, y = int(rng.integers(0, width - w)), int(rng.integers(0, height - h))
    colour = rng.uniform(150, 240) + rng.uniform(-25, 25, 3)
    cv2.rectangle(image, (x, y), (x + w, y + h), colour.tolist(), -1)


def _photo(
    rng: np.random.Generator, params: PlatesSampleParams, n_plates: int
) -> tuple[np.ndarray, list[Box], list[str]]:
    """One finished photo (uint8 BGR), its plate boxes in pixels and their texts."""
    size = (params.width, params.height)
    image = _background(rng, *size)
    quads: list[np.ndarray] = []
    boxes: list[Box] = []
    one_line = [bool(rng.random() < params.one_line_fraction) for _ in range(n_plates)]
    for single in one_line:
        quads.append(_place(rng, params, boxes, ONE_LINE_ASPECT if single else ASPECT))
        boxes.append(_enclosing_box(quads[-1], *size))
    plateless = rng.random() < (0.7 if n_plates == 0 else 0.2)  # bike seen from the side, etc.
    extra = [_enclosing_box(_place(rng, params, []), *size)] if plateless else []
    for box in extra + boxes:
        _draw_bike(rng, image, box)
    if rng.random() < params.distractor_fraction:
        _distractor(rng, image)
    texts = []
    for corners, single in zip(quads, one_line, strict=True):
        patch, text = _plate_patch(rng, corners, single)
        _paste(image, patch, corners)
        texts.append(text)
    image = cv2.GaussianBlur(image, (0, 0), rng.uniform(0.3, 1.0)) * rng.uniform(0.55, 1.0)
    image += (rng.random(image.shape, np.float32) - 0.5) * rng.uniform(7, 24)  # sensor noise
    return cv2.convertScaleAbs(np.clip(image, 0, 255, out=image)), boxes, texts  # to uint8


def _yolo_lines(boxes: list[Box], width: int, height: int) -> str:
    lines = []
    for x0, y0, x1, y1 in boxes:
        centre = ((x0 + x1) / 2 / width, (y0 + y1) / 2 / height)
        size = ((x1 - x0) / width, (y1 - y0) / height)
        lines.append("0 " + " ".join(f"{v:.6f}" for v in (*centre, *size)) + "\n")
    return "".join(lines)


def _plate_counts(rng: np.random.Generator, params: PlatesSampleParams) -> list[int]:
    """Plates per photo: exactly round(images * negative_fraction) photos with none, and
    round(positives * two_plate_fraction) with two, shuffled."""
    n = params.images
    negatives = round(n * params.negative_fraction)
    doubles = round((n - negatives) * params.two_plate_fraction)
    counts = np.array([0] * negatives + [2] * doubles + [1] * (n - negatives - doubles))
    return rng.permutation(counts).tolist()


def write_sample(out_dir: Path, params: PlatesSampleParams, seed: int) -> None:
    """Write the dataset into out_dir (which exists and is empty)."""
    rng = np.random.default_rng(seed)
    counts = _plate_counts(rng, params)
    photo_rngs = rng.spawn(params.images)  # one stream per photo: a change stays local
    digits = max(4, len(str(params.images)))
    (out_dir / "classes.txt").write_text(f"{CLASS_NAME}\n", encoding="utf-8")
    for index in track(range(params.images), "plates: rendering"):
        stem = f"xemay_{index + 1:0{digits}d}"
        image, boxes, texts = _photo(photo_rngs[index], params, counts[index])
        ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, params.jpeg_quality])
        if not ok:
            raise RuntimeError(f"could not encode {stem}.jpg")
        (out_dir / f"{stem}.jpg").write_bytes(jpeg.tobytes())
        (out_dir / f"{stem}.txt").write_text(
            _yolo_lines(boxes, params.width, params.height), encoding="utf-8"
        )
        if texts:  # the plate-text sidecar (formats/text.py), one line per label line
            (out_dir / f"{stem}{SIDECAR_SUFFIX}").write_text(
                sidecar_lines(list(texts)), encoding="utf-8"
            )
