"""The shapes task's stage functions, bound to `Shapes` by name (`Task.data_modules`)."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pydantic import Field

from pipeline.core.evaluation import Baseline, Evaluation, PrimaryMetric
from pipeline.core.label_rules import one_of
from pipeline.core.layout import TaskPaths
from pipeline.core.section import ImageSizeLimits, Section, tiny
from pipeline.core.splits import assign_splits, fingerprint, training_splits
from pipeline.tasks.base import Trained

if TYPE_CHECKING:
    import keras

    from pipeline.core.model_params import BackboneParams

SHAPES = ("circle", "square")
SIZE = 32  # the network's input: images are resized to SIZE x SIZE
PRIMARY = PrimaryMetric("test_accuracy", greater_is_better=True)


class ShapesSampleParams(Section):
    images: int = Field(12, gt=0, **tiny(24))


class ShapesIngestParams(Section):
    val_fraction: float = 0.25
    test_fraction: float = 0.25


class ShapesValidateParams(ImageSizeLimits):
    min_width: int = 16
    min_height: int = 16


class ShapesAugmentParams(Section):
    flips: bool = True  # a mirrored copy of each train image


class ShapesTrainParams(Section):
    epochs: int = Field(30, gt=0, **tiny(20))
    batch_size: int = Field(8, gt=0)
    learning_rate: float = Field(0.01, gt=0)


class ShapesEvaluateParams(Section):
    pass


def write_sample(out_dir: Path, params: ShapesSampleParams, seed: int) -> None:
    import cv2

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
    return [one_of("shape", list(SHAPES), "shape not circle or square")]


def augment(
    valid: pd.DataFrame, params: ShapesAugmentParams, paths: TaskPaths, seed: int
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Every valid image copied; each train image mirrored too when `flips`."""
    import cv2

    from pipeline.core.images import read_image

    rows = []
    for row in valid.itertuples():
        shutil.copyfile(paths.raw_dir / row.image, paths.processed_dir / row.image)
        rows.append({"image": row.image, "shape": row.shape, "split": row.split})
        if params.flips and row.split == "train":
            mirrored = f"flip_{row.image}"
            flipped = read_image(paths.raw_dir / row.image)[:, ::-1, ::-1]  # mirrored, BGR
            cv2.imwrite(str(paths.processed_dir / mirrored), flipped)
            rows.append({"image": mirrored, "shape": row.shape, "split": row.split})
    return pd.DataFrame(rows), {"images": len(rows)}


def write_augment_reports(report: dict[str, Any], paths: TaskPaths) -> None:
    (paths.reports_dir / "augment.txt").write_text(f"{report['images']} images\n")


def fit(
    params: ShapesTrainParams,
    backbone: BackboneParams,
    paths: TaskPaths,
    *,
    seed: int,
    jit_compile: bool,
) -> Trained:
    """A small CNN of its own (the shared backbone is not needed for two shapes)."""
    import keras

    from pipeline.core.tfdata import image_dataset

    keras.utils.set_random_seed(seed)
    train, val = training_splits(
        paths.processed_dir / "manifest.parquet", "shapes", "images", "sample more images"
    )
    train_data, val_data = (
        image_dataset(
            paths.processed_dir,
            rows["image"].tolist(),
            (rows["shape"] == "square").to_numpy(np.float32),
            params.batch_size,
            shuffle=shuffle,
            seed=seed,
            size=(SIZE, SIZE),
        )
        for rows, shuffle in ((train, True), (val, False))
    )
    model = keras.Sequential(
        [
            keras.Input((SIZE, SIZE, 3)),
            keras.layers.Rescaling(1 / 255),
            keras.layers.Conv2D(8, 3, activation="relu"),
            keras.layers.Conv2D(8, 3, activation="relu"),
            keras.layers.GlobalMaxPooling2D(),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(keras.optimizers.Adam(params.learning_rate), "binary_crossentropy")
    history = model.fit(train_data, validation_data=val_data, epochs=params.epochs, verbose=0)
    return Trained(model, history.history)


def log_model(model: keras.Model, paths: TaskPaths) -> str:
    from pipeline.core.pyfunc import log_image_model

    from . import serving

    return log_image_model(serving, models={"model": model}, example_size=(48, 48))


def evaluate(
    model: keras.Model, valid: pd.DataFrame, params: ShapesEvaluateParams, paths: TaskPaths
) -> Evaluation:
    """Accuracy on the test split beside always answering the most frequent train shape."""
    from pipeline.core.images import read_image

    from .serving import squares

    test = valid[valid["split"] == "test"]
    images = [read_image(paths.raw_dir / name)[:, :, ::-1] for name in test["image"]]
    predicted = np.where(squares(model, images), "square", "circle")
    frequent = valid.loc[valid["split"] == "train", "shape"].mode()[0]
    accuracy = float(np.mean(predicted == test["shape"].to_numpy()))
    majority = float(np.mean(test["shape"].to_numpy() == frequent))
    return Evaluation(
        primary=PRIMARY,
        metrics={"test_accuracy": accuracy},
        baseline=Baseline("most frequent shape", {"accuracy": majority}),
        beats_baseline=accuracy > majority,
        split_fingerprint=fingerprint(zip(test["image"], test["shape"], strict=True)),
    )


def prediction_lines(
    images: list[Path], predictions: pd.DataFrame, options: dict[str, Any]
) -> list[str]:
    return [f"{path}: {shape}" for path, shape in zip(images, predictions["shape"], strict=True)]
