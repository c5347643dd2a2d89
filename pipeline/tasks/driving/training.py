"""Train a steering model on the augmented frames; log it so it serves raw frames."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from pipeline.core.accelerate import global_batch
from pipeline.core.checkpoints import FRAMES_DIR
from pipeline.core.finetune import two_phase_fit
from pipeline.core.layout import TaskPaths
from pipeline.core.model_params import BackboneParams
from pipeline.core.progress import epoch_progress
from pipeline.core.splits import training_splits
from pipeline.core.tfdata import image_dataset
from pipeline.tasks.base import Trained
from pipeline.tasks.driving.model import FRAME_SHAPE, build_model
from pipeline.tasks.driving.params import DrivingTrainParams

if TYPE_CHECKING:
    import keras


def fit(
    params: DrivingTrainParams,
    backbone: BackboneParams,
    paths: TaskPaths,
    *,
    seed: int,
    jit_compile: bool = False,
) -> Trained:
    """Model trained on the train split, early-stopped on the val split.

    It needs no assets besides its weights: the preprocessing is part of the model.
    """
    processed_dir = paths.processed_dir
    train, val = training_splits(
        processed_dir / "manifest.parquet",
        "driving",
        "frames",
        "record more frames or lower ingest.driving.segment_frames so every split gets segments",
    )
    train_data, val_data = (
        image_dataset(
            processed_dir,
            rows["image"].tolist(),
            rows["steering"].to_numpy(dtype=np.float32),
            global_batch(params.batch_size),
            shuffle=shuffle,
            seed=seed,
            store=paths.checkpoints_dir / FRAMES_DIR,  # decoded once, read every epoch
        )
        for rows, shuffle in ((train, True), (val, False))
    )
    model, base = build_model(params, backbone)
    epochs = params.fit.head_epochs + params.fit.finetune_epochs  # the most both phases run
    history = two_phase_fit(
        model,
        train_data,
        val_data,
        params.fit,
        loss="mse",
        metrics=["mae"],
        work_dir=paths.checkpoints_dir,
        base=base,
        callbacks=[epoch_progress("driving", len(train), epochs)],
        jit_compile=jit_compile,
        verbose=0,  # epoch_progress says it, with true epoch numbers across both phases
    )
    return Trained(model, history)


def log_model(model: keras.Model, paths: TaskPaths) -> str:
    """A pyfunc from code (no pickle): encoded frames of any size in, `steering` out."""
    from pipeline.core.pyfunc import log_image_model
    from pipeline.tasks.driving import serving

    return log_image_model(
        serving, models={"model": model}, example_size=(FRAME_SHAPE[1], FRAME_SHAPE[0])
    )
