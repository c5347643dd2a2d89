"""Captions choices that must hold on a partial copy of Flickr8k: which feature parts `auto`
gives the captioner, how the probe holds images out, where early stopping's val images come
from, and what the baseline caption is."""

import numpy as np
import pandas as pd
import pytest

from pipeline.core.errors import DatasetError
from pipeline.tasks.captions.evaluate import most_frequent_caption
from pipeline.tasks.captions.features import OFFLINE_PARTS, resolve_parts
from pipeline.tasks.captions.params import CaptionsTrainParams, TextParams
from pipeline.tasks.captions.probe import MIN_PROBE_VAL, auc, probe, probe_words
from pipeline.tasks.captions.text import Tokenizer
from pipeline.tasks.captions.training import early_stopping_split


def test_auto_parts_follow_the_weights_the_backbone_was_built_from():
    assert resolve_parts("auto", "imagenet") == (
        ["backbone"],
        "auto: ImageNet weights, whose features name objects",
    )
    for offline in ("selfsup", "none", "file", "/models/official_notop.h5"):
        parts, why = resolve_parts("auto", offline)
        assert parts == list(OFFLINE_PARTS)
        assert f"backbone weights {offline}, not ImageNet" in why
    assert resolve_parts(["backbone", "colour_layout"], "selfsup")[0] == [
        "backbone",
        "colour_layout",
    ]


def _manifest(splits: list[str], has_dog: np.ndarray) -> pd.DataFrame:
    captions = [["a dog runs ."] if dog else ["a cat sleeps ."] for dog in has_dog]
    return pd.DataFrame({"split": splits, "captions": captions})


def test_the_probe_cross_validates_on_train_when_val_is_too_small():
    rng = np.random.default_rng(0)
    n_train, n_test = 60, 40
    has_dog = rng.random(n_train + n_test) < 0.5
    splits = ["train"] * n_train + ["val"] + ["test"] * (n_test - 1)
    manifest = _manifest(splits, has_dog)
    knows = has_dog[:, None] + rng.normal(0, 0.3, (len(has_dog), 3))
    noise = rng.normal(size=(len(has_dog), 3))
    knows[n_train:] = -knows[n_train:]  # test rows that would mislead: never used
    result = probe(manifest, {"knows": knows, "noise": noise}, ["dog"])
    assert result["held_out"].startswith(f"5-fold cross-validation over {n_train} train images")
    assert f"val has 1 < {MIN_PROBE_VAL}" in result["held_out"]
    assert result["auc"]["knows"][0] > 0.9 and result["knows"][0] > 0.85
    assert 0.25 < result["auc"]["noise"][0] < 0.75
    assert result["summary"]["knows"]["words_told_apart"] == ["dog"]
    assert result["summary"]["noise"]["words_told_apart"] == []


def test_the_probe_uses_val_when_it_is_large_enough():
    rng = np.random.default_rng(1)
    has_dog = rng.random(100) < 0.5
    manifest = _manifest(["train"] * 60 + ["val"] * 40, has_dog)
    x = has_dog[:, None] + rng.normal(0, 0.3, (100, 2))
    assert probe(manifest, {"x": x}, ["dog"])["held_out"] == "val (40 images)"


def test_the_probe_says_why_it_cannot_run():
    manifest = _manifest(["train"] * 4 + ["val"], np.array([1, 0, 1, 0, 1], bool))
    result = probe(manifest, {"x": np.zeros((5, 2))}, ["dog"])
    assert result["words"] == [] and "needs" in result["note"]


def test_auc_counts_ties_half():
    assert auc(np.array([3.0, 2.0, 1.0, 0.0]), np.array([1, 1, 0, 0])) == 1.0
    assert auc(np.array([1.0, 1.0]), np.array([1, 0])) == 0.5
    assert auc(np.array([1.0, 2.0]), np.array([1, 1])) == 0.5  # one class: no ranking


def test_probe_words_break_ties_alphabetically():
    captions = [["zebra and apple"], ["zebra and apple"], ["other words"], ["more text"]]
    manifest = pd.DataFrame({"split": ["train"] * 4, "captions": captions})
    assert probe_words(manifest) == ["and", "apple", "zebra", "more", "other", "text", "words"]


def _splits(train: int, val: int, test: int) -> pd.DataFrame:
    split = ["train"] * train + ["val"] * val + ["test"] * test
    return pd.DataFrame({"split": split, "captions": [["a dog ."]] * len(split)})


def test_a_val_split_too_small_to_early_stop_on_fails_in_one_line_naming_the_fix():
    with pytest.raises(DatasetError) as err:
        early_stopping_split(_splits(158, 1, 125), CaptionsTrainParams(), seed=0)
    message = str(err.value)
    assert "val split has 1 images" in message and "train.captions.val_from_train" in message
    assert "\n" not in message


def test_val_from_train_moves_a_seeded_share_of_train_and_never_touches_test():
    manifest = _splits(158, 1, 125)
    params = CaptionsTrainParams(val_from_train=0.15)
    carved, note = early_stopping_split(manifest, params, seed=0)
    counts = carved["split"].value_counts().to_dict()
    assert counts == {"train": 134, "val": 25, "test": 125}
    assert (carved["split"] == "test").equals(manifest["split"] == "test")
    assert note.startswith("1 val images + 24 of 158 train images")
    again, _ = early_stopping_split(manifest, params, seed=0)
    assert again["split"].equals(carved["split"])


def test_a_large_enough_val_split_is_used_as_it_is():
    manifest = _splits(50, 10, 10)
    carved, note = early_stopping_split(manifest, CaptionsTrainParams(val_from_train=0.5), 0)
    assert carved is manifest and note == "the val split (10 images)"


def test_the_baseline_caption_is_never_empty():
    captions = ["A dog runs .", "A dog runs .", "The dog runs on grass .", "Yy .", "Xx .", "Ww ."]
    tokenizer = Tokenizer.fit(captions, TextParams(min_word_count=2))
    # "yy", "xx", "ww" are out of vocabulary: three captions that clean to nothing
    assert most_frequent_caption(captions, tokenizer) == ["dog", "runs"]


def test_baseline_ties_go_to_the_caption_of_the_most_common_words():
    captions = ["A dog runs .", "The dog runs fast .", "A cat sits ."]  # each seen once
    tokenizer = Tokenizer.fit(captions, TextParams(min_word_count=1))
    assert most_frequent_caption(captions, tokenizer) == ["the", "dog", "runs", "fast"]
