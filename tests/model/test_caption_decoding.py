"""Batched, compiled greedy and beam decoding of the merge model, and that it learns."""

from pathlib import Path

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from pipeline.core.finetune import two_phase_fit  # noqa: E402
from pipeline.core.model_params import FinetuneParams  # noqa: E402
from pipeline.tasks.captions.decode import Decoder  # noqa: E402
from pipeline.tasks.captions.model import build_model  # noqa: E402
from pipeline.tasks.captions.params import CaptionsTrainParams, TextParams  # noqa: E402
from pipeline.tasks.captions.text import END, PAD, UNK, Tokenizer  # noqa: E402
from pipeline.tasks.captions.training import pairs_dataset  # noqa: E402

PARAMS = CaptionsTrainParams(units=16, embedding_dim=8, dropout=0.0)
CAPTIONS = ["red ball on the left", "blue cube on the right", "green star at the top"]


@pytest.fixture(scope="module")
def tokenizer():
    return Tokenizer.fit(CAPTIONS, TextParams(min_word_count=1))


def _random_model(tokenizer, feature_dim=6, seed=0):
    keras.utils.set_random_seed(seed)
    return build_model(tokenizer.vocabulary_size, tokenizer.max_length - 1, feature_dim, PARAMS)


def _features(n, dim=6, seed=1):
    return np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)


def test_batched_greedy_equals_one_image_at_a_time(tokenizer):
    decoder = Decoder(_random_model(tokenizer), tokenizer)
    features = _features(7)
    together = decoder.greedy(features, batch_size=4)  # two batches, the last one partial
    alone = np.concatenate([decoder.greedy(features[i : i + 1]) for i in range(7)])
    np.testing.assert_array_equal(together, alone)


def test_beam_of_one_is_greedy_and_wider_beams_are_batch_independent(tokenizer):
    decoder = Decoder(_random_model(tokenizer), tokenizer)
    features = _features(5)
    np.testing.assert_array_equal(decoder.beam(features, 1), decoder.greedy(features))
    together = decoder.beam(features, 3, batch_size=2)
    alone = np.concatenate([decoder.beam(features[i : i + 1], 3) for i in range(5)])
    np.testing.assert_array_equal(together, alone)


def test_decoding_always_stops(tokenizer):
    decoder = Decoder(_random_model(tokenizer, seed=3), tokenizer)
    for ids in (decoder.greedy(_features(9)), decoder.beam(_features(9), 3)):
        assert ids.shape == (9, tokenizer.max_length - 1)  # never longer than max_length
        for row in ids:
            ends = np.flatnonzero(row == tokenizer.id(END))
            if len(ends):  # nothing but padding after the end token
                assert (row[ends[0] + 1 :] == tokenizer.id(PAD)).all()


def test_decoding_stops_at_the_end_token(tokenizer):
    model = _random_model(tokenizer)
    head = model.get_layer("next_word")
    kernel, bias = head.get_weights()
    bias[tokenizer.id(END)] = 20.0  # the model now always says "end" ...
    bias[tokenizer.id("ball")] = 10.0  # ... or else "ball"
    bias[tokenizer.id(UNK)] = 30.0  # "<unk>" is never said, however likely
    head.set_weights([np.zeros_like(kernel), bias])
    decoder = Decoder(model, tokenizer)
    for ids in (decoder.greedy(_features(3)), decoder.beam(_features(3), 2)):
        # a caption's first word is never the end
        assert (ids[:, 0] == tokenizer.id("ball")).all()
        assert (ids[:, 1] == tokenizer.id(END)).all() and (ids[:, 2:] == 0).all()
    assert decoder.captions(_features(2)) == ["ball", "ball"]


@pytest.mark.train
def test_the_merge_model_learns_captions_from_features(tokenizer, tmp_path: Path):
    keras.utils.set_random_seed(0)
    labels = np.arange(60) % 3
    features = np.eye(3, dtype=np.float32)[labels] + _features(60, 3) * 0.05
    sequences = tokenizer.pad([CAPTIONS[i] for i in labels])
    rows = np.arange(60, dtype=np.int32)
    data = pairs_dataset(features, rows, sequences, batch_size=16, shuffle=True, seed=0)
    model = build_model(
        tokenizer.vocabulary_size, tokenizer.max_length - 1, 3, PARAMS, train_features=features
    )
    fit = FinetuneParams(head_epochs=40, finetune_epochs=0, learning_rate=0.02, patience=40)
    two_phase_fit(
        model,
        data,
        data,
        fit,
        loss="sparse_categorical_crossentropy",
        metrics=[],
        work_dir=tmp_path,
        verbose=0,
    )
    decoder = Decoder(model, tokenizer)
    assert decoder.captions(np.eye(3, dtype=np.float32)) == [
        "red ball on the left",
        "blue cube on the right",
        "green star at the top",
    ]
    assert decoder.captions(np.eye(3, dtype=np.float32), beam_size=3)[1] == "blue cube on the right"
