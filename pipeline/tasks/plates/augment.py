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

import os
import shutil
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pandas as pd

from pipeline.core.layout import TaskPaths
from pipeline.core.progress import track
from pipeline.tasks.plates import boxes as bx
from pipeline.tasks.plates.augment_report import report
from pipeline.tasks.plates.images import read_rgb
from pipeline.tasks.plates.params import PlatesAugmentParams
from pipeline.tasks.plates.transforms import keep_visible, variant

CLASS_NAME = "plate"


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
    valid: pd.DataFrame, params: PlatesAugmentParams, paths: TaskPaths, seed: int
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Write augmented train images and untouched val/test images into
    `paths.processed_dir`; return manifest and report."""
    raw_dir, out_dir = paths.raw_dir, paths.processed_dir
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
            varied, moved, ops, lost = variant(image, xyxy, params, rng)
            item = _write(out_dir, raw_dir, f"{name}_{copy}", row, varied, moved, size)
            rows.append({**item, "copy": copy, "ops": ops, "dropped": lost})
    for index, row in valid[valid["split"].isin(["val", "test"])].iterrows():
        size = read_rgb(raw_dir / row["image"]).shape[:2]
        xyxy, dropped = _original(row, size, params)
        item = _write(out_dir, raw_dir, f"{row['split']}_{index:06d}", row, None, xyxy, size)
        rows.append({**item, "copy": 0, "ops": [], "dropped": dropped})
    manifest = pd.DataFrame(rows)
    return manifest, report(train, manifest, params)


def _original(
    row: pd.Series, size: tuple[int, ...], params: PlatesAugmentParams
) -> tuple[np.ndarray, list[str]]:
    """A manifest row's boxes in pixels, cut to the image (validation tolerates rounding)."""
    height, width = size
    xyxy = bx.yolo_to_xyxy(bx.as_boxes(row["boxes"]), width, height)
    return keep_visible(xyxy, width, height, params.min_visible, "original")
