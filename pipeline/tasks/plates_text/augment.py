"""Plate crops for the recogniser: cut with the true boxes, made one-line, written as PNGs.

val/test crops are the boxes as they are; each train crop also gets `copies` variants
(jittered box corners = a small perspective change and rotation, brightness, blur), and
`synthetic` rendered plates (the plates sample's renderer, degraded like a camera crop)
can be added to the train split. PNG keeps the small crops lossless.
"""

from __future__ import annotations

import json
from contextlib import suppress
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pandas as pd

from pipeline.core.images import ImageDecodeError, read_image
from pipeline.core.layout import TaskPaths
from pipeline.core.progress import track
from pipeline.tasks.plates_text.crops import cut, pixel_box, to_line
from pipeline.tasks.plates_text.params import PlateTextAugmentParams

CROPS_DIR = "crops"
MANIFEST = "manifest.parquet"
GEOMETRY = "crops.json"  # how crops were cut: serving cuts them the same way


def _jittered(
    image: np.ndarray,
    box: tuple[float, float, float, float],
    params: PlateTextAugmentParams,
    rng: np.random.Generator,
) -> np.ndarray:
    """The box's pixels through a random perspective: each corner moved by up to max_shift of
    the box size, the quad turned by up to max_rotation; then brightness and blur."""
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    m = params.margin
    quad = np.array(
        [
            [x1 - m * w, y1 - m * h],
            [x2 + m * w, y1 - m * h],
            [x2 + m * w, y2 + m * h],
            [x1 - m * w, y2 + m * h],
        ],
        np.float32,
    )
    quad += rng.uniform(-params.max_shift, params.max_shift, (4, 2)).astype(np.float32) * [w, h]
    angle = np.deg2rad(rng.uniform(-params.max_rotation, params.max_rotation))
    centre = quad.mean(axis=0)
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]], np.float32)
    quad = (quad - centre) @ turn.T + centre
    out_w, out_h = max(round(w * (1 + 2 * m)), 4), max(round(h * (1 + 2 * m)), 4)
    target = np.array([[0, 0], [out_w, 0], [out_w, out_h], [0, out_h]], np.float32)
    matrix = cv2.getPerspectiveTransform(quad, target)
    crop = cv2.warpPerspective(image, matrix, (out_w, out_h), borderMode=cv2.BORDER_REPLICATE)
    return _photometric(crop, params, rng)


def _photometric(
    crop: np.ndarray, params: PlateTextAugmentParams, rng: np.random.Generator
) -> np.ndarray:
    scale = rng.uniform(1 - params.brightness, 1 + params.brightness)
    crop = np.clip(crop.astype(np.float32) * scale, 0, 255).astype(np.uint8)
    if rng.random() < params.blur_probability:
        crop = cv2.GaussianBlur(crop, (0, 0), rng.uniform(0.5, 1.2))
    return crop


def synthetic_plate(
    params: PlateTextAugmentParams, rng: np.random.Generator
) -> tuple[np.ndarray, str]:
    """A rendered plate shrunk to a camera crop's size, blurred and noisy, and its text."""
    from pipeline.tasks.plates.params import ASPECT, ONE_LINE_ASPECT
    from pipeline.tasks.plates.sample import render_plate

    one_line = bool(rng.random() < params.synthetic_one_line_fraction)
    aspect = rng.uniform(*(ONE_LINE_ASPECT if one_line else ASPECT))
    plate, text = render_plate(rng, aspect, one_line)
    plate = cv2.cvtColor(plate, cv2.COLOR_BGR2RGB)
    pad = round(plate.shape[0] * params.margin)
    dark = rng.uniform(10, 80, 3).tolist()
    plate = cv2.copyMakeBorder(plate, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=dark)
    height = int(rng.uniform(24, 70))  # GreenParking plates are 40-70 px tall
    width = max(8, round(height * plate.shape[1] / plate.shape[0]))
    small = cv2.resize(plate, (width, height), interpolation=cv2.INTER_AREA)
    sx, sy = width / plate.shape[1], height / plate.shape[0]
    box = (pad * sx, pad * sy, width - pad * sx, height - pad * sy)
    crop = _jittered(small, box, params, rng)
    noise = rng.normal(0, rng.uniform(2, 10), crop.shape)
    return np.clip(crop + noise, 0, 255).astype(np.uint8), text


def _write(path: Path, line: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), cv2.cvtColor(line, cv2.COLOR_RGB2BGR)):
        raise OSError(f"could not write {path}")


def _safe(stem: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in stem)


def augment(
    valid: pd.DataFrame, params: PlateTextAugmentParams, paths: TaskPaths, seed: int
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Crops of every valid row into `<processed_dir>/crops/<split>/`; (their manifest, a
    report)."""
    raw_dir, out_dir = paths.raw_dir, paths.processed_dir
    rng = np.random.default_rng(seed)
    rows: list[dict[str, Any]] = []
    size = (params.height, params.width)
    unreadable: list[str] = []
    for image_path, boxes in track(
        list(valid.groupby("image", sort=True)), "plates_text: cropping", unit="photos"
    ):
        try:
            image = read_image(raw_dir / image_path)
        except ImageDecodeError:  # validate checked it decodes: changed on disk since
            unreadable.append(str(image_path))
            continue
        height, width = image.shape[:2]
        for row in boxes.itertuples(index=False):
            box = pixel_box(row.box, width, height)
            variants = [to_line(cut(image, box, params.margin), *size)]
            if row.split == "train":
                variants += [
                    to_line(_jittered(image, box, params, rng), *size) for _ in range(params.copies)
                ]
            for k, line in enumerate(variants):
                name = f"{CROPS_DIR}/{row.split}/{_safe(row.stem)}_{k}.png"
                _write(out_dir / name, line)
                rows.append(
                    {
                        "image": name,
                        "target": row.target,
                        "split": row.split,
                        "stem": row.stem,
                        "group": row.group,
                        "kind": "crop" if k == 0 else "augmented",
                    }
                )
    for index in track(range(params.synthetic), "plates_text: rendering", unit="plates"):
        crop, text = synthetic_plate(params, rng)
        name = f"{CROPS_DIR}/synthetic/{index:06d}.png"
        _write(out_dir / name, to_line(crop, *size))
        rows.append(
            {
                "image": name,
                "target": text,
                "split": "train",
                "stem": f"synthetic#{index}",
                "group": f"synthetic#{index}",
                "kind": "synthetic",
            }
        )
    manifest = pd.DataFrame(rows, columns=["image", "target", "split", "stem", "group", "kind"])
    manifest.to_parquet(out_dir / MANIFEST, index=False)
    geometry = {"height": params.height, "width": params.width, "margin": params.margin}
    (out_dir / GEOMETRY).write_text(json.dumps(geometry))
    counts = manifest.groupby(["split", "kind"]).size()
    report = {
        "crops": {f"{split}/{kind}": int(n) for (split, kind), n in counts.items()},
        "rows": len(manifest),
        "unreadable_photos": unreadable,
        "grid": manifest[manifest["split"] == "train"]["image"].head(params.grid_images).tolist(),
    }
    return manifest, report


def write_augment_reports(report: dict[str, Any], paths: TaskPaths) -> None:
    """A grid of train crops as the recogniser reads them, with their text."""
    reports_dir, processed_dir = paths.reports_dir, paths.processed_dir
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    reports_dir.mkdir(parents=True, exist_ok=True)
    names = report.get("grid", [])
    texts = {}
    manifest_path = processed_dir / MANIFEST
    if manifest_path.is_file():
        manifest = pd.read_parquet(manifest_path)
        texts = dict(zip(manifest["image"], manifest["target"], strict=True))
    columns = 4
    rows = max(1, -(-len(names) // columns))
    figure, axes = plt.subplots(rows, columns, figsize=(3 * columns, 1.1 * rows), squeeze=False)
    for axis in axes.flat:
        axis.axis("off")
    for axis, name in zip(axes.flat, names, strict=False):
        with suppress(ImageDecodeError):  # the grid shows the crops there are
            axis.imshow(read_image(processed_dir / name))
        axis.set_title(texts.get(name, ""), fontsize=8)
    figure.tight_layout()
    figure.savefig(reports_dir / "augment_grid.png", dpi=80)
    plt.close(figure)
