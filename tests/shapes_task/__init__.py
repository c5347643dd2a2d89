"""A fourth dataset defined outside `pipeline/`: proof that a task touches only its own package.

`shapes`: images of one coloured shape each, labelled in a `labels.csv` (file, shape). It has
the data stages only (sample, ingest, validate), which is all a new dataset needs to start.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import Field

from pipeline.core.section import ImageSizeLimits, Section
from pipeline.core.splits import assign_splits
from pipeline.tasks.base import Task

SHAPES = ("circle", "square")


class ShapesSampleParams(Section):
    images: int = Field(12, gt=0)


class ShapesIngestParams(Section):
    val_fraction: float = 0.25
    test_fraction: float = 0.25


class ShapesValidateParams(ImageSizeLimits):
    min_width: int = 16
    min_height: int = 16


def write_sample(out_dir: Path, params: ShapesSampleParams, seed: int) -> None:
    import cv2
    import numpy as np

    rng = np.random.default_rng(seed)
    with (out_dir / "labels.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        for index in range(params.images):
            shape = SHAPES[index % 2]
            image = np.full((48, 48, 3), 255, np.uint8)
            colour = tuple(int(c) for c in rng.integers(0, 200, 3))
            if shape == "circle":
                cv2.circle(image, (24, 24), 14, colour, -1)
            else:
                cv2.rectangle(image, (10, 10), (38, 38), colour, -1)
            cv2.imwrite(str(out_dir / f"{index:03d}.png"), image)
            writer.writerow([f"{index:03d}.png", shape])


def read_raw(raw_dir: Path, params: ShapesIngestParams, seed: int) -> pd.DataFrame:
    with (raw_dir / "labels.csv").open(newline="") as handle:
        rows = [row + [""] * (2 - len(row)) for row in csv.reader(handle)]
    frame = pd.DataFrame(rows, columns=["image", "shape"])
    splits = assign_splits(frame["image"].tolist(), params.val_fraction, params.test_fraction, seed)
    return frame.assign(
        split=frame["image"].map(splits),
        issue=[None if shape else "no shape" for shape in frame["shape"]],
        issue_detail=[None if shape else f"labels.csv: {image}" for image, shape in rows],
    )


def label_checks(manifest: pd.DataFrame, params: ShapesValidateParams) -> pd.DataFrame:
    return manifest


def expectations(params: ShapesValidateParams) -> list[Any]:
    import great_expectations as gx

    return [
        gx.expectations.ExpectColumnValuesToBeInSet(
            column="shape",
            value_set=list(SHAPES),
            meta={"intent": "label", "reason": "shape not circle or square"},
        )
    ]


class Shapes(Task):
    name = "shapes"
    params = {
        "sample": ShapesSampleParams,
        "ingest": ShapesIngestParams,
        "validate": ShapesValidateParams,
    }
    image_columns = ("image",)
    group_column = "image"

    # its stages: the functions above, bound as the protocols name them
    write_sample = staticmethod(write_sample)
    read_raw = staticmethod(read_raw)
    label_checks = staticmethod(label_checks)
    expectations = staticmethod(expectations)
