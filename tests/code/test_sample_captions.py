"""Synthetic Flickr8k: official layout, captions true to each picture, determinism."""

import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from pipeline.tasks.captions.sample import (
    BACKGROUNDS,
    COLOURS,
    KINDS,
    NUMBERS,
    CaptionsSampleParams,
    Scene,
    describe,
    random_scene,
    render,
    write_sample,
)

PARAMS = CaptionsSampleParams(images=20, width=96, height=80)
IMAGES, TEXT = "Flicker8k_Dataset", "Flickr8k_text"
TOKEN = re.compile(r"(?P<name>[^#\t]+)#(?P<k>\d)\t(?P<caption>[^\t]+)")
ID = re.compile(r"\d{10}_[0-9a-f]{10}\.jpg")


def _write(folder: Path, params: CaptionsSampleParams = PARAMS, seed: int = 3) -> Path:
    folder.mkdir(parents=True)
    write_sample(folder, params, seed)
    return folder


@pytest.fixture(scope="module")
def flickr(tmp_path_factory) -> Path:
    return _write(tmp_path_factory.mktemp("captions") / "sample")


def _tokens(flickr: Path) -> dict[str, list[tuple[int, str]]]:
    """(k, caption) per name, in file order; every line must parse."""
    text = (flickr / TEXT / "Flickr8k.token.txt").read_text(encoding="utf-8")
    assert text.endswith("\n") and "\r" not in text
    tokens: dict[str, list[tuple[int, str]]] = {}
    for line in text.splitlines():
        match = TOKEN.fullmatch(line)
        assert match, line
        tokens.setdefault(match["name"], []).append((int(match["k"]), match["caption"]))
    return tokens


def _splits(flickr: Path) -> dict[str, list[str]]:
    return {
        name: (flickr / TEXT / f"Flickr_8k.{name}Images.txt").read_text().splitlines()
        for name in ("train", "dev", "test")
    }


def test_official_names_and_decodable_images(flickr):
    assert sorted(p.name for p in flickr.iterdir()) == [IMAGES, TEXT]
    assert sorted(p.name for p in (flickr / TEXT).iterdir()) == [
        "Flickr8k.token.txt",
        "Flickr_8k.devImages.txt",
        "Flickr_8k.testImages.txt",
        "Flickr_8k.trainImages.txt",
    ]
    images = sorted((flickr / IMAGES).iterdir())
    assert len(images) == PARAMS.images
    for path in images:
        assert ID.fullmatch(path.name), path.name
        assert cv2.imread(str(path)).shape == (PARAMS.height, PARAMS.width, 3)


def test_every_image_has_five_captions_flickr_style(flickr):
    tokens = _tokens(flickr)
    for path in (flickr / IMAGES).iterdir():
        assert [k for k, _ in tokens[path.name]] == [0, 1, 2, 3, 4]
        captions = [caption for _, caption in tokens[path.name]]
        assert len(set(captions)) == 5
        for caption in captions:
            assert caption == caption.strip() and "  " not in caption
            assert 4 <= len(caption.removesuffix(" .").split()) <= 15, caption


def test_splits_are_disjoint_cover_every_image_and_follow_the_fractions(flickr):
    splits = _splits(flickr)
    on_disk = {p.name for p in (flickr / IMAGES).iterdir()}
    assert sum(len(names) for names in splits.values()) == len(on_disk)
    assert set().union(*splits.values()) == on_disk
    assert len(splits["dev"]) == round(PARAMS.images * PARAMS.dev_fraction)
    assert len(splits["test"]) == round(PARAMS.images * PARAMS.test_fraction)


def test_like_the_real_file_one_token_entry_has_no_image(flickr):
    tokens = _tokens(flickr)
    on_disk = {p.name for p in (flickr / IMAGES).iterdir()}
    [dangling] = set(tokens) - on_disk
    assert ID.fullmatch(dangling.removesuffix(".1")) and dangling.endswith(".jpg.1")
    assert len(tokens[dangling]) == 5
    assert all(dangling not in names for names in _splits(flickr).values())


def test_fractions_that_leave_no_training_image_are_refused(tmp_path):
    params = CaptionsSampleParams(images=4, dev_fraction=0.5, test_fraction=0.5)
    with pytest.raises(ValueError, match="no training image"):
        _write(tmp_path / "sample", params)


def _words(caption: str) -> list[str]:
    return caption.lower().removesuffix(" .").split()


def _check_caption(scene: Scene, caption: str) -> None:
    """Every group named with its count, colour and kind; nothing named that is not there."""
    words = _words(caption)
    groups = scene.groups
    assert {w for w in words if w in COLOURS} == {g.colour for g in groups}, caption
    assert {w for w in words if w in BACKGROUNDS} <= {scene.background}, caption
    for kind in KINDS:  # singular iff a single object of the kind, plural iff several
        assert (kind in words) == any(g.kind == kind and g.count == 1 for g in groups), caption
        assert (f"{kind}s" in words) == any(g.kind == kind and g.count > 1 for g in groups)
    for count, number in NUMBERS.items():
        assert (number in words) == any(g.count == count for g in groups), caption
    if "small" in words:
        assert any(not g.large for g in groups), caption
    if {"large", "big"} & set(words):
        assert any(g.large for g in groups), caption
    for region in ("left", "right", "top", "bottom", "middle"):
        if region in words:
            assert any(g.region == region for g in groups), caption
    for word, region in (("above", "top"), ("below", "bottom")):
        if word in words:  # the group named before the word is the one in `region`
            before = words[: words.index(word)]
            [first] = [g for g in groups if g.colour in before and g.kind in _nouns(before)]
            assert first.region == region, caption


def _nouns(words: list[str]) -> set[str]:
    return {w.removesuffix("s") for w in words}


def test_captions_name_exactly_what_is_in_the_scene():
    rng = np.random.default_rng(0)
    vocabulary: set[str] = set()
    for _ in range(500):
        scene = random_scene(rng)
        captions = describe(scene, rng)
        assert len(set(captions)) == 5
        for caption in captions:
            _check_caption(scene, caption)
            vocabulary |= set(_words(caption))
    assert len(vocabulary) <= 80, sorted(vocabulary)


def test_small_vocabulary_whose_every_word_recurs_and_no_dominant_caption():
    rng = np.random.default_rng(1)
    captions = [" ".join(_words(c)) for _ in range(400) for c in describe(random_scene(rng), rng)]
    words, counts = np.unique(" ".join(captions).split(), return_counts=True)
    assert 30 <= len(words) <= 80, words
    assert counts.min() >= 20, dict(zip(words, counts, strict=True))
    assert np.unique(captions, return_counts=True)[1].max() <= 0.02 * len(captions)


def test_pictures_show_each_group_in_its_region_with_its_count():
    """Pixels near a group's colour form `count` blobs whose centre is in the named region."""
    rng = np.random.default_rng(2)
    width, height = 128, 112
    checked = 0
    while checked < 60:
        scene = random_scene(rng)
        picture = render(scene, width, height, rng).astype(np.float32)
        colours = [g.colour for g in scene.groups]
        for group in scene.groups:
            if colours.count(group.colour) > 1:
                continue
            distance = np.linalg.norm(picture - np.array(COLOURS[group.colour]), axis=2)
            mask = (distance < 60).astype(np.uint8)
            _, _, stats, centres = cv2.connectedComponentsWithStats(mask)
            blobs = centres[1:][stats[1:, cv2.CC_STAT_AREA] >= 4]
            assert len(blobs) == group.count, (scene, len(blobs))
            x, y = blobs.mean(axis=0) / (width, height)
            inside = {
                "left": x < 0.4,
                "right": x > 0.6,
                "top": y < 0.4,
                "bottom": y > 0.6,
                "middle": 0.4 < x < 0.6 and 0.4 < y < 0.6,
            }
            assert inside[group.region], (group, x, y)
            checked += 1


def test_same_seed_same_bytes_other_seed_other_data(tmp_path):
    params = CaptionsSampleParams(images=4, width=64, height=64)
    runs = {
        name: _write(tmp_path / name, params, seed) for name, seed in (("a", 5), ("b", 5), ("c", 6))
    }

    def contents(folder: Path) -> dict[str, bytes]:
        return {
            str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()
        }

    assert contents(runs["a"]) == contents(runs["b"])
    other = contents(runs["c"])
    assert set(other) != set(contents(runs["a"]))
    token = f"{TEXT}/Flickr8k.token.txt"
    assert other[token] != contents(runs["a"])[token]
