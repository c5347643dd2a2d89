"""A profile: what a set of images, their labels and a model's predictions look like.

Per-image statistics (`stats`), a bounded sample of embeddings (`embedding`), the labels'
and predictions' distributions (`values`), stored as `profile.json` (summaries a person can
read, and what the profile was made from) plus `profile.npz` (the samples the tests need),
never a pickle. A reference profile is made from a task's train split when a version is
registered (`build_reference`) and stored with it as the MLflow artifact `drift/`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline.core.errors import PipelineError
from pipeline.core.io import atomic_file, write_json
from pipeline.drift import embedding as emb
from pipeline.drift import values as labels
from pipeline.drift.drift_params import DriftParams
from pipeline.drift.stats import STAT_NAMES, image_stats, shrunk

PROFILE_JSON, PROFILE_NPZ = "profile.json", "profile.npz"
FORMAT = 1
#: the images kept for the backbone are shrunk to this side first (memory, not accuracy)
KEEP_SIDE = 160

#: a model as `pipeline drift` calls it: the pyfunc's DataFrame in (`image` bytes), out
Predict = Callable[[pd.DataFrame], pd.DataFrame]


@dataclass
class Profile:
    task: str
    source: str  # what the images were, in words: "train split of ...", "raw folder ..."
    values: dict[str, np.ndarray]  # "image.<stat>", "label.<name>", "prediction.<name>"
    embeddings: dict[str, np.ndarray]  # "pixels" always; "backbone" when it could be had
    images: int = 0
    unreadable: int = 0
    facts: dict[str, Any] = field(default_factory=dict)  # vocabulary, model, notes

    @property
    def embedding(self) -> str:
        """The best embedding this profile holds."""
        return emb.BACKBONE if emb.BACKBONE in self.embeddings else emb.PIXELS

    def summary(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "task": self.task,
            "source": self.source,
            "images": self.images,
            "unreadable": self.unreadable,
            "embedding": self.embedding,
            "embeddings": {k: list(v.shape) for k, v in self.embeddings.items()},
            "values": {k: labels.describe(v) for k, v in sorted(self.values.items())},
            "histograms": {k: labels.histogram(v) for k, v in sorted(self.values.items())},
            "facts": self.facts,
        }

    def save(self, folder: Path) -> Path:
        """`profile.json` + `profile.npz` in `folder` (created); returns `folder`."""
        folder.mkdir(parents=True, exist_ok=True)
        arrays = {f"values/{k}": v for k, v in self.values.items()}
        arrays |= {f"embeddings/{k}": v for k, v in self.embeddings.items()}
        with atomic_file(folder / PROFILE_NPZ) as tmp, tmp.open("wb") as out:
            np.savez_compressed(out, **arrays)  # type: ignore[arg-type]
        write_json(folder / PROFILE_JSON, self.summary())
        return folder


def load(folder: Path) -> Profile:
    """The profile saved in `folder`, or one line saying what is missing."""
    meta_path, npz_path = folder / PROFILE_JSON, folder / PROFILE_NPZ
    if (folder / "NO_PROFILE.txt").is_file():  # the register stage ran without profiling
        reason = (folder / "NO_PROFILE.txt").read_text().splitlines()[0]
        raise PipelineError(f"{folder}: {reason}")
    if not meta_path.is_file() or not npz_path.is_file():
        raise PipelineError(
            f"{folder} is not a drift profile (needs {PROFILE_JSON} and {PROFILE_NPZ}): give "
            "the folder `pipeline drift` or the register stage wrote"
        )
    meta = json.loads(meta_path.read_text())
    if meta.get("format") != FORMAT:
        raise PipelineError(f"{meta_path}: profile format {meta.get('format')} not {FORMAT}")
    values: dict[str, np.ndarray] = {}
    embeddings: dict[str, np.ndarray] = {}
    with np.load(npz_path, allow_pickle=False) as stored:
        for key in stored.files:
            kind, _, name = key.partition("/")
            (values if kind == "values" else embeddings)[name] = stored[key]
    return Profile(
        task=meta["task"],
        source=meta["source"],
        values=values,
        embeddings=embeddings,
        images=meta.get("images", 0),
        unreadable=meta.get("unreadable", 0),
        facts=meta.get("facts", {}),
    )


@dataclass
class ImageSummary:
    """What `summarise_images` learnt of a list of image files."""

    values: dict[str, np.ndarray]
    embeddings: dict[str, np.ndarray]
    read: list[Path]  # the files that decoded, in order
    unreadable: int


def summarise_images(
    paths: Sequence[Path],
    *,
    embedder: emb.Embedder | None,
    max_embeddings: int,
    transform: Callable[[np.ndarray], np.ndarray] | None = None,
    embed: set[int] | None = None,
) -> ImageSummary:
    """Statistics of every image (after `transform`, if given: a darkened copy, say);
    embeddings of those whose position is in `embed` (default: every one), at most
    `max_embeddings`, in order."""
    from pipeline.core.images import ImageDecodeError, read_image
    from pipeline.core.progress import track

    rows: list[dict[str, float]] = []
    pixels: list[np.ndarray] = []
    kept: list[np.ndarray] = []
    read: list[Path] = []
    unreadable = 0
    for position, path in enumerate(track(paths, "drift: profiling images")):
        try:
            rgb = read_image(path)
        except (ImageDecodeError, OSError):
            unreadable += 1
            continue
        if transform is not None:
            rgb = transform(rgb)
        rows.append(image_stats(rgb))
        read.append(path)
        if len(pixels) < max_embeddings and (embed is None or position in embed):
            pixels.append(emb.pixel_embedding(rgb))
            if embedder is not None:
                kept.append(shrunk(rgb, KEEP_SIDE))
    values = {
        f"image.{name}": np.asarray([r[name] for r in rows], np.float64) for name in STAT_NAMES
    }
    embeddings = {emb.PIXELS: np.asarray(pixels, np.float32).reshape(len(pixels), -1)}
    if embedder is not None and kept:
        embeddings[emb.BACKBONE] = np.asarray(embedder(kept), np.float32)
    return ImageSummary(values, embeddings, read, unreadable)


def predict_values(
    predict: Predict, paths: Sequence[Path], batch: int = 32
) -> dict[str, np.ndarray]:
    """`prediction.*` samples of the model on the image files `paths` (their bytes, as
    serving receives them)."""
    from pipeline.core.progress import track

    outputs = []
    batches = [paths[i : i + batch] for i in range(0, len(paths), batch)]
    for chunk in track(batches, "drift: predicting", per_step=batch, total=len(batches)):
        frame = pd.DataFrame({"image": [Path(p).read_bytes() for p in chunk]})
        outputs.append(predict(frame).reset_index(drop=True))
    if not outputs:
        return {}
    return labels.prediction_values(pd.concat(outputs, ignore_index=True))


def spread(count: int, size: int, seed: int) -> set[int]:
    """`size` positions of `count` drawn at random: a bounded sample that covers the whole
    batch (the first `size` images of a recording would be its first minutes only)."""
    if count <= size:
        return set(range(count))
    return {int(i) for i in np.random.default_rng(seed).choice(count, size, replace=False)}


def image_paths(frame: pd.DataFrame, root: Path, column: str) -> list[Path]:
    return [root / str(p) for p in frame[column] if isinstance(p, str) and p]


def build_profile(
    task: str,
    frame: pd.DataFrame,
    root: Path,
    *,
    image_column: str,
    source: str,
    params: DriftParams,
    seed: int,
    embedder: emb.Embedder | None = None,
    predict: Predict | None = None,
    transform: Callable[[np.ndarray], np.ndarray] | None = None,
) -> Profile:
    """The profile of at most `params.max_images` manifest rows of `frame`, drawn at random
    (one image per row, from `image_column`); labels from the same rows; predictions of
    `predict` on the images that decoded."""
    rows = frame[frame[image_column].notna()]
    if len(rows) > params.max_images:  # a random draw, kept in recorded order (see compare)
        rows = rows.sample(n=params.max_images, random_state=seed).sort_index()
    if rows.empty:
        raise PipelineError(f"{source}: no images to profile")
    summary = summarise_images(
        image_paths(rows, root, image_column),
        embedder=embedder,
        max_embeddings=params.max_embeddings,
        transform=transform,
        embed=spread(len(rows), params.max_embeddings, seed),
    )
    if not summary.read:
        raise PipelineError(f"{source}: none of {len(rows)} images could be read")
    values = summary.values | labels.label_values(rows)
    if predict is not None:
        values |= predict_values(predict, summary.read)
    facts: dict[str, Any] = {"embedding_note": embedding_note(embedder)}
    if vocabulary := labels.vocabulary(rows):
        facts["vocabulary"] = vocabulary
    return Profile(
        task=task,
        source=source,
        values=values,
        embeddings=summary.embeddings,
        images=len(summary.read),
        unreadable=summary.unreadable,
        facts=facts,
    )


def embedding_note(embedder: emb.Embedder | None) -> str:
    if embedder is None:
        return (
            f"pixel embedding ({emb.PIXEL_GRID}x{emb.PIXEL_GRID} RGB): no backbone weights at "
            "models/backbone/backbone.weights.h5 (run `pipeline pretrain`)"
        )
    return "shared backbone (models/backbone/backbone.weights.h5) + pixel embedding"


def served_column(task_name: str) -> str:
    """The manifest column of the image the task's model is served (driving: the centre
    camera; the side cameras are training aids)."""
    from pipeline.tasks import TASKS

    return TASKS[task_name].image_columns[0]
