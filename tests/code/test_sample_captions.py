"""The captions sample has the Flickr8k layout and captions true to each picture."""

import cv2
import numpy as np
import pytest

from pipeline.tasks.captions.params import CaptionsSampleParams
from pipeline.tasks.captions.sample import COLOURS, KINDS, describe, random_scene, write_sample


@pytest.fixture(scope="module")
def flickr(tmp_path_factory):
    out = tmp_path_factory.mktemp("captions")
    write_sample(out, CaptionsSampleParams(images=20, width=96, height=96), seed=3)
    return out


def test_official_names_and_five_captions_per_image(flickr):
    images = sorted(p.name for p in (flickr / "Flicker8k_Dataset").iterdir())
    assert len(images) == 20
    assert cv2.imread(str(flickr / "Flicker8k_Dataset" / images[0])).shape == (96, 96, 3)
    lines = (flickr / "Flickr8k_text" / "Flickr8k.token.txt").read_text().splitlines()
    for image in images:
        keys = [line.split("\t")[0] for line in lines if line.startswith(f"{image}#")]
        assert keys == [f"{image}#{k}" for k in range(5)]


def test_split_files_are_disjoint_and_cover_every_image(flickr):
    text = flickr / "Flickr8k_text"
    splits = [
        set((text / f"Flickr_8k.{name}Images.txt").read_text().split())
        for name in ("train", "dev", "test")
    ]
    assert sum(len(s) for s in splits) == len(set().union(*splits)) == 20
    assert all(splits)


def test_like_the_real_file_one_token_id_has_no_image(flickr):
    lines = (flickr / "Flickr8k_text" / "Flickr8k.token.txt").read_text().splitlines()
    ids = {line.split("#")[0] for line in lines}
    on_disk = {p.name for p in (flickr / "Flicker8k_Dataset").iterdir()}
    assert len(ids - on_disk) == 1 and next(iter(ids - on_disk)).endswith(".jpg.1")


def test_captions_only_name_colours_and_kinds_in_the_scene():
    rng = np.random.default_rng(0)
    for _ in range(200):
        scene = random_scene(rng)
        present = {g.colour for g in scene} | {g.kind for g in scene}
        for caption in describe(scene, rng):
            words = {w.rstrip("s") for w in caption.lower().split()}
            named = words & (set(COLOURS) | set(KINDS))
            assert named <= present, (caption, scene)
            assert scene[0].colour in words and scene[0].kind in words


def test_same_seed_same_bytes(tmp_path):
    params = CaptionsSampleParams(images=3, width=64, height=64)
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        (tmp_path / name).mkdir()
        write_sample(tmp_path / name, params, seed)
    token = "Flickr8k_text/Flickr8k.token.txt"
    assert (tmp_path / "a" / token).read_bytes() == (tmp_path / "b" / token).read_bytes()
    assert (tmp_path / "a" / token).read_bytes() != (tmp_path / "c" / token).read_bytes()
