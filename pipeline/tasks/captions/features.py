"""Image embeddings for captioning, computed once and cached as `.npz`.

The feature map is average-pooled to a `grid` x `grid` layout instead of one global
average: captions say where things are ("on the left"), and a global average throws that
away. A colour layout (mean and max RGB of `colour_grid` x `colour_grid` cells) is the
other part: the self-supervised backbone learns from rotation, which needs no colour. A
linear probe (`reports/captions/features/probe.png`, always computed for every part) shows
which caption words each part tells apart. `parts` picks what the captioner gets (`auto`:
see `resolve_parts`). The extractor of those parts is saved as `extractor.keras` beside
the features so that serving computes exactly what training saw.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from pipeline.core.backbones import WEIGHTS_USED, build_backbone
from pipeline.core.io import write_json
from pipeline.core.layout import TaskPaths
from pipeline.core.model_params import BackboneParams
from pipeline.core.progress import track
from pipeline.tasks.base import FeaturesSummary
from pipeline.tasks.captions.params import CaptionsFeaturesParams, FeaturePart
from pipeline.tasks.captions.probe import plot_probe, probe, probe_rows, probe_words

if TYPE_CHECKING:
    import keras
    import tensorflow as tf

FEATURES_FILE = "features.npz"
EXTRACTOR_FILE = "extractor.keras"
MANIFEST_FILE = "manifest.parquet"


#: What `parts: auto` gives the captioner when the backbone has no ImageNet weights.
#: Measured on the 158 real Flickr8k train photos of the shared copy (the probe, 5-fold
#: cross-validated, 16 frequent words): no part tells words apart there. Mean held-out AUC
#: colour_layout 0.516, backbone with rotation-pretrained (selfsup) weights 0.524, both
#: 0.526 (0.5 = chance; one standard error ~0.05; pretrained on the plates photos too:
#: 0.507); no word reaches AUC 0.65 with either part but noise ("black" once), and every
#: part's accuracy is 7 points under the majority answer. The backbone adds
#: nothing measurable for 5,120 more inputs, which a captioner trained on a few hundred
#: photos overfits; the colour layout's 96 do not depend on how well `pretrain` went, and on
#: the synthetic sample it is the part that knows colour words. So: the colour layout.
OFFLINE_PARTS: tuple[FeaturePart, ...] = ("colour_layout",)
OFFLINE_WHY = (
    "on real Flickr8k photos the rotation-pretrained backbone told no caption word apart "
    "better than the 96-d colour layout (probe AUC 0.52 both)"
)


def resolve_parts(
    requested: list[FeaturePart] | Literal["auto"], weights: str
) -> tuple[list[FeaturePart], str]:
    """(the parts the captioner gets, why), given the weights the backbone was built from.

    `weights` is what `build_backbone` resolved `backbone.weights` to (`auto` becomes
    "imagenet" or "selfsup"). ImageNet features name objects, which is what captions say;
    without them `OFFLINE_PARTS` is the choice measured by the probe on real photos.
    """
    if isinstance(requested, list):
        return list(requested), "set in features.captions.parts"
    if weights == "imagenet":
        return ["backbone"], "auto: ImageNet weights, whose features name objects"
    return list(OFFLINE_PARTS), f"auto: backbone weights {weights}, not ImageNet; {OFFLINE_WHY}"


@dataclass(frozen=True)
class Extractors:
    every_part: keras.Model  # all parts by name, for the probe
    chosen: keras.Model  # the chosen parts as one flat vector, for the captioner
    parts: list[FeaturePart]
    why: str


def extractors(params: CaptionsFeaturesParams, shared: BackboneParams) -> Extractors:
    """Every part and the chosen ones; 0-255 RGB squares in."""
    import keras
    from keras import layers

    size = params.image_size
    backbone = build_backbone(params.backbone or shared, (size, size, 3))
    chosen_parts, why = resolve_parts(params.parts, WEIGHTS_USED[-1])
    grid = layers.Resizing(params.grid, params.grid, interpolation="area", name="grid")
    cells = params.colour_grid
    rgb = layers.Rescaling(1 / 255, name="unit_rgb")(backbone.input)
    mean = layers.Resizing(cells, cells, interpolation="area", name="colour_mean")(rgb)
    peak = layers.MaxPooling2D(size // cells, name="colour_max")(rgb)
    parts = {
        "backbone": layers.Flatten(name="backbone_vector")(grid(backbone.output)),
        "colour_layout": layers.Concatenate(name="colour_vector")(
            [layers.Flatten(name="mean_vector")(mean), layers.Flatten(name="max_vector")(peak)]
        ),
    }
    chosen = [parts[name] for name in chosen_parts]
    vector = chosen[0] if len(chosen) == 1 else layers.Concatenate(name="vector")(chosen)
    every_part = keras.Model(backbone.input, parts, name="feature_parts")
    return Extractors(
        every_part,
        keras.Model(backbone.input, vector, name="caption_features"),
        chosen_parts,
        why,
    )


def build_extractors(
    params: CaptionsFeaturesParams, shared: BackboneParams
) -> tuple[keras.Model, keras.Model]:
    """(all parts by name, the chosen parts as one flat vector); 0-255 RGB squares in."""
    built = extractors(params, shared)
    return built.every_part, built.chosen


def decode_resized(data: tf.Tensor, size: int) -> tf.Tensor:
    """Encoded image bytes -> float32 RGB `size` x `size`, as the extractor wants them."""
    from pipeline.core.tfdata import decode_rgb

    return resized(decode_rgb(data), size)


def resized(image: tf.Tensor, size: int) -> tf.Tensor:
    """A uint8 RGB image -> float32 RGB `size` x `size`, as the extractor wants it."""
    import tensorflow as tf

    return tf.image.resize(tf.cast(image, tf.float32), (size, size), antialias=True)


def feature_batches(files: list[str], size: int, batch_size: int) -> tf.data.Dataset:
    """Decoded, resized image batches read in parallel and prefetched."""
    import tensorflow as tf

    return (
        tf.data.Dataset.from_tensor_slices(files)
        .map(
            lambda f: decode_resized(tf.io.read_file(f), size), num_parallel_calls=tf.data.AUTOTUNE
        )
        .batch(batch_size)
        .prefetch(tf.data.AUTOTUNE)
    )


def features(
    valid: pd.DataFrame, params: CaptionsFeaturesParams, backbone: BackboneParams, paths: TaskPaths
) -> FeaturesSummary:
    """Write the features of every valid image, their manifest and the extractor into
    `paths.processed_dir`; probe them (into `paths.reports_dir`)."""
    raw_dir, out_dir, reports_dir = paths.raw_dir, paths.processed_dir, paths.reports_dir
    images = valid.drop_duplicates("image_id").reset_index(drop=True)
    built = extractors(params, backbone)
    every_part, extractor, chosen_parts = built.every_part, built.chosen, built.parts
    files = [str(raw_dir / path) for path in images["image"]]
    batches = feature_batches(files, params.image_size, params.batch_size)
    total = -(-len(files) // params.batch_size)
    # Only the captioner's parts are kept for every image; the probe's bounded spread of
    # rows keeps every part. So memory stays flat however many images there are.
    used = probe_rows(images)
    chosen: list[np.ndarray] = []
    probed_parts: dict[str, list[np.ndarray]] = {}
    start = 0
    for batch in track(
        batches, "captions: image features", total=total, per_step=params.batch_size
    ):
        outputs = {k: v.numpy() for k, v in every_part(batch, training=False).items()}
        rows = used[start : start + len(batch)]
        start += len(batch)
        chosen.append(np.concatenate([outputs[k] for k in chosen_parts], axis=1))
        for name, values in outputs.items():
            probed_parts.setdefault(name, []).append(values[rows])
    vectors = np.concatenate(chosen).astype(np.float32)
    np.savez(
        out_dir / FEATURES_FILE,
        image_id=images["image_id"].to_numpy(dtype=str),
        features=vectors,
    )
    images[["image_id", "image", "split", "captions"]].to_parquet(out_dir / MANIFEST_FILE)
    extractor.save(out_dir / EXTRACTOR_FILE)
    sets = {name: np.concatenate(values) for name, values in probed_parts.items()}
    sets["both"] = np.concatenate(list(sets.values()), axis=1)
    probed = probe(images[used].reset_index(drop=True), sets, probe_words(images))
    probed["captioner_gets"] = list(chosen_parts)
    probed["why"] = built.why
    write_json(reports_dir / "probe.json", probed)
    plot_probe(probed, reports_dir / "probe.png")
    return FeaturesSummary(
        images=len(images),
        dimensions=int(vectors.shape[1]),
        note=f"captioner gets {' + '.join(chosen_parts)} ({built.why})",
    )


def load_features(processed_dir: Path) -> tuple[pd.DataFrame, np.ndarray]:
    """(manifest, features) in the same row order; no pickle involved."""
    with np.load(processed_dir / FEATURES_FILE, allow_pickle=False) as stored:
        ids, features = stored["image_id"], stored["features"]
    manifest = pd.read_parquet(processed_dir / MANIFEST_FILE)
    if list(manifest["image_id"]) != list(ids):
        raise ValueError(f"{processed_dir}: features and manifest disagree; rerun `features`")
    return manifest, features
