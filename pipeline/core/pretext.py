"""Self-supervised pretraining: a backbone learns to tell how an image was rotated.

To say whether a picture is upside down the network has to learn what roads, vehicles and
shapes look like, with no label at all: a backbone for `backbone.weights: selfsup` that
needs no network and has seen the pipeline's own domains.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from pipeline.core.backbones import build_backbone
from pipeline.core.images import ImageDecodeError, read_image
from pipeline.core.model_params import BackboneParams, PretrainParams
from pipeline.core.progress import epoch_progress, track

if TYPE_CHECKING:
    import keras
    import pandas as pd

ROTATIONS = 4  # 0, 90, 180, 270 degrees


def draw_train_images(
    rows: pd.DataFrame, image_column: str, task_name: str, seed: int, count: int
) -> list[str]:
    """The train images (each once) of a task's manifest `rows` that the pretext task takes:
    at most `count`, drawn from a stream of the task's own, so adding a task changes no
    other task's draw. Only train rows: val and test photos never reach the backbone."""
    import zlib

    train = list(dict.fromkeys(rows.loc[rows["split"] == "train", image_column].dropna()))
    rng = np.random.default_rng([seed, zlib.crc32(task_name.encode())])
    chosen = sorted(rng.choice(len(train), size=min(count, len(train)), replace=False))
    return [str(train[i]) for i in chosen]


def load_images(paths: list[Path], size: int) -> tuple[np.ndarray, list[Path]]:
    """RGB uint8 images resized to size x size, (N, size, size, 3), and the paths that do
    not decode (truncated, corrupt, over the pixel limit), skipped."""
    images, skipped = [], []
    for path in track(paths, "pretrain: loading images"):
        try:
            rgb = read_image(path)
        except (ImageDecodeError, OSError):
            skipped.append(path)
            continue
        images.append(cv2.resize(rgb, (size, size), interpolation=cv2.INTER_AREA))
    stacked = np.stack(images) if images else np.empty((0, size, size, 3), np.uint8)
    return stacked, skipped


def rotation_dataset(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every image in its four rotations, and the number of quarter turns as the label."""
    rotated = np.concatenate([np.rot90(images, k, axes=(1, 2)) for k in range(ROTATIONS)])
    labels = np.repeat(np.arange(ROTATIONS), len(images))
    return rotated, labels


def _dataset(images: np.ndarray, batch_size: int, seed: int, shuffle: bool) -> Any:
    import tensorflow as tf

    x, y = rotation_dataset(images)
    data = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle:
        data = data.shuffle(len(x), seed=seed)
    return data.batch(batch_size).map(lambda a, b: (tf.cast(a, tf.float32), b)).prefetch(2)


def pretrain_rotation(
    images: np.ndarray, backbone: BackboneParams, params: PretrainParams, seed: int
) -> tuple[keras.Model, dict[str, Any]]:
    """(backbone trained on rotation prediction, report with the held-out pretext accuracy)."""
    import keras

    keras.utils.set_random_seed(seed)
    order = np.random.default_rng(seed).permutation(len(images))
    n_val = max(1, round(len(images) * params.val_fraction))
    val, train = images[order[:n_val]], images[order[n_val:]]
    size = images.shape[1]
    features = build_backbone(
        backbone.model_copy(update={"weights": "none"}), (size, size, 3), frozen_batchnorm=False
    )
    for layer in features.get_layer("base").layers:  # from scratch: let statistics settle fast
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = 0.9
    inputs = keras.Input((size, size, 3))
    x = keras.layers.GlobalAveragePooling2D()(features(inputs))
    outputs = keras.layers.Dense(ROTATIONS, activation="softmax", name="rotation")(x)
    model = keras.Model(inputs, outputs, name="rotation_pretext")
    model.compile(
        optimizer=keras.optimizers.Adam(params.learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    history = model.fit(
        _dataset(train, params.batch_size, seed, shuffle=True),
        validation_data=_dataset(val, params.batch_size, seed, shuffle=False),
        epochs=params.epochs,
        shuffle=False,  # tf.data shuffles; Keras would only warn
        callbacks=[epoch_progress("pretrain", len(train) * ROTATIONS, params.epochs)],
        verbose=0,  # epoch_progress prints the pipeline's epoch lines, as the tasks' trainings
    )
    report = {
        "task": "rotation prediction (0/90/180/270)",
        "images": {"train": len(train), "val": len(val)},
        "chance": 1 / ROTATIONS,
        "val_accuracy": float(history.history["val_accuracy"][-1]),
        "history": {k: [float(v) for v in vs] for k, vs in history.history.items()},
    }
    return features, report
