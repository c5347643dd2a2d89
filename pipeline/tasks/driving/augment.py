"""Driving augmentation, the textbook's recipe, on the train split only.

Straight driving is down-sampled first (the simulator's many zero angles would teach the
model to go straight); then each kept frame is written unchanged plus `copies` variants,
each from a random camera (side cameras with ±`steering_correction`), maybe flipped
(angle negated), with random brightness and a horizontal shift (angle moved by
`angle_per_pixel` per pixel, a property of the camera: see camera.py). Val and test frames
are copied byte for byte.
Cropping, resizing and YUV happen in the model (see preprocess.py).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pandas as pd

from pipeline.core.errors import DatasetError
from pipeline.core.images import ImageDecodeError, read_image
from pipeline.core.io import write_json
from pipeline.core.layout import TaskPaths
from pipeline.core.plots import new_figure, save_figure
from pipeline.core.progress import track
from pipeline.tasks.driving.camera import angle_per_pixel
from pipeline.tasks.driving.params import DrivingAugmentParams

CAMERA_SIGN = {"center": 0, "left": 1, "right": -1}  # left camera: steer more to the right


def flip(image: np.ndarray, angle: float) -> tuple[np.ndarray, float]:
    return cv2.flip(image, 1), -angle


def shift(
    image: np.ndarray, angle: float, pixels: float, per_pixel: float
) -> tuple[np.ndarray, float]:
    """Move the picture `pixels` to the right; the road then lies further right, so steer right."""
    height, width = image.shape[:2]
    matrix = np.array([[1, 0, pixels], [0, 1, 0]], np.float32)
    moved = cv2.warpAffine(image, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE)
    return moved, angle + pixels * per_pixel


def brighten(image: np.ndarray, factor: float) -> np.ndarray:
    """Scale the V channel of HSV (RGB in, RGB out)."""
    hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV).astype(np.float32)
    hsv[..., 2] = np.clip(hsv[..., 2] * factor, 0, 255)
    return cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB)


def downsample_straight(
    train: pd.DataFrame, params: DrivingAugmentParams, seed: int
) -> pd.DataFrame:
    straight = train["steering"].abs() < params.zero_threshold
    keep = np.random.default_rng(seed).random(len(train)) < params.zero_keep_fraction
    return train[~straight.to_numpy() | keep]


def _variant(
    row: pd.Series, raw_dir: Path, params: DrivingAugmentParams, rng: np.random.Generator
) -> tuple[np.ndarray, dict[str, Any]]:
    # a recording of our own drive server lists the centre frame for every camera
    cameras = [c for c in CAMERA_SIGN if c == "center" or row[c] != row["center"]]
    camera = str(rng.choice(cameras))
    try:
        image = read_image(raw_dir / row[camera])
    except ImageDecodeError as err:  # validated files only reach here: changed on disk since
        raise DatasetError(
            f"driving: cannot decode {row[camera]} ({err}); rerun `dvc repro`"
        ) from None
    angle = float(row["steering"]) + CAMERA_SIGN[camera] * params.steering_correction
    flipped = bool(rng.random() < params.flip_probability)
    if flipped:
        image, angle = flip(image, angle)
    factor = float(rng.uniform(1 - params.brightness, 1 + params.brightness))
    image = brighten(image, factor)
    pixels = float(rng.uniform(-params.shift_pixels, params.shift_pixels))
    image, angle = shift(image, angle, pixels, float(params.angle_per_pixel))
    info = {"camera": camera, "flipped": flipped, "shift_px": pixels, "brightness": factor}
    return image, {**info, "steering": float(np.clip(angle, -1, 1)), "source": row[camera]}


def _copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def augment(
    valid: pd.DataFrame, params: DrivingAugmentParams, paths: TaskPaths, seed: int
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Write augmented train frames and untouched val/test frames into
    `paths.processed_dir`; return manifest and report."""
    raw_dir, out_dir = paths.raw_dir, paths.processed_dir
    per_pixel = angle_per_pixel(params.angle_per_pixel, raw_dir)
    print(f"driving: angle_per_pixel {per_pixel.value:g} ({per_pixel.source})", file=sys.stderr)
    params = params.model_copy(update={"angle_per_pixel": per_pixel.value})
    rng = np.random.default_rng(seed)
    (out_dir / "IMG").mkdir()
    train = valid[valid["split"] == "train"]
    kept = downsample_straight(train, params, seed)
    rows: list[dict[str, Any]] = []
    unchanged = {"camera": "center", "flipped": False, "shift_px": 0.0, "brightness": 1.0}
    for index, row in track(list(kept.iterrows()), "driving: augmenting"):
        name = f"IMG/train_{index:06d}_0.jpg"
        _copy(raw_dir / row["center"], out_dir / name)
        rows.append(
            {
                "image": name,
                "split": "train",
                **unchanged,
                "steering": float(row["steering"]),
                "source": row["center"],
            }
        )
        for copy in range(1, params.copies + 1):
            image, info = _variant(row, raw_dir, params, rng)
            name = f"IMG/train_{index:06d}_{copy}.jpg"
            cv2.imwrite(str(out_dir / name), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
            rows.append({"image": name, "split": "train", **info})
    for index, row in valid[valid["split"].isin(["val", "test"])].iterrows():
        name = f"IMG/{row['split']}_{index:06d}.jpg"
        _copy(raw_dir / row["center"], out_dir / name)
        rows.append(
            {
                "image": name,
                "split": row["split"],
                **unchanged,
                "steering": float(row["steering"]),
                "source": row["center"],
            }
        )
    manifest = pd.DataFrame(rows)
    after = manifest.loc[manifest["split"] == "train", "steering"]
    report = _report(train["steering"], after, params)
    return manifest, {
        **report,
        "angle_per_pixel": per_pixel.value,
        "angle_source": per_pixel.source,
    }


def _report(before: pd.Series, after: pd.Series, params: DrivingAugmentParams) -> dict[str, Any]:
    edges = np.linspace(-1, 1, params.histogram_bins + 1)
    return {
        "bin_edges": edges.round(4).tolist(),
        "before": np.histogram(before.clip(-1, 1), edges)[0].tolist(),
        "after": np.histogram(after.clip(-1, 1), edges)[0].tolist(),
        "train_rows_before": len(before),
        "train_images_after": len(after),
        "straight_share_before": float((before.abs() < params.zero_threshold).mean()),
        "straight_share_after": float((after.abs() < params.zero_threshold).mean()),
    }


def histogram_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of the before/after histogram for a DVC plot."""
    edges = np.array(report["bin_edges"])
    centres = ((edges[:-1] + edges[1:]) / 2).round(3)
    return [
        {"steering": float(c), "count": int(n), "when": when}
        for when in ("before", "after")
        for c, n in zip(centres, report[when], strict=True)
    ]


def write_augment_reports(report: dict[str, Any], paths: TaskPaths) -> None:
    """The histogram as DVC plot rows and as a figure (the images are not needed)."""
    folder = paths.reports_dir
    write_json(folder / "steering_histogram.json", histogram_rows(report))
    edges = np.array(report["bin_edges"])
    centres, width = (edges[:-1] + edges[1:]) / 2, edges[1] - edges[0]
    figure = new_figure(9, 4)
    axes = figure.subplots()
    axes.bar(centres - width / 4, report["before"], width / 2, label="before (train split)")
    axes.bar(centres + width / 4, report["after"], width / 2, label="after augmentation")
    axes.set(xlabel="steering angle", ylabel="frames", title="Steering angles before and after")
    axes.legend()
    save_figure(figure, folder / "steering_histogram.png")
