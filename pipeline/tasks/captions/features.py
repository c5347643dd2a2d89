"""Image embeddings for captioning, computed once and cached as `.npz`.

The feature map is average-pooled to a `grid` x `grid` layout instead of one global
average: captions say where things are ("on the left"), and a global average throws that
away. A colour layout (mean and max RGB of `colour_grid` x `colour_grid` cells) is added:
the self-supervised backbone learns from rotation, which needs no colour, and a linear
probe shows its features barely know "red" from "green" (`reports/captions/features/`).
The extractor (scaling, backbone, pooling) is saved as `extractor.keras` beside the
features so that serving computes exactly what training saw.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pipeline.core.backbones import build_backbone
from pipeline.core.io import write_json
from pipeline.core.model_params import BackboneParams
from pipeline.core.progress import track
from pipeline.tasks.captions.params import CaptionsFeaturesParams
from pipeline.tasks.captions.probe import plot_probe, probe, probe_words

if TYPE_CHECKING:
    import keras
    import tensorflow as tf

FEATURES_FILE = "features.npz"
EXTRACTOR_FILE = "extractor.keras"
MANIFEST_FILE = "manifest.parquet"


def build_extractor(params: CaptionsFeaturesParams, shared: BackboneParams) -> keras.Model:
    """0-255 RGB images of `image_size` squared -> one flat vector per image."""
    import keras
    from keras import layers

    size = params.image_size
    backbone = build_backbone(params.backbone or shared, (size, size, 3))
    grid = layers.Resizing(params.grid, params.grid, interpolation="area", name="grid")
    parts = [layers.Flatten(name="backbone_vector")(grid(backbone.output))]
    if params.colour_grid:
        cells = params.colour_grid
        rgb = layers.Rescaling(1 / 255, name="unit_rgb")(backbone.input)
        mean = layers.Resizing(cells, cells, interpolation="area", name="colour_mean")(rgb)
        peak = layers.MaxPooling2D(size // cells, name="colour_max")(rgb)
        parts += [layers.Flatten(name="mean_vector")(mean), layers.Flatten(name="max_vector")(peak)]
    vector = parts[0] if len(parts) == 1 else layers.Concatenate(name="vector")(parts)
    return keras.Model(backbone.input, vector, name="caption_features")


def backbone_dimensions(params: CaptionsFeaturesParams, total: int) -> int:
    """How many leading feature columns come from the backbone (the rest: colour layout)."""
    return total - 2 * 3 * params.colour_grid**2


def decode_resized(data: tf.Tensor, size: int) -> tf.Tensor:
    """Encoded image bytes -> float32 RGB `size` x `size`, as the extractor wants them."""
    import tensorflow as tf

    image = tf.io.decode_image(data, channels=3, expand_animations=False)
    return tf.image.resize(tf.cast(image, tf.float32), (size, size), antialias=True)


def extract(
    valid: pd.DataFrame,
    raw_dir: Path,
    params: CaptionsFeaturesParams,
    shared: BackboneParams,
    out_dir: Path,
    reports_dir: Path,
) -> dict[str, Any]:
    """Write the features of every valid image, their manifest and the extractor; probe them."""
    import tensorflow as tf

    images = valid.drop_duplicates("image_id").reset_index(drop=True)
    extractor = build_extractor(params, shared)
    files = [str(raw_dir / path) for path in images["image"]]
    batches = (
        tf.data.Dataset.from_tensor_slices(files)
        .map(
            lambda f: decode_resized(tf.io.read_file(f), params.image_size),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
        .batch(params.batch_size)
        .prefetch(tf.data.AUTOTUNE)
    )
    total = -(-len(files) // params.batch_size)
    vectors = [
        extractor(batch, training=False).numpy()
        for batch in track(batches, "captions: image features", total=total)
    ]
    features = np.concatenate(vectors).astype(np.float32)
    np.savez(
        out_dir / FEATURES_FILE,
        image_id=images["image_id"].to_numpy(dtype=str),
        features=features,
    )
    images[["image_id", "image", "split", "captions"]].to_parquet(out_dir / MANIFEST_FILE)
    extractor.save(out_dir / EXTRACTOR_FILE)
    learned = backbone_dimensions(params, features.shape[1])
    sets = {"backbone": features[:, :learned]}
    if learned < features.shape[1]:
        sets["colour layout"] = features[:, learned:]
        sets["both (what the captioner gets)"] = features
    probed = probe(images, sets, probe_words(images))
    write_json(reports_dir / "probe.json", probed)
    plot_probe(probed, reports_dir / "probe.png")
    return {"images": len(images), "dimensions": int(features.shape[1])}


def load_features(processed_dir: Path) -> tuple[pd.DataFrame, np.ndarray]:
    """(manifest, features) in the same row order; no pickle involved."""
    with np.load(processed_dir / FEATURES_FILE, allow_pickle=False) as stored:
        ids, features = stored["image_id"], stored["features"]
    manifest = pd.read_parquet(processed_dir / MANIFEST_FILE)
    if list(manifest["image_id"]) != list(ids):
        raise ValueError(f"{processed_dir}: features and manifest disagree; rerun `features`")
    return manifest, features
