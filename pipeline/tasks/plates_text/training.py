"""Train the plate reader on the crops; log it so it serves crop bytes -> text."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.core.accelerate import global_batch
from pipeline.core.finetune import two_phase_fit
from pipeline.core.layout import TaskPaths
from pipeline.core.model_params import BackboneParams, FinetuneParams
from pipeline.core.progress import epoch_progress
from pipeline.core.splits import training_splits
from pipeline.core.tfdata import image_dataset
from pipeline.tasks.base import Trained
from pipeline.tasks.plates.formats.text import CHARSET
from pipeline.tasks.plates_text.augment import GEOMETRY, MANIFEST
from pipeline.tasks.plates_text.model import build_model, ctc_loss, encode
from pipeline.tasks.plates_text.params import PlateTextTrainParams

if TYPE_CHECKING:
    import keras

READER_FILE = "reader.json"  # charset and crop geometry, beside the weights


def reader_config(processed_dir: Path) -> dict[str, Any]:
    """What reading needs besides the weights: the charset and how crops are cut."""
    geometry = json.loads((processed_dir / GEOMETRY).read_text())
    return {"charset": CHARSET, **geometry}


def cosine_schedule(learning_rate: float, decay_to: float, epochs: int) -> Callable[[int], float]:
    """Epoch -> learning rate: `learning_rate` at epoch 0, falling along a half cosine to
    `learning_rate * decay_to` at the last epoch. A function of the epoch alone, so a resumed
    run picks up the rate where it stopped."""

    def rate(epoch: int, current: float | None = None) -> float:
        progress = min(epoch / max(epochs - 1, 1), 1.0)
        return learning_rate * (
            decay_to + (1 - decay_to) * 0.5 * (1 + math.cos(math.pi * progress))
        )

    return rate


def fit(
    params: PlateTextTrainParams,
    backbone: BackboneParams,  # unused: the reader is trained from scratch (model.py)
    paths: TaskPaths,
    *,
    seed: int,
    jit_compile: bool = False,
) -> Trained:
    """A reader trained on the train crops, its learning rate decayed along a cosine,
    early-stopped on the val crops' CTC loss; `reader.json` (charset, crop geometry) written
    into `paths.assets_dir`."""
    import keras

    processed_dir, assets_dir = paths.processed_dir, paths.assets_dir
    train, val = training_splits(
        processed_dir / MANIFEST,
        "plates_text",
        "plate crops",
        "label more plates with text or lower ingest.plates_text.val_fraction",
    )
    config = reader_config(processed_dir)
    steps = config["width"] // 4
    datasets = [
        image_dataset(
            processed_dir,
            rows["image"].tolist(),
            encode(rows["target"].tolist(), CHARSET, steps).astype("float32"),
            global_batch(params.batch_size),
            shuffle=shuffle,
            seed=seed,
        )
        for rows, shuffle in ((train, True), (val, False))
    ]
    model = build_model(params, config["height"], config["width"], len(CHARSET))
    history = two_phase_fit(
        model,
        datasets[0],
        datasets[1],
        FinetuneParams(
            head_epochs=params.epochs,
            finetune_epochs=0,
            learning_rate=params.learning_rate,
            patience=params.patience,
        ),
        loss=ctc_loss,
        metrics=[],
        work_dir=paths.checkpoints_dir,
        callbacks=[
            epoch_progress("plates_text", len(train), params.epochs),
            keras.callbacks.LearningRateScheduler(
                cosine_schedule(params.learning_rate, params.decay_to, params.epochs)
            ),
        ],
        jit_compile=jit_compile,
        verbose=0,
    )
    assets_dir.mkdir(parents=True, exist_ok=True)
    (assets_dir / READER_FILE).write_text(json.dumps(config, indent=2))
    return Trained(model, history)


def log_model(model: keras.Model, paths: TaskPaths) -> str:
    """A pyfunc from code (no pickle): plate crop bytes in, `text` and `score` out."""
    from pipeline.core.pyfunc import log_image_model
    from pipeline.tasks.plates_text import serving

    return log_image_model(
        serving,
        models={"reader": model},
        files={"config": paths.assets_dir / READER_FILE},
        example_size=(160, 48),  # a plate crop
    )
