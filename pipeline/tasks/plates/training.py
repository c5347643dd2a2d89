"""Train the plate detector on the augmented images; log it so it serves raw images."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pipeline.core.errors import DatasetError
from pipeline.core.finetune import two_phase_fit
from pipeline.core.io import write_json
from pipeline.core.model_params import BackboneParams
from pipeline.core.progress import epoch_progress
from pipeline.core.tfdata import image_dataset
from pipeline.tasks.plates import centernet
from pipeline.tasks.plates.boxes import yolo_to_xyxy
from pipeline.tasks.plates.model import build_detector
from pipeline.tasks.plates.params import PlatesTrainParams

if TYPE_CHECKING:
    import keras

DETECTOR_FILE = "detector.json"


def targets(manifest: pd.DataFrame, params: PlatesTrainParams) -> np.ndarray:
    """CenterNet targets of every row: YOLO boxes scaled to the (stretched) network input."""
    rows, cols = params.input_size
    grid = (rows // params.stride, cols // params.stride)
    return np.stack(
        [
            centernet.encode(
                yolo_to_xyxy(boxes, cols, rows), grid, params.stride, params.heat_sigma
            )
            for boxes in manifest["boxes"]
        ]
    )


def fit(
    processed_dir: Path,
    params: PlatesTrainParams,
    backbone: BackboneParams,
    *,
    work_dir: Path,
    assets_dir: Path,
    seed: int,
    callbacks: list[Any],
    jit_compile: bool = False,
) -> tuple[keras.Model, dict[str, list[float]]]:
    """Detector trained on the train split, early-stopped on the val split."""
    if params.detector == "retinanet":
        from pipeline.tasks.plates.retinanet import fit as fit_retinanet

        return fit_retinanet(
            processed_dir, params, backbone, work_dir=work_dir, assets_dir=assets_dir,
            seed=seed, callbacks=callbacks, jit_compile=jit_compile,
        )  # fmt: skip
    manifest = pd.read_parquet(processed_dir / "manifest.parquet")
    splits = {split: manifest[manifest["split"] == split] for split in ("train", "val")}
    for name, rows in splits.items():
        if rows.empty or rows["boxes"].map(len).sum() == 0:
            raise DatasetError(
                f"plates: no {name} images with plates in {processed_dir / 'manifest.parquet'}; "
                "label more images or change ingest.plates.val_fraction"
            )
    train_data, val_data = (
        image_dataset(
            processed_dir,
            rows["image"].tolist(),
            targets(rows, params),
            params.batch_size,
            shuffle=split == "train",
            seed=seed,
            size=params.input_size,
        )
        for split, rows in splits.items()
    )
    model, base = build_detector(params, backbone)
    history = two_phase_fit(
        model,
        train_data,
        val_data,
        params.fit,
        loss=centernet.loss(params.size_loss_weight, params.offset_loss_weight),
        metrics=[],
        work_dir=work_dir,
        base=base,
        callbacks=[*callbacks, epoch_progress("plates", len(splits["train"]), _epochs(params))],
        jit_compile=jit_compile,
        verbose=0,  # epoch_progress says it, with true epoch numbers across both phases
    )
    write_json(
        assets_dir / DETECTOR_FILE,
        {
            "detector": params.detector,
            "input_size": list(params.input_size),
            "stride": params.stride,
            "max_detections": params.max_detections,
        },
    )
    return model, history


def _epochs(params: PlatesTrainParams) -> int:
    """The most epochs both phases run (early stopping may end them sooner)."""
    return params.fit.head_epochs + params.fit.finetune_epochs


def detector_kind(assets_dir: Path) -> str:
    return str(json.loads((assets_dir / DETECTOR_FILE).read_text())["detector"])


def load_detector(model_path: Path, assets_dir: Path) -> keras.Model:
    """A saved detector in safe mode, uncompiled; keras-hub is imported for RetinaNet only."""
    if detector_kind(assets_dir) == "retinanet":
        from pipeline.tasks.plates.retinanet import load_detector as load_retinanet

        return load_retinanet(model_path)
    import keras

    return keras.models.load_model(model_path, safe_mode=True, compile=False)


def log_model(model: keras.Model, assets_dir: Path, processed_dir: Path) -> str:
    """A pyfunc from code (no pickle): encoded images in, boxes in their pixels out."""
    import tempfile

    import mlflow
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, ParamSchema, ParamSpec, Schema

    from pipeline.tasks.plates import serving

    with tempfile.TemporaryDirectory() as tmp:
        model_file = Path(tmp) / "detector.keras"
        model.save(model_file)
        return mlflow.pyfunc.log_model(
            name="model",
            python_model=serving.__file__,
            artifacts={"detector": str(model_file), "config": str(assets_dir / DETECTOR_FILE)},
            signature=ModelSignature(
                inputs=Schema([ColSpec("binary", "image")]),
                outputs=Schema([ColSpec("long", "count"), ColSpec("string", "boxes")]),
                params=ParamSchema([ParamSpec("min_score", "double", serving.MIN_SCORE)]),
            ),
            pip_requirements=serving.requirements(detector_kind(assets_dir)),
        ).model_uri
