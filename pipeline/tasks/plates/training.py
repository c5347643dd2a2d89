"""Train the plate detector on the augmented images; log it so it serves raw images.

One `fit` for every detector kind: the kind `train.plates.detector` names (its
`detectors` strategy) builds the network, makes its targets and says how it compiles.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from pipeline.core.accelerate import global_batch
from pipeline.core.finetune import two_phase_fit
from pipeline.core.layout import TaskPaths
from pipeline.core.model_params import BackboneParams
from pipeline.core.progress import epoch_progress
from pipeline.core.splits import training_splits
from pipeline.core.tfdata import image_dataset
from pipeline.tasks.base import Trained
from pipeline.tasks.plates.detectors import (
    DETECTOR_FILE,
    detector_for,
    detector_kind,
    load_detector,
)
from pipeline.tasks.plates.detectors.config import write_config
from pipeline.tasks.plates.params import PlatesTrainParams

if TYPE_CHECKING:
    import keras


def _has_plates(rows: pd.DataFrame) -> bool:
    return bool(rows["boxes"].map(len).sum() > 0)


def fit(
    params: PlatesTrainParams,
    backbone: BackboneParams,
    paths: TaskPaths,
    *,
    seed: int,
    jit_compile: bool = False,
) -> Trained:
    """Detector trained on the train split, early-stopped on the val split; its kind and
    settings written into `paths.assets_dir` for serving."""
    processed_dir = paths.processed_dir
    detector = detector_for(params.detector)
    train, val = training_splits(
        processed_dir / "manifest.parquet",
        "plates",
        "images with plates",
        "label more images or change ingest.plates.val_fraction",
        has_labels=_has_plates,
    )
    slots = max(1, max(int(rows["boxes"].map(len).max()) for rows in (train, val)))
    train_data, val_data = (
        detector.training_pairs(
            image_dataset(
                processed_dir,
                rows["image"].tolist(),
                detector.targets(rows, params, slots),
                global_batch(params.batch_size),
                shuffle=shuffle,
                seed=seed,
                size=params.input_size,
            )
        )
        for rows, shuffle in ((train, True), (val, False))
    )
    model, base = detector.build(params, backbone)
    settings = detector.compile_settings(params)
    history = two_phase_fit(
        model,
        train_data,
        val_data,
        params.fit,
        loss=settings.loss,
        metrics=[],
        compile_kwargs=settings.compile_kwargs,
        work_dir=paths.checkpoints_dir,
        base=base,
        callbacks=[epoch_progress("plates", len(train), _epochs(params))],
        jit_compile=jit_compile,
        verbose=0,  # epoch_progress says it, with true epoch numbers across both phases
    )
    write_config(paths.assets_dir, params)
    return Trained(model, history)


def _epochs(params: PlatesTrainParams) -> int:
    """The most epochs both phases run (early stopping may end them sooner)."""
    return params.fit.head_epochs + params.fit.finetune_epochs


def load_model(model_path: Path, paths: TaskPaths) -> keras.Model:
    """The detector, of the kind its assets name."""
    return load_detector(model_path, paths.assets_dir)


def log_model(model: keras.Model, paths: TaskPaths) -> str:
    """A pyfunc from code (no pickle): encoded images of any size in, `count`, `boxes` out."""
    from pipeline.core.pyfunc import log_image_model
    from pipeline.tasks.plates import serving

    return log_image_model(
        serving,
        models={"detector": model},
        files={"config": paths.assets_dir / DETECTOR_FILE},
        example_size=(320, 240),
        extra_packages=serving.extra_packages(detector_kind(paths.assets_dir)),
    )
