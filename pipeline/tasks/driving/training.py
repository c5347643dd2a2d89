"""Train a steering model on the augmented frames; log it so it serves raw frames."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pipeline.core.errors import DatasetError
from pipeline.core.finetune import two_phase_fit
from pipeline.core.model_params import BackboneParams
from pipeline.core.progress import epoch_progress
from pipeline.core.tfdata import image_dataset
from pipeline.tasks.driving.model import FRAME_SHAPE, build_model
from pipeline.tasks.driving.params import DrivingTrainParams

if TYPE_CHECKING:
    import keras


def fit(
    processed_dir: Path,
    params: DrivingTrainParams,
    backbone: BackboneParams,
    *,
    work_dir: Path,
    assets_dir: Path,
    seed: int,
    callbacks: list[Any],
    jit_compile: bool = False,
) -> tuple[keras.Model, dict[str, list[float]]]:
    """Model trained on the train split, early-stopped on the val split.

    Nothing goes to `assets_dir`: the preprocessing is part of the model.
    """
    manifest = pd.read_parquet(processed_dir / "manifest.parquet")
    train, val = (manifest[manifest["split"] == split] for split in ("train", "val"))
    for name, rows in (("train", train), ("val", val)):
        if rows.empty:
            raise DatasetError(
                f"driving: no {name} frames in {processed_dir / 'manifest.parquet'}; record more "
                "frames or lower ingest.driving.segment_frames so every split gets segments"
            )
    train_data, val_data = (
        image_dataset(
            processed_dir,
            rows["image"].tolist(),
            rows["steering"].to_numpy(dtype=np.float32),
            params.batch_size,
            shuffle=shuffle,
            seed=seed,
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
        work_dir=work_dir,
        base=base,
        callbacks=[
            *callbacks,
            epoch_progress("driving", len(train), epochs),
        ],
        jit_compile=jit_compile,
        verbose=0,  # epoch_progress says it, with true epoch numbers across both phases
    )
    return model, history


def log_model(model: keras.Model, assets_dir: Path, processed_dir: Path) -> str:
    """The Keras flavour with a tensor signature: raw 160x320 RGB frames in, one angle out."""
    import mlflow
    from mlflow.models import infer_signature

    example = np.zeros((1, *FRAME_SHAPE), dtype=np.float32)
    signature = infer_signature(example, model.predict(example, verbose=0))
    return mlflow.keras.log_model(model, name="model", signature=signature).model_uri
