"""Train the merge model on cached features; log it as a pyfunc that captions raw JPEGs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pipeline.core.accelerate import global_batch
from pipeline.core.errors import DatasetError
from pipeline.core.finetune import two_phase_fit
from pipeline.core.io import write_json
from pipeline.core.layout import TaskPaths
from pipeline.core.model_params import BackboneParams, FinetuneParams
from pipeline.core.progress import epoch_progress
from pipeline.tasks.base import Trained
from pipeline.tasks.captions.features import EXTRACTOR_FILE, load_features
from pipeline.tasks.captions.glove import glove_path, read_glove
from pipeline.tasks.captions.model import build_model
from pipeline.tasks.captions.params import CaptionsTrainParams
from pipeline.tasks.captions.text import Tokenizer

if TYPE_CHECKING:
    import keras
    import tensorflow as tf

TOKENIZER_FILE = "tokenizer.json"
SPECIAL_TOKENS = 4  # <pad>, <unk>, startseq, endseq: no GloVe vector


def caption_pairs(
    manifest: pd.DataFrame, features: np.ndarray, split: str, tokenizer: Tokenizer
) -> tuple[np.ndarray, np.ndarray]:
    """(feature row index, padded sequence) for every caption of the split's images."""
    rows, captions = [], []
    for index in np.flatnonzero(manifest["split"].to_numpy() == split):
        for caption in manifest["captions"].iloc[index]:
            rows.append(index)
            captions.append(caption)
    return np.asarray(rows, np.int32), tokenizer.pad(captions)


def pairs_dataset(
    features: np.ndarray,
    rows: np.ndarray,
    sequences: np.ndarray,
    batch_size: int,
    shuffle: bool,
    seed: int,
) -> tf.data.Dataset:
    """((image features, words[:-1]), words[1:]) batches; features gathered, not copied."""
    import tensorflow as tf

    table = tf.constant(features)
    dataset = tf.data.Dataset.from_tensor_slices((rows, sequences))
    if shuffle:
        dataset = dataset.shuffle(len(rows), seed=seed, reshuffle_each_iteration=True)
    return (
        dataset.batch(batch_size)
        .map(
            lambda r, s: ((tf.gather(table, r), s[:, :-1]), s[:, 1:]),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
        .prefetch(tf.data.AUTOTUNE)
    )


def _split_dataset(
    manifest: pd.DataFrame,
    features: np.ndarray,
    split: str,
    tokenizer: Tokenizer,
    batch_size: int,
    seed: int,
) -> tf.data.Dataset:
    rows, sequences = caption_pairs(manifest, features, split, tokenizer)
    if len(rows) == 0:
        raise DatasetError(f"captions: no {split} captions; check the split files")
    return pairs_dataset(features, rows, sequences, batch_size, split == "train", seed)


def early_stopping_split(
    manifest: pd.DataFrame, params: CaptionsTrainParams, seed: int
) -> tuple[pd.DataFrame, str]:
    """The manifest whose `val` rows early stopping watches, and where they come from.

    A val split of a few images (a partial copy: Flickr8k's dev split may be all but
    missing) makes early stopping a coin toss; that fails the stage, unless
    `val_from_train` names a share of train images to move to val. Test is never touched.
    """
    split = manifest["split"].to_numpy()
    val = int((split == "val").sum())
    if val >= params.min_val_images:
        return manifest, f"the val split ({val} images)"
    if params.val_from_train == 0:
        raise DatasetError(
            f"captions: the val split has {val} images (< train.captions.min_val_images "
            f"{params.min_val_images}), too few to early-stop on: set "
            "train.captions.val_from_train (e.g. 0.15) to hold out that share of train images"
        )
    train = np.flatnonzero(split == "train")
    count = round(len(train) * params.val_from_train)
    if count < 1 or count >= len(train):
        raise DatasetError(
            f"captions: train.captions.val_from_train {params.val_from_train} of "
            f"{len(train)} train images leaves no val or no train image"
        )
    moved = np.random.default_rng(seed).choice(train, size=count, replace=False)
    carved = split.copy()
    carved[moved] = "val"
    return manifest.assign(split=carved), (
        f"{val} val images + {count} of {len(train)} train images "
        f"(train.captions.val_from_train {params.val_from_train})"
    )


def fit(
    params: CaptionsTrainParams,
    backbone: BackboneParams,
    paths: TaskPaths,
    *,
    seed: int,
    jit_compile: bool = False,
) -> Trained:
    """Tokenizer from the train captions (saved into `paths.assets_dir` for serving), then
    the merge model early-stopped on val."""
    assets_dir = paths.assets_dir
    manifest, features = load_features(paths.processed_dir)
    manifest, val_note = early_stopping_split(manifest, params, seed)
    train_captions = manifest.loc[manifest["split"] == "train", "captions"]
    tokenizer = Tokenizer.fit([c for captions in train_captions for c in captions], params.text)
    if tokenizer.vocabulary_size <= SPECIAL_TOKENS:
        raise DatasetError(
            "captions: no train word is seen train.captions.text.min_word_count times; "
            "lower it or use more images"
        )
    vectors = None
    source = glove_path(params.embeddings)
    glove: dict[str, float] = {}
    if source is not None:
        found = read_glove(source, tokenizer.words, SPECIAL_TOKENS)
        vectors = found.matrix
        glove = {"glove_coverage": found.coverage, "glove_dim": float(vectors.shape[1])}
    tokenizer.save(assets_dir / TOKENIZER_FILE)
    write_json(
        assets_dir / "vocabulary.json",
        {
            "size": tokenizer.vocabulary_size,
            "max_length": tokenizer.max_length,
            "train_images": int((manifest["split"] == "train").sum()),
            "val_images": int((manifest["split"] == "val").sum()),
            "val": val_note,
            **glove,
        },
    )
    train, val = (
        _split_dataset(manifest, features, split, tokenizer, global_batch(params.batch_size), seed)
        for split in ("train", "val")
    )
    model = build_model(
        tokenizer.vocabulary_size,
        tokenizer.max_length - 1,
        features.shape[1],
        params,
        vectors,
        train_features=features[(manifest["split"] == "train").to_numpy()],
    )
    history = two_phase_fit(
        model,
        train,
        val,
        FinetuneParams(
            head_epochs=params.epochs,
            finetune_epochs=0,
            learning_rate=params.learning_rate,
            patience=params.patience,
        ),
        loss="sparse_categorical_crossentropy",
        metrics=["sparse_categorical_accuracy"],
        work_dir=paths.checkpoints_dir,
        jit_compile=jit_compile,
        callbacks=[
            epoch_progress("captions", int((manifest["split"] == "train").sum()), params.epochs)
        ],
        verbose=0,  # epoch_progress says it, as for every other stage
    )
    return Trained(model, history)


def log_model(model: keras.Model, paths: TaskPaths) -> str:
    """A pyfunc from code (no pickle): encoded images of any size in, `caption` out."""
    from pipeline.core.pyfunc import log_image_model
    from pipeline.tasks.captions import serving

    return log_image_model(
        serving,
        models={"captioner": model},
        files={
            "extractor": paths.processed_dir / EXTRACTOR_FILE,
            "tokenizer": paths.assets_dir / TOKENIZER_FILE,
        },
    )
