"""Plates augmentation, the textbook's four ways, on the train split only.

Each train image is written unchanged plus `copies` variants; a variant applies, each with
its own probability and in this order, a replicated border (plates get smaller), a crop
that keeps every plate whole (plates get larger), a brightness change and a small
rotation. Boxes move with the very affine the pixels moved with (`boxes.transform`); a
box left mostly outside the image is dropped and the reason recorded, never silently.
Val and test images are copied byte for byte. The output is a YOLO folder:
`images/`, `labels/` and `classes.txt`.
"""

from __future__ import annotations

import math
import os
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pandas as pd

from pipeline.core.errors import DatasetError
from pipeline.core.plots import new_figure, save_figure
from pipeline.core.progress import track
from pipeline.tasks.plates import boxes as bx
from pipeline.tasks.plates.params import PlatesAugmentParams

CLASS_NAME = "plate"
OPS = ("border", "crop", "brightness", "rotation")
OUT_OF_IMAGE = {  # why a box left the image, by the step that moved it
    "original": "outside the image",
    "border": "bordered out of the image",
    "crop": "cropped out of the image",
    "rotation": "rotated out of the image",
}
WIDTH_BINS = np.linspace(0, 1, 41)  # plate width as a fraction of the image width
QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)


def read_rgb(path: Path) -> np.ndarray:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:  # validated files only reach here; a change on disk since then is fatal
        raise DatasetError(f"plates: cannot decode {path}; rerun `dvc repro`")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


# Pixel boxes are in edge coordinates (the image spans [0, width]), so resizing by s is
# exactly x -> s * x, as cv2.resize does to the picture; every matrix below is in them.


def border(
    image: np.ndarray, sides: tuple[float, float, float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """Replicated border of (left, top, right, bottom) fractions of the sides, resized back."""
    height, width = image.shape[:2]
    left, top, right, bottom = (
        round(fraction * side) for fraction, side in zip(sides, (width, height) * 2, strict=True)
    )
    padded = cv2.copyMakeBorder(image, top, bottom, left, right, cv2.BORDER_REPLICATE)
    sx, sy = width / padded.shape[1], height / padded.shape[0]
    matrix = np.array([[sx, 0, left * sx], [0, sy, top * sy]], np.float64)
    return cv2.resize(padded, (width, height), interpolation=cv2.INTER_AREA), matrix


def crop(
    image: np.ndarray, xyxy: np.ndarray, fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """A crop of the image's shape holding every box whole, placed at random, resized back.

    The side `fraction` grows as needed (up to the whole image) so that no plate is cut.
    """
    height, width = image.shape[:2]
    kept = bx.clip(xyxy, width, height)
    if len(kept):
        x1, y1 = np.floor(kept[:, :2].min(axis=0)).astype(int)
        x2, y2 = np.ceil(kept[:, 2:].max(axis=0)).astype(int)
        fraction = max(fraction, (x2 - x1) / width, (y2 - y1) / height)
    else:  # a negative image: any crop will do
        x1, y1, x2, y2 = width, height, 0, 0
    cw = min(width, math.ceil(min(fraction, 1.0) * width))
    ch = min(height, math.ceil(min(fraction, 1.0) * height))
    x0 = int(rng.integers(max(0, x2 - cw), min(x1, width - cw) + 1))
    y0 = int(rng.integers(max(0, y2 - ch), min(y1, height - ch) + 1))
    sx, sy = width / cw, height / ch
    matrix = np.array([[sx, 0, -x0 * sx], [0, sy, -y0 * sy]], np.float64)
    window = image[y0 : y0 + ch, x0 : x0 + cw]
    return cv2.resize(window, (width, height), interpolation=cv2.INTER_LINEAR), matrix


def brighten(image: np.ndarray, factor: float) -> np.ndarray:
    """Scale the V channel of HSV (RGB in, RGB out)."""
    hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV).astype(np.float32)
    hsv[..., 2] = np.clip(hsv[..., 2] * factor, 0, 255)
    return cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB)


def rotate(image: np.ndarray, degrees: float) -> tuple[np.ndarray, np.ndarray]:
    """Rotation about the image centre (counter-clockwise for positive degrees).

    OpenCV's pixel centres sit at integer indices, so the picture turns about
    ((w-1)/2, (h-1)/2) while the edge-coordinate boxes turn about (w/2, h/2): one point.
    """
    height, width = image.shape[:2]
    pixels = cv2.getRotationMatrix2D(((width - 1) / 2, (height - 1) / 2), degrees, 1.0)
    turned = cv2.warpAffine(image, pixels, (width, height), borderMode=cv2.BORDER_REPLICATE)
    return turned, cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)


def keep_visible(
    moved: np.ndarray, width: int, height: int, min_visible: float, step: str
) -> tuple[np.ndarray, list[str]]:
    """Moved boxes clipped to the image, less those mostly outside it, and why they went."""
    moved = bx.as_boxes(moved)
    clipped = bx.clip(moved, width, height)
    full, inside = bx.area(moved), bx.area(clipped)
    visible = np.divide(inside, full, out=np.zeros_like(inside), where=full > 0)
    sized = (clipped[:, 2] > clipped[:, 0]) & (clipped[:, 3] > clipped[:, 1])
    keep = sized & (visible >= min_visible)
    reasons = [
        OUT_OF_IMAGE[step] if full[i] > 0 else f"zero width or height ({step})"
        for i in np.flatnonzero(~keep)
    ]
    return clipped[keep], reasons


def _variant(
    image: np.ndarray, xyxy: np.ndarray, params: PlatesAugmentParams, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    """One augmented copy: (image, boxes, applied ops, dropped-box reasons)."""
    height, width = image.shape[:2]
    ops: list[str] = []
    dropped: list[str] = []

    def moved(step: str, matrix: np.ndarray) -> np.ndarray:
        ops.append(step)
        kept, reasons = keep_visible(
            bx.transform(xyxy, matrix), width, height, params.min_visible, step
        )
        dropped.extend(reasons)
        return kept

    if rng.random() < params.border_probability:
        sides = rng.uniform(0, params.max_border, 4)
        image, matrix = border(image, (sides[0], sides[1], sides[2], sides[3]))
        xyxy = moved("border", matrix)
    if rng.random() < params.crop_probability:
        image, matrix = crop(image, xyxy, float(rng.uniform(params.min_crop, 1)), rng)
        xyxy = moved("crop", matrix)
    if rng.random() < params.brightness_probability:
        image = brighten(image, float(rng.uniform(1 - params.brightness, 1 + params.brightness)))
        ops.append("brightness")
    if rng.random() < params.rotation_probability:
        image, matrix = rotate(image, float(rng.uniform(-params.max_rotation, params.max_rotation)))
        xyxy = moved("rotation", matrix)
    return image, xyxy, ops, dropped


def _copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _write_label(path: Path, yolo: list[list[float]]) -> None:
    path.write_text("".join(f"0 {' '.join(f'{v:.6f}' for v in box)}\n" for box in yolo))


def _yolo(xyxy: np.ndarray, width: int, height: int) -> list[list[float]]:
    """Pixel boxes as YOLO lists rounded as the label file holds them."""
    return [[round(float(v), 6) for v in box] for box in bx.xyxy_to_yolo(xyxy, width, height)]


def _write(
    out_dir: Path,
    raw_dir: Path,
    name: str,
    row: pd.Series,
    image: np.ndarray | None,
    xyxy: np.ndarray,
    size: tuple[int, ...],
) -> dict[str, Any]:
    """One image and its label; `image` None links the source file unchanged."""
    height, width = size
    if image is None:
        target = f"images/{name}{Path(row['image']).suffix or '.jpg'}"
        _copy(raw_dir / row["image"], out_dir / target)
    else:
        target = f"images/{name}.jpg"
        cv2.imwrite(str(out_dir / target), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    yolo = _yolo(xyxy, width, height)
    _write_label(out_dir / f"labels/{name}.txt", yolo)
    return {
        "image": target,
        "label": f"labels/{name}.txt",
        "split": row["split"],
        "boxes": yolo,
        "n_boxes": len(yolo),
        "source": row["image"],
        "width": width,
        "height": height,
    }


def augment(
    valid: pd.DataFrame, raw_dir: Path, out_dir: Path, params: PlatesAugmentParams, seed: int
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Write augmented train images and untouched val/test images; return manifest and report."""
    rng = np.random.default_rng(seed)
    for folder in ("images", "labels"):
        (out_dir / folder).mkdir()
    (out_dir / "classes.txt").write_text(CLASS_NAME + "\n")
    rows: list[dict[str, Any]] = []
    train = valid[valid["split"] == "train"]
    for index, row in track(list(train.iterrows()), "plates: augmenting"):
        image = read_rgb(raw_dir / row["image"])
        size = image.shape[:2]
        xyxy, dropped = _original(row, size, params)
        name = f"train_{index:06d}"
        item = _write(out_dir, raw_dir, f"{name}_0", row, None, xyxy, size)
        rows.append({**item, "copy": 0, "ops": [], "dropped": dropped})
        for copy in range(1, params.copies + 1):
            varied, moved, ops, lost = _variant(image, xyxy, params, rng)
            item = _write(out_dir, raw_dir, f"{name}_{copy}", row, varied, moved, size)
            rows.append({**item, "copy": copy, "ops": ops, "dropped": lost})
    for index, row in valid[valid["split"].isin(["val", "test"])].iterrows():
        size = read_rgb(raw_dir / row["image"]).shape[:2]
        xyxy, dropped = _original(row, size, params)
        item = _write(out_dir, raw_dir, f"{row['split']}_{index:06d}", row, None, xyxy, size)
        rows.append({**item, "copy": 0, "ops": [], "dropped": dropped})
    manifest = pd.DataFrame(rows)
    return manifest, _report(train, manifest, params)


def _original(
    row: pd.Series, size: tuple[int, ...], params: PlatesAugmentParams
) -> tuple[np.ndarray, list[str]]:
    """A manifest row's boxes in pixels, cut to the image (validation tolerates rounding)."""
    height, width = size
    xyxy = bx.yolo_to_xyxy(bx.as_boxes(row["boxes"]), width, height)
    return keep_visible(xyxy, width, height, params.min_visible, "original")


def _widths(manifest: pd.DataFrame) -> np.ndarray:
    return np.asarray([box[2] for boxes in manifest["boxes"] for box in boxes], np.float64)


def _report(
    train: pd.DataFrame, manifest: pd.DataFrame, params: PlatesAugmentParams
) -> dict[str, Any]:
    after = manifest[manifest["split"] == "train"]
    variants = after[after["copy"] >= 1]
    has = {op: variants["ops"].map(lambda ops, op=op: op in ops) for op in OPS}
    groups = {
        "before": _widths(train),
        "after": _widths(after),
        "border_only": _widths(variants[has["border"] & ~has["crop"]]),
        "crop_only": _widths(variants[has["crop"] & ~has["border"]]),
    }
    return {
        "train_images_before": len(train),
        "train_images_after": len(after),
        "variants": len(variants),
        "ops": {op: int(has[op].sum()) for op in OPS},
        "boxes_before": int(groups["before"].size),
        "boxes_after": int(groups["after"].size),
        "dropped": dict(Counter(reason for reasons in after["dropped"] for reason in reasons)),
        "plate_width": {
            "bin_edges": WIDTH_BINS.round(4).tolist(),
            "histograms": {
                group: np.histogram(widths.clip(0, 1), WIDTH_BINS)[0].tolist()
                for group, widths in groups.items()
            },
            "quantiles": {group: _quantiles(widths) for group, widths in groups.items()},
        },
        "examples": _examples(variants, params.grid_images),
    }


def _quantiles(widths: np.ndarray) -> dict[str, float]:
    if not widths.size:
        return {}
    return {f"q{round(q * 100)}": round(float(np.quantile(widths, q)), 4) for q in QUANTILES}


def _examples(variants: pd.DataFrame, count: int) -> list[dict[str, Any]]:
    """Up to `count` variants spread over the train set, those with plates first."""
    plated = variants["n_boxes"] > 0
    picks = _spread(variants[plated], count)
    picks = pd.concat([picks, _spread(variants[~plated], count - len(picks))])
    return [
        {"image": row.image, "boxes": row.boxes, "ops": list(row.ops)} for row in picks.itertuples()
    ]


def _spread(rows: pd.DataFrame, count: int) -> pd.DataFrame:
    """`count` rows evenly spaced (all of them if fewer)."""
    if len(rows) <= count:
        return rows
    return rows.iloc[np.linspace(0, len(rows) - 1, count).round().astype(int)]


def write_reports(report: dict[str, Any], folder: Path, processed_dir: Path) -> None:
    """A grid of augmented samples with their boxes, and plate widths before vs after."""
    _write_samples(report["examples"], folder / "augmented_samples.png", processed_dir)
    widths = report["plate_width"]
    edges = np.array(widths["bin_edges"])
    figure = new_figure(9, 4.5)
    axes = figure.subplots()
    labels = {
        "before": "train before",
        "after": "train after (all)",
        "border_only": "variants with border, no crop",
        "crop_only": "variants with crop, no border",
    }
    used = [i for counts in widths["histograms"].values() for i, n in enumerate(counts) if n]
    right = min(1.0, edges[max(used, default=len(edges) - 2) + 1] + 0.05)
    for group, counts in widths["histograms"].items():
        total = max(sum(counts), 1)
        shares = np.asarray(counts) / total
        median = widths["quantiles"][group].get("q50")
        label = labels.get(group, group) + (f" (median {median:.2f})" if median else "")
        axes.stairs(shares, edges, label=label, linewidth=1.8)
    axes.set(
        xlabel="plate width / image width",
        ylabel="share of boxes",
        title="Plate widths: a border makes plates smaller, a crop larger",
        xlim=(0, right),
    )
    axes.legend()
    save_figure(figure, folder / "plate_sizes.png")


def _write_samples(examples: list[dict[str, Any]], target: Path, processed_dir: Path) -> None:
    from matplotlib.patches import Rectangle

    cols = max(1, min(4, len(examples)))
    rows = max(1, math.ceil(len(examples) / cols))
    figure = new_figure(3.2 * cols, 2.8 * rows)
    grid = figure.subplots(rows, cols, squeeze=False).ravel()
    for axes in grid:
        axes.axis("off")
    if not examples:
        grid[0].text(0.5, 0.5, "no augmented images", ha="center", va="center")
    for axes, example in zip(grid, examples, strict=False):
        image = read_rgb(processed_dir / example["image"])
        height, width = image.shape[:2]
        axes.imshow(image)
        for x1, y1, x2, y2 in bx.yolo_to_xyxy(example["boxes"], width, height):
            axes.add_patch(
                Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, edgecolor="red", linewidth=1.5)
            )
        axes.set_title(", ".join(example["ops"]) or "unchanged", fontsize=9)
    save_figure(figure, target)
