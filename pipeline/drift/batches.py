"""The new batch `pipeline drift` profiles: a raw folder any ingest layout of the task reads
(a `pipeline drive --record` folder is one), or a serving trail (`trail.py`)."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.core.errors import PipelineError
from pipeline.drift import embedding as emb
from pipeline.drift import trail
from pipeline.drift import values as labels
from pipeline.drift.drift_params import DriftParams
from pipeline.drift.profile import (
    Predict,
    Profile,
    build_profile,
    embedding_note,
    served_column,
    spread,
)
from pipeline.drift.stats import STAT_NAMES

#: manifest splits that are not data of their own (frames listed twice)
SKIPPED_SPLITS = ("duplicate",)


def trail_profile(
    folder: Path, task: str, params: DriftParams, seed: int, embedder: emb.Embedder | None
) -> Profile:
    """The profile of the served images a trail recorded (at most `params.max_images`)."""
    records = trail.read(folder)
    if not records:
        raise PipelineError(f"{folder}: the serving trail holds no records yet")
    if len(records) > params.max_images:  # a random draw, kept in recorded order
        kept = sorted(random.Random(seed).sample(range(len(records)), params.max_images))
        records = [records[i] for i in kept]
    values = {
        f"image.{name}": np.asarray([r["stats"].get(name, np.nan) for r in records], np.float64)
        for name in STAT_NAMES
    }
    values = {k: v[np.isfinite(v)] for k, v in values.items()}
    answers = [r["prediction"] for r in records if isinstance(r.get("prediction"), dict)]
    if answers:
        values |= labels.prediction_values(pd.DataFrame(answers))
    usable = [r for r in records if isinstance(r.get("pixels"), list)]
    chosen = spread(len(usable), params.max_embeddings, seed)
    embedded = [r for i, r in enumerate(usable) if i in chosen]
    embeddings = {emb.PIXELS: np.asarray([r["pixels"] for r in embedded], np.float32)}
    with_images = [folder / r["image"] for r in embedded if r.get("image")]
    note = "pixel embedding (the trail keeps no images)"
    if embedder is not None and with_images and len(with_images) == len(embedded):
        from pipeline.core.images import read_image

        embeddings[emb.BACKBONE] = np.asarray(
            embedder([read_image(p) for p in with_images]), np.float32
        )
        note = embedding_note(embedder)
    return Profile(
        task=task,
        source=f"serving trail {folder} ({len(records)} records)",
        values=values,
        embeddings=embeddings,
        images=len(records),
        facts={"embedding_note": note},
    )


def new_profile(
    task_name: str,
    data: Path,
    *,
    config: object,
    params: DriftParams,
    seed: int,
    embedder: emb.Embedder | None,
    predict: Predict | None,
) -> Profile:
    """A trail folder's profile, or a raw folder's as the task's ingest reads it (every split:
    it is all new); one line when DATA is neither."""
    from pipeline.tasks import Ingests, task_with

    if not data.is_dir():
        raise PipelineError(f"{data}: no such folder (give a raw dataset or a serving trail)")
    found = trail.trail_dir(data, task_name)
    if found is not None:
        return trail_profile(found, task_name, params, seed, embedder)
    task = task_with(task_name, "ingest", Ingests)
    frame = task.read_raw(data, config.for_task("ingest", task_name), seed)  # type: ignore[attr-defined]
    if "split" in frame.columns:
        frame = frame[~frame["split"].isin(SKIPPED_SPLITS)]
    return build_profile(
        task_name,
        frame,
        data,
        image_column=served_column(task_name),
        source=f"raw folder {data}",
        params=params,
        seed=seed,
        embedder=embedder,
        predict=predict,
    )
