"""The captions rows of `pipeline bench`: greedy and beam decoding, image features; their
inputs, our ways and the textbook's (re-created faithfully: one image or one word at a time).

Models are the trained ones when the pipeline has run (`models/...`) and freshly built ones
of the same shape otherwise: the cost of a forward pass does not depend on the weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.bench.case import (
    Agreement,
    Case,
    Goal,
    Measured,
    Setup,
    Verdict,
    largest_difference_below,
    speedup_at_least,
)


# ---- decoding ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Decoding:
    model: Any  # the merge model
    decoder: Any  # our `Decoder` over it
    features: np.ndarray  # one image feature vector a row
    start: int
    end: int
    steps: int
    source: str  # where the model comes from
    never: tuple[int, ...] = ()  # ids no caption says (<pad>, <unk>, startseq): both loops


def decoding(setup: Setup) -> Decoding:
    """The trained model, tokenizer and features when there are some, else fresh ones."""
    import keras

    from pipeline.core import layout
    from pipeline.tasks.captions.decode import Decoder
    from pipeline.tasks.captions.features import load_features
    from pipeline.tasks.captions.model import build_model
    from pipeline.tasks.captions.params import CaptionsTrainParams, TextParams
    from pipeline.tasks.captions.text import END, PAD, START, UNK, Tokenizer
    from pipeline.tasks.captions.training import TOKENIZER_FILE

    count = setup.size(6, 60)
    model_file = layout.model_path("captions")
    tokenizer_file = layout.assets_dir("captions") / TOKENIZER_FILE
    if not setup.quick and model_file.is_file() and tokenizer_file.is_file():
        model = keras.models.load_model(model_file, safe_mode=True)
        tokenizer = Tokenizer.load(tokenizer_file)
        features = load_features(layout.processed_dir("captions"))[1][:count]
        source = "trained model"
    else:
        keras.utils.set_random_seed(setup.seed)
        words = "a red blue green circle square star on the left right top bottom and two three"
        rng = np.random.default_rng
        captions = [" ".join(rng(i).choice(words.split(), 9)) for i in range(40)]
        tokenizer = Tokenizer.fit(captions, TextParams(min_word_count=1))
        params = CaptionsTrainParams(units=setup.size(32, 256), embedding_dim=16)
        model = build_model(tokenizer.vocabulary_size, tokenizer.max_length - 1, 96, params)
        features = rng(setup.seed).normal(size=(count, 96)).astype(np.float32)
        source = "untrained model of the same shape"
    decoder = Decoder(model, tokenizer)
    start, end = tokenizer.id(START), tokenizer.id(END)
    never = tuple(tokenizer.id(word) for word in (PAD, UNK, START))
    return Decoding(model, decoder, features, start, end, decoder.max_steps, source, never)


def about_decoding(inputs: Decoding) -> str:
    return f"{len(inputs.features)} images, {inputs.source}"


def greedy(inputs: Decoding) -> np.ndarray:
    """Ours: all images at once, one compiled step a word."""
    return inputs.decoder.greedy(inputs.features)


def greedy_textbook(inputs: Decoding) -> list[list[int]]:
    return [
        greedy_caption(inputs.model, f, inputs.start, inputs.end, inputs.steps, inputs.never)
        for f in inputs.features
    ]


def greedy_caption(
    model: Any,
    feature: np.ndarray,
    start: int,
    end: int,
    steps: int,
    never: tuple[int, ...] = (),
) -> list[int]:
    """The textbook's decoding: for each next word, pad the partial sequence, `predict` a
    batch of one, take argmax.

    The choice follows the pipeline's decoding rule so the two loops can agree: ids in
    `never` are never chosen, and the caption does not end before its first word."""
    ids = [start]
    for _ in range(steps):
        sequence = np.zeros((1, steps), np.int32)
        sequence[0, : len(ids)] = ids
        probabilities = model.predict([feature[None], sequence], verbose=0)[0, len(ids) - 1]
        banned = [*never, end] if len(ids) == 1 else list(never)
        probabilities = probabilities.copy()
        probabilities[banned] = -np.inf
        word = int(np.argmax(probabilities))
        ids.append(word)
        if word == end:
            break
    return ids[1:]


def same_tokens(inputs: Decoding, ours: np.ndarray, theirs: list[list[int]]) -> Agreement:
    """Ours pads every caption to the longest: compare up to and with the end token."""
    mine = [_until_end(row, inputs.end) for row in ours]
    return Agreement(mine == theirs, f"same token ids for all {len(inputs.features)} images")


def _until_end(ids: np.ndarray, end: int) -> list[int]:
    out = []
    for i in ids:
        out.append(int(i))
        if i == end:
            break
    return out


def beam(inputs: Decoding) -> np.ndarray:
    return inputs.decoder.beam(inputs.features, 3)


def beam_equals_greedy(inputs: Decoding, _ours: np.ndarray, greedy: np.ndarray) -> Agreement:
    """A beam of width 1 is greedy decoding; a beam of 3 gives one caption an image."""
    decoder, features = inputs.decoder, inputs.features
    same = np.array_equal(decoder.beam(features, 1), greedy)
    return Agreement(
        bool(same and len(decoder.captions(features, 3)) == len(features)),
        "beam search of width 1 gives the greedy captions",
    )


def beam_within(times: float) -> Goal[Decoding]:
    """Beam search costs at most `times` our greedy decoding (the ratio is beam / greedy)."""

    def judge(measured: Measured[Decoding]) -> Verdict:
        assert measured.baseline_seconds is not None
        ratio = measured.ours_seconds / measured.baseline_seconds
        return Verdict(ratio <= times, ratio)

    return Goal(f"beam time <= {times:g}x greedy time", judge)


def about_beam(inputs: Decoding) -> str:
    return f"{about_decoding(inputs)}; ratio = beam / greedy"


# ---- features ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Images:
    files: list[Path]
    extractor: Any  # the feature model
    image_size: int
    batch_size: int


def images(setup: Setup) -> Images:
    """Sample images on disk and a feature extractor (random weights, same cost)."""
    from pipeline.core.model_params import BackboneParams
    from pipeline.tasks.captions.features import build_extractors
    from pipeline.tasks.captions.params import CaptionsFeaturesParams, CaptionsSampleParams
    from pipeline.tasks.captions.sample import IMAGES_DIR, write_sample

    folder = setup.folder("captions")
    write_sample(folder, CaptionsSampleParams(images=setup.size(8, 128)), setup.seed)
    params = CaptionsFeaturesParams(parts=["backbone", "colour_layout"])
    _, extractor = build_extractors(params, BackboneParams(weights="none"))
    files = sorted((folder / IMAGES_DIR).glob("*.jpg"))
    return Images(files, extractor, params.image_size, params.batch_size)


def about_images(inputs: Images) -> str:
    return f"{len(inputs.files)} images, MobileNetV2 backbone + colour layout"


def features(inputs: Images) -> np.ndarray:
    """Ours: tf.data decodes in parallel, the extractor runs on whole batches."""
    from pipeline.tasks.captions.features import feature_batches

    files = [str(f) for f in inputs.files]
    batches = feature_batches(files, inputs.image_size, inputs.batch_size)
    return np.concatenate([inputs.extractor(b, training=False).numpy() for b in batches])


def features_textbook(inputs: Images) -> np.ndarray:
    return features_one_by_one(inputs.extractor, inputs.files, inputs.image_size)


def features_one_by_one(extractor: Any, files: list[Path], size: int) -> np.ndarray:
    """The textbook's extraction: load one image, resize and preprocess it, `predict` it
    alone; in a Python loop."""
    import tensorflow as tf

    from pipeline.tasks.captions.features import decode_resized

    rows = []
    for path in files:
        image = decode_resized(tf.constant(path.read_bytes()), size)
        rows.append(extractor.predict(image[None], verbose=0)[0])
    return np.stack(rows)


CASES: tuple[Case[Any], ...] = (
    Case(
        name="caption-greedy",
        what="greedy captions: batched compiled decoding vs predict per word per image",
        goal=speedup_at_least(30),
        inputs=decoding,
        ours=greedy,
        baseline=greedy_textbook,
        agree=same_tokens,
        note=about_decoding,
    ),
    Case(
        name="caption-beam",
        what="batched beam search (k=3) vs our batched greedy",
        goal=beam_within(2.5),
        inputs=decoding,
        ours=beam,
        baseline=greedy,
        agree=beam_equals_greedy,
        note=about_beam,
    ),
    Case(
        name="features",
        what="image features: tf.data batched extraction vs load-and-predict one image at a time",
        goal=speedup_at_least(3),
        inputs=images,
        ours=features,
        baseline=features_textbook,
        agree=largest_difference_below(1e-3, "feature"),
        note=about_images,
    ),
)
